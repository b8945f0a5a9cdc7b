"""The console adapter end to end, through the real `dxbot` console script in a subprocess:
`dxbot chat --script FILE` replays a transcript, and `dxbot run` with piped input (not a
terminal) reads lines until end of input and exits 0 — the newcomer's first experience."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ENV_KEYS

_beside = Path(sys.executable).parent / "dxbot"
DXBOT = str(_beside) if _beside.exists() else (shutil.which("dxbot") or "dxbot")

SCRIPT = """\
# a demo transcript: who says what
officer1: こんにちは
officer1: /dx help

staff1: /dx help
staff1: /dx due 2026-12-25
expert1: /dx due 2026-09-18
officer1: /dx due 2026-12-25
officer1: /dx match SAI-2026-0001
"""


def run_dxbot(
    args: list[str], cwd: Path, *, stdin: str = "", database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env["PYTHONIOENCODING"] = "utf-8"
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [DXBOT, *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def turns(stdout: str) -> list[tuple[str, str, str]]:
    """Split a transcript into (speaker, what they said, the bot's answer)."""
    out: list[tuple[str, str, str]] = []
    for block in re.split(r"^(?=(?!bot> )[\w.-]+> )", stdout, flags=re.M):
        if not block.strip():
            continue
        head, _, rest = block.partition("\n")
        who, _, said = head.partition("> ")
        out.append((who, said, rest))
    return out


def test_chat_script_end_to_end(tmp_path: Path) -> None:
    script = tmp_path / "demo.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    db = tmp_path / "chat.db"

    proc = run_dxbot(
        ["chat", "--script", str(script), "--now", "2026-11-16T10:00"],
        tmp_path,
        database_url=f"sqlite+aiosqlite:///{db}",
    )

    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    transcript = turns(proc.stdout)
    assert [(who, text) for who, text, _ in transcript] == [
        ("officer1", "こんにちは"),
        ("officer1", "/dx help"),
        ("staff1", "/dx help"),
        ("staff1", "/dx due 2026-12-25"),
        ("expert1", "/dx due 2026-09-18"),
        ("officer1", "/dx due 2026-12-25"),
        ("officer1", "/dx match SAI-2026-0001"),
    ]
    greeting, officer_help, staff_help, staff_due, expert_due, officer_due, officer_match = (
        reply for _, _, reply in transcript
    )
    assert greeting.startswith("bot> こんにちは、山田 花子さん。")
    assert "相談窓口ボット" in greeting
    assert "市町村職員としてできること" in officer_help and "相談の申し込み" in officer_help
    assert "・マッチング:" not in officer_help
    assert "事務局としてできること" in staff_help and "・マッチング:" in staff_help
    assert "アンケートへの回答" not in staff_help
    assert "2027年1月7日(木)" in staff_due
    assert "2026年12月25日(金)" in staff_due
    assert "2026年9月30日(水)" in expert_due  # 9/19-9/23: weekend and three holidays
    assert "2027年1月7日(木)" in officer_due  # 開庁日 are for everyone
    assert "権限" in officer_match and "候補" not in officer_match  # matching is staff's
    assert db.exists()


def test_run_reads_piped_input_until_eof(tmp_path: Path) -> None:
    """No chat platform configured and no DATABASE_URL: the embedded default just works."""
    proc = run_dxbot(
        ["run"],
        tmp_path,
        stdin="こんにちは\n/dx help\n/as staff1\n/dx help\n",
    )

    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    assert "DX相談窓口ボット（コンソール）" in out
    assert out.count("こんにちは、山田 花子さん。") >= 1
    assert "市町村職員としてできること" in out
    assert "事務局としてできること" in out  # after switching identity to staff1
    assert out.index("市町村職員としてできること") < out.index("事務局としてできること")
    assert (tmp_path / "data" / "dxbot.db").exists()  # DATABASE_URL's documented default
