"""`dxbot deck` starts without what it does not use: no handler and no chat wiring (bot.app),
no Alembic when the schema is current, no openpyxl. Each cost a tenth of a second to most of a
second at every start (README, bench_deck); this fails when an import brings one back, naming
the module, rather than the command silently slowing down."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ENV_KEYS

UNWANTED = ("bot.app", "handlers", "alembic", "openpyxl")

CHECK = """
import sys
from bot.cli import main

code = main(sys.argv[1:])
loaded = sorted(
    m for m in sys.modules if any(m == u or m.startswith(u + ".") for u in {unwanted!r})
)
print("LOADED", " ".join(loaded))
sys.exit(code)
"""


def _python(args: list[str], database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )


def test_dxbot_deck_imports_no_handler_no_alembic_and_no_openpyxl(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'deck.db'}"
    seeded = _python(["-m", "bot.cli", "seed", "--demo"], url, tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    out = tmp_path / "completion.pptx"
    args = ["deck", "--kind", "completion", "--out", str(out)]
    done = _python(["-c", CHECK.format(unwanted=UNWANTED), *args], url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 0
    loaded = done.stdout.split("LOADED", 1)[1].split()
    assert loaded == [], f"dxbot deck imported {loaded}; import them lazily where they are used"
