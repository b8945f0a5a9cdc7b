"""The `dxbot` console script, run for real in subprocesses (the interface contract in
ARCHITECTURE.md): set-up, people, the expert roster, the 開庁日 calendar, and bad input — each
refused with one English sentence, a non-zero exit, no traceback and nothing half-written."""

from __future__ import annotations

import argparse
import asyncio
import csv
import inspect
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import ENV_KEYS, _pg_admin

_beside = Path(sys.executable).parent / "dxbot"
DXBOT = str(_beside) if _beside.exists() else (shutil.which("dxbot") or "dxbot")

EXPERT_HEADER = "platform_id,name,domains,qualifications,onsite,region,consent\n"


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return (
            f"dxbot {' '.join(self.args)} -> {self.returncode}\n"
            f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"
        )


def dxbot(database_url: str | None, *args: str, cwd: Path) -> Run:
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env["PYTHONIOENCODING"] = "utf-8"
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    proc = subprocess.run(
        [DXBOT, *args],
        cwd=cwd,
        env=env,
        input="",
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    return Run(tuple(args), proc.returncode, proc.stdout, proc.stderr)


def ok(run: Run) -> Run:
    assert run.returncode == 0, str(run)
    assert "Traceback" not in run.stderr, str(run)
    return run


def refused(run: Run, *words: str, usage: bool = False) -> str:
    """Non-zero, no traceback, and exactly one English sentence saying what is wrong."""
    assert run.returncode != 0, str(run)
    assert "Traceback" not in run.stderr + run.stdout, str(run)
    lines = [ln for ln in run.stderr.strip().splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error:" in ln]
    assert len(errors) == 1, str(run)
    if usage:  # argparse shows its usage lines before the one error line
        assert lines[-1] == errors[0], str(run)
    else:
        assert lines == errors, str(run)
        assert lines[0].startswith("error: ") and lines[0].rstrip().endswith("."), str(run)
    sentence = errors[0].split("error:", 1)[1].strip()
    assert sum(c.isascii() and c.isalpha() for c in sentence) >= 15, str(run)  # English words
    for w in words:
        assert w in sentence, f"{w!r} not in {sentence!r}\n{run}"
    return sentence


def table(run: Run) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(run.stdout), delimiter="\t"))


# --- databases ---------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def cli_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for the command line: a new SQLite file or PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'cli' / 'dxbot.db'}"
        return
    # Skipped locally / failed in CI when no PostgreSQL can be had; else the session's server.
    server_url: str = request.getfixturevalue("pg_url")
    name = f"dxbot_cli_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# --- set-up and people ------------------------------------------------------------------------


def side_by_side(*calls: tuple[str | None, tuple[str, ...]], cwd: Path) -> list[Run]:
    """Independent commands at once (as several terminals or cron jobs would run them)."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda c: dxbot(c[0], *c[1], cwd=cwd), calls))


def _write_csv(path: Path, rows: str, encoding: str) -> Path:
    path.write_bytes((EXPERT_HEADER + rows).encode(encoding))
    return path


EXPERTS_EXPECTED = [
    ("E1", "田中 誠", "BPRの取組の徹底;ICT-BCP", "ITコーディネータ", "yes", "県内", "yes"),
    ("E2", "伊藤 由美", "テレワークの推進", "応用情報技術者", "no", "オンラインのみ", "no"),
    (
        "E3",
        "佐藤 一郎",
        "自治体フロントヤード改革;デジタルデバイド対策",
        "ITコーディネータ",
        "yes",
        "県北",
        "yes",
    ),
]
EXPERT_COLUMNS = ("platform_id", "name", "domains", "qualifications", "onsite", "region", "consent")


def test_upgrade_seed_users_and_experts(cli_url: str, tmp_path: Path) -> None:
    if cli_url.startswith("postgresql"):
        # Not the embedded database: a deploy step owns migrations, and the CLI says so.
        refused(dxbot(cli_url, "users", "list", cwd=tmp_path), "dxbot db upgrade")

    assert "latest schema" in ok(dxbot(cli_url, "db", "upgrade", cwd=tmp_path)).stdout
    seeded = ok(dxbot(cli_url, "seed", "--program", "kumamoto-2026", cwd=tmp_path))
    assert "kumamoto-2026" in seeded.stdout
    assert "45 municipalities" in seeded.stdout

    bom = _write_csv(
        tmp_path / "roster.csv",
        "E1,田中 誠,BPRの取組の徹底;ICT-BCP,ITコーディネータ,はい,県内,yes\n"
        "E2,伊藤 由美,テレワークの推進,応用情報技術者,no,オンラインのみ,no\n",
        "utf-8-sig",
    )
    sjis = _write_csv(  # saved by Japanese Excel
        tmp_path / "excel.csv",
        "E3,佐藤 一郎,自治体フロントヤード改革、デジタルデバイド対策,ITコーディネータ,可,県北,はい\n",
        "cp932",
    )
    officer = ("--program", "kumamoto-2026", "--role", "officer", "--name", "山田 花子")
    officer = (*officer, "--municipality")
    runs = side_by_side(
        (cli_url, ("users", "add", "U123", *officer, "熊本市")),
        (cli_url, ("users", "add", "U124", *officer, "431001")),
        (cli_url, ("users", "add", "U125", *officer, "43100")),
        (cli_url, ("users", "add", "U200", "--role", "staff", "--name", "佐藤 美咲")),
        (cli_url, ("experts", "import", str(bom))),
        (cli_url, ("experts", "import", str(sjis))),
        cwd=tmp_path,
    )
    for run in runs:
        ok(run)
    assert "U123" in runs[0].stdout
    assert "Imported 2 experts" in runs[4].stdout
    assert "Imported 1 experts" in runs[5].stdout

    assert "U200" in ok(dxbot(cli_url, "users", "remove", "U200", cwd=tmp_path)).stdout

    users_list, experts_list = side_by_side(
        (cli_url, ("users", "list")), (cli_url, ("experts", "list")), cwd=tmp_path
    )
    listed = table(ok(users_list))
    assert [(r["platform_id"], r["role"], r["municipality"]) for r in listed] == [
        ("E1", "expert", ""),  # an expert is also a user
        ("E2", "expert", ""),
        ("E3", "expert", ""),
        ("U123", "officer", "熊本市"),  # by name
        ("U124", "officer", "熊本市"),  # by 6-digit code
        ("U125", "officer", "熊本市"),  # by 5-digit code
    ]  # U200 was removed
    assert {r["name"] for r in listed if r["role"] == "officer"} == {"山田 花子"}
    roster = [tuple(r[c] for c in EXPERT_COLUMNS) for r in table(ok(experts_list))]
    assert roster == EXPERTS_EXPECTED


def test_users_add_refuses_a_municipality_outside_the_programs_prefecture(
    cli_url: str, tmp_path: Path
) -> None:
    """Only the program's prefecture is seeded, yet a municipality of any other prefecture is
    named with its code and prefecture (from the package data), not called unknown."""
    ok(dxbot(cli_url, "db", "upgrade", cwd=tmp_path))
    for program in ("saitama-2026", "nagano-2024"):
        ok(dxbot(cli_url, "seed", "--program", program, cwd=tmp_path))

    def add(uid: str, program: str, municipality: str) -> tuple[str | None, tuple[str, ...]]:
        args = ("users", "add", uid, "--role", "officer", "--program", program)
        return (cli_url, (*args, "--municipality", municipality))

    tottori = "鳥取市 (312011) is in 鳥取県, not in 埼玉県, the prefecture of program saitama-2026."
    runs = side_by_side(
        add("U1", "saitama-2026", "鳥取市"),
        add("U2", "saitama-2026", "31201"),  # the 5-digit code
        add("U3", "saitama-2026", "松本市"),  # seeded, for the other program
        add("U4", "nagano-2024", "府中市"),  # 東京都 and 広島県 both have one
        add("U5", "nagano-2024", "松川"),  # 松川町 and 松川村, both in 長野県
        add("U6", "saitama-2026", "川口市"),
        add("U7", "nagano-2024", "202029"),
        cwd=tmp_path,
    )
    assert refused(runs[0]) == tottori
    assert refused(runs[1]) == tottori
    assert refused(runs[2]) == (
        "松本市 (202029) is in 長野県, not in 埼玉県, the prefecture of program saitama-2026."
    )
    assert refused(runs[3]) == (
        "'府中市' is 府中市 (132063) in 東京都 or 府中市 (342084) in 広島県, not in 長野県, "
        "the prefecture of program nagano-2024."
    )
    assert refused(runs[4]) == (
        "'松川' matches several municipalities: 長野県松川町 (204021), "
        "長野県松川村 (204820); give the code."
    )
    ok(runs[5])
    ok(runs[6])
    listed = table(ok(dxbot(cli_url, "users", "list", cwd=tmp_path)))
    assert [(r["platform_id"], r["municipality"]) for r in listed] == [
        ("U6", "川口市"),
        ("U7", "松本市"),
    ]


# --- the 開庁日 calendar ------------------------------------------------------------------------


def test_calendar_due_through_the_console_script(tmp_path: Path) -> None:
    run = ok(dxbot(None, "calendar", "due", "2026-12-25", cwd=tmp_path))
    assert run.stdout.split() == ["2027-01-07"]  # 12/29-1/3 are closed
    assert not (tmp_path / "data").exists(), "a calendar question created a database"


def main_in_process(args: tuple[str, ...], capsys: pytest.CaptureFixture[str], **env: str) -> Run:
    """``bot.cli.main`` (the console script's entry point) in this process: a traceback is
    caught and reported on stderr, exactly as the script would show it."""
    import logging
    import traceback

    from bot.cli import main

    mp = pytest.MonkeyPatch()
    for key, value in env.items():
        mp.setenv(key, value)
    root = logging.getLogger()
    level = root.level
    trace = ""
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        code, trace = 1, traceback.format_exc()
    finally:
        mp.undo()
        # main() configured logging onto the captured stderr: undo it
        for h in [h for h in root.handlers if getattr(h, "_dxbot", False)]:
            root.removeHandler(h)
        root.setLevel(level)
    out = capsys.readouterr()
    return Run(args, code, out.out, out.err + trace)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("calendar", "due", "2026-12-25"), ["2027-01-07"]),
        (("calendar", "due", "2026-09-18", "--days", "1"), ["2026-09-24"]),
        (
            ("calendar", "open-days", "2026-09-18", "2026-09-25"),
            ["2026-09-18", "2026-09-24", "2026-09-25"],
        ),
        (("calendar", "due", "2026-09-18"), ["2026-09-30"]),
        (("calendar", "due", "2026-12-25", "--program", "kumamoto-2026"), ["2027-01-07"]),
    ],
    ids=["due-over-new-year", "due-over-silver-week", "open-days", "default-days", "program"],
)
def test_calendar(
    args: tuple[str, ...], expected: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert ok(main_in_process(args, capsys)).stdout.split() == expected


# --- the argument tree -----------------------------------------------------------------------

COMMANDS = (
    "run chat serve db seed users experts remind sessions calendar programs status export deck plan"
    " events deliverables archive erase audit web queue"
).split()
# What `dxbot --help` must not wait for: each is imported by the command that uses it.
HEAVY = (
    "sqlalchemy",
    "alembic",
    "pydantic",
    "pydantic_settings",
    "yaml",
    "slack_bolt",
    "aiohttp",
    "openai",
    "pptx",
    "openpyxl",
    "holidays",
    "store.models",
    "store.reference",  # the municipalities of 47 prefectures are read by the command needing them
    "bot.app",
)
HELP_PROBE = """
import sys
from bot.cli import main
try:
    main(["--help"])
except SystemExit as exc:
    print("exit", exc.code)
print("loaded", *[m for m in sys.argv[1:] if m in sys.modules])
"""


def test_help_lists_every_command_without_loading_the_store_or_any_platform(
    tmp_path: Path,
) -> None:
    """`dxbot --help` answers at once: the libraries a command needs load with that command."""
    run = ok(dxbot(None, "--help", cwd=tmp_path))
    listed = run.stdout.split("{", 1)[1].split("}", 1)[0].split(",")
    assert listed == COMMANDS

    probe = subprocess.run(
        [sys.executable, "-c", HELP_PROBE, *HEAVY],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.splitlines()[-2:] == ["exit 0", "loaded"], probe.stdout + probe.stderr


def _leaves(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield parser
    for action in subs:
        for child in action.choices.values():
            yield from _leaves(child)


def test_every_command_names_a_coroutine_that_exists() -> None:
    """Commands are named as "module:function" so that --help imports nothing heavy; a typo
    there would only show when someone runs the command."""
    from bot.cli import build_parser
    from bot.cli_common import resolve

    handlers = [leaf.get_default("handler") for leaf in _leaves(build_parser())]
    # with sessions cancel/move, programs list/check, plan, events add/list, deliverables list/done,
    # archive verify, erase, audit, web link, queue (a command with sub-commands counts by its
    # leaves: archive and web themselves are not walked)
    assert len(handlers) == 31
    for handler in handlers:
        assert inspect.iscoroutinefunction(resolve(handler)), handler


def test_choices_offered_before_the_store_loads_are_the_stores() -> None:
    from bot import cli
    from store import users

    assert cli.ROLES == users.ROLES
    assert cli.PLATFORMS == users.PLATFORMS
    from typing import get_args

    from store.profiles import Method

    assert sorted(cli.METHODS) == sorted(get_args(Method))  # every method a track may list
    shipped = ["kumamoto-2026", "miyazaki-2025", "nagano-2024", "saitama-2026", "yamagata-2026"]
    assert cli.program_ids() == shipped


# --- bad input --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    args: tuple[str, ...]
    words: tuple[str, ...]
    url: str = "seeded"  # "seeded": the prepared database; otherwise DATABASE_URL itself
    usage: bool = False
    env: tuple[tuple[str, str], ...] = ()


UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/x"

# Run through the real console script, side by side.
BAD: dict[str, Bad] = {
    "database-url-nonsense": Bad(("users", "list"), ("DATABASE_URL", "nonsense"), url="nonsense"),
    "postgresql-unreachable": Bad(
        ("db", "upgrade"), ("PostgreSQL", "127.0.0.1:1"), url=UNREACHABLE
    ),
    # Checked by the command, not argparse choices: a DXBOT_PROFILES_DIR profile is as good.
    "unknown-program": Bad(
        ("seed", "--program", "nope"), ("Unknown program 'nope'", "Known programs", "kumamoto-2026")
    ),
    "chat-as-unknown-user": Bad(
        ("chat", "--program", "kumamoto-2026", "--as", "nobody"), ("nobody",)
    ),
    "experts-bad-row-in-the-middle": Bad(("experts", "import", "middle.csv"), ("Line 3", "maybe")),
}

# The rest through ``bot.cli.main`` in this process (the console script's entry point; starting
# a process costs well over a second here, and the suite has to stay fast).
MORE_BAD: dict[str, Bad] = {
    "officer-without-municipality": Bad(
        ("users", "add", "X", "--role", "officer"), ("municipality",)
    ),
    "unknown-municipality": Bad(
        ("users", "add", "X", "--role", "officer", "--municipality", "存在しない市"),
        ("存在しない市",),
    ),
    "municipality-of-another-prefecture": Bad(  # the program is DXBOT_PROGRAM's: Saitama
        ("users", "add", "X", "--role", "officer", "--municipality", "熊本市"),
        ("熊本市 (431001) is in 熊本県, not in 埼玉県, the prefecture of program saitama-2026.",),
    ),
    "duplicate-user": Bad(("users", "add", "DUP", "--role", "admin"), ("DUP", "already exists")),
    "invalid-platform-id": Bad(("users", "add", "A B", "--role", "staff"), ("A B",)),
    "unknown-role": Bad(("users", "add", "X", "--role", "mayor"), ("mayor",), usage=True),
    "remove-unknown-user": Bad(("users", "remove", "NOBODY"), ("NOBODY",)),
    "database-url-other-driver": Bad(
        ("db", "upgrade"), ("DATABASE_URL", "mysql"), url="mysql+pymysql://u@127.0.0.1/db"
    ),
    "postgresql-unreachable-seed": Bad(
        ("seed", "--program", "saitama-2026"), ("PostgreSQL", "127.0.0.1:1"), url=UNREACHABLE
    ),
    "postgresql-unreachable-users": Bad(("users", "list"), ("PostgreSQL",), url=UNREACHABLE),
    "postgresql-no-such-database": Bad(
        ("db", "upgrade"),
        ("PostgreSQL", "dxbot_no_such_database"),
        url="postgresql+asyncpg://postgres@127.0.0.1:5432/dxbot_no_such_database",
    ),
    "sqlite-directory-cannot-be-created": Bad(
        ("users", "list"), ("SQLite", "/proc/dxbot"), url="sqlite+aiosqlite:////proc/dxbot/x.db"
    ),
    "unknown-program-in-environment": Bad(
        ("calendar", "due", "2026-12-25"), ("nope",), env=(("DXBOT_PROGRAM", "nope"),)
    ),
    "invalid-setting": Bad(
        ("users", "list"),
        ("DXBOT_CONVERSATION_TTL_MINUTES",),
        env=(("DXBOT_CONVERSATION_TTL_MINUTES", "abc"),),
    ),
    "chat-script-missing": Bad(("chat", "--script", "no-such-script.txt"), ("no-such-script.txt",)),
    "chat-script-malformed": Bad(("chat", "--script", "malformed.txt"), ("line 1",)),
    "calendar-bad-date": Bad(("calendar", "due", "2026-13-45"), ("2026-13-45", "YYYY-MM-DD")),
    "calendar-zero-days": Bad(("calendar", "due", "2026-09-18", "--days", "0"), ("--days",)),
    "calendar-reversed": Bad(("calendar", "open-days", "2026-09-25", "2026-09-18"), ("before",)),
    "experts-missing-file": Bad(("experts", "import", "missing.csv"), ("missing.csv",)),
    "experts-missing-column": Bad(("experts", "import", "no-domains.csv"), ("domains",)),
    "experts-empty-id": Bad(("experts", "import", "empty-id.csv"), ("Line 2", "platform_id")),
    "experts-bad-row-in-the-middle": Bad(("experts", "import", "middle.csv"), ("Line 3", "maybe")),
    "experts-not-text": Bad(("experts", "import", "binary.csv"), ("binary.csv",)),
    "experts-unclosed-quote": Bad(("experts", "import", "quote.csv"), ("quote.csv", "quote")),
    "experts-extra-cells": Bad(("experts", "import", "wide.csv"), ("line 3", "9 cells", "7")),
    "experts-missing-cells": Bad(("experts", "import", "narrow.csv"), ("line 2", "2 cells", "7")),
}


def _prepare_inputs(cwd: Path) -> None:
    (cwd / "no-domains.csv").write_text("platform_id,name\nE9,名前\n", encoding="utf-8")
    (cwd / "empty-id.csv").write_text(
        EXPERT_HEADER + ",名無し,ICT-BCP,,yes,,yes\n", encoding="utf-8"
    )
    (cwd / "binary.csv").write_bytes(b"platform_id,name,domains\n\x81\xff\xfe,\x80\n")
    (cwd / "malformed.txt").write_text("no colon on this line\n", encoding="utf-8")
    (cwd / "quote.csv").write_text(EXPERT_HEADER + 'U0X,"unterminated,foo\n', encoding="utf-8")
    (cwd / "wide.csv").write_text(
        EXPERT_HEADER + "E7,A,ICT-BCP,,yes,,yes\nE8,B,ICT-BCP,,yes,,yes,extra,extra\n",
        encoding="utf-8",
    )
    (cwd / "narrow.csv").write_text(EXPERT_HEADER + "E9,B\n", encoding="utf-8")
    _write_csv(
        cwd / "middle.csv",
        "E4,中村 京子,ICT-BCP,,yes,,yes\nE5,小林 大輔,ICT-BCP,,maybe,,yes\nE6,加藤 直美,ICT-BCP,,yes,,yes\n",
        "utf-8",
    )


def _seed_sqlite(path: Path, *program_ids: str, users: tuple[str, ...] = ()) -> None:
    """Prepare a database in this process (quicker than `dxbot seed` in a subprocess)."""
    from store import users as user_store
    from store.db import Database
    from store.migrate import upgrade
    from store.profiles import load_profile
    from store.seed import seed_program
    from tests.conftest import DEFAULT_NOW

    async def prepare() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(db.engine)
            async with db.transaction() as s:
                for pid in program_ids:
                    await seed_program(s, load_profile(pid), DEFAULT_NOW)
                for pid in users:
                    await user_store.add(
                        s, platform="slack", platform_id=pid, role="staff", now=DEFAULT_NOW
                    )
        finally:
            await db.dispose()

    asyncio.run(prepare())


@dataclass
class Refusals:
    runs: dict[str, Run]
    before: dict[str, int]
    after: dict[str, int]
    db: Path


def _sqlite_counts(path: Path) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        names = [
            r[0]
            for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        ]
        return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        con.close()


@pytest.fixture(scope="module")
def refusals(tmp_path_factory: pytest.TempPathFactory) -> Refusals:
    """Seed one database, then run every bad command side by side (they are independent),
    noting what the database held before and after."""
    cwd = tmp_path_factory.mktemp("refusals")
    path = cwd / "seeded.db"
    url = f"sqlite+aiosqlite:///{path}"
    _seed_sqlite(path, "kumamoto-2026")
    _prepare_inputs(cwd)
    before = _sqlite_counts(path)

    def run(bad: Bad) -> Run:
        return dxbot(url if bad.url == "seeded" else bad.url, *bad.args, cwd=cwd)

    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = dict(zip(BAD, pool.map(run, BAD.values()), strict=True))
    return Refusals(runs, before, _sqlite_counts(path), path)


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_through_the_console_script(name: str, refusals: Refusals) -> None:
    bad = BAD[name]
    refused(refusals.runs[name], *bad.words, usage=bad.usage)


def test_bad_input_writes_nothing(refusals: Refusals) -> None:
    assert refusals.before["municipalities"] == 45
    assert refusals.after == refusals.before
    con = sqlite3.connect(refusals.db)
    try:
        ids = {r[0] for r in con.execute("SELECT platform_id FROM users")}
    finally:
        con.close()
    assert not ids & {"X", "E4", "E5", "E6"}


@pytest.fixture(scope="module")
def seeded_two_programs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inprocess") / "two.db"
    _seed_sqlite(path, "kumamoto-2026", "saitama-2026", users=("DUP",))
    return path


@pytest.mark.parametrize("name", list(MORE_BAD))
def test_bad_input(
    name: str, seeded_two_programs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = MORE_BAD[name]
    db = tmp_path / "db.sqlite"
    shutil.copy(seeded_two_programs, db)
    _prepare_inputs(tmp_path)  # the autouse fixture made tmp_path the working directory
    url = f"sqlite+aiosqlite:///{db}" if bad.url == "seeded" else bad.url
    before = _sqlite_counts(db)
    run = main_in_process(bad.args, capsys, DATABASE_URL=url, **dict(bad.env))
    refused(run, *bad.words, usage=bad.usage)
    assert _sqlite_counts(db) == before
