"""Several programs in one deployment (issue 13, item 5), on SQLite and PostgreSQL.

Nagano's FY2024 program (term 2024-08-15 to 2025-03-14) beside Saitama's FY2026 (last day of
service 2027-03-19) in one database: each command is scoped by `--program` or by the person's
program; a person in both is asked which in the chat and the answer sticks; a program past its
last day of service refuses new cases and sessions, saying why, while a late report and the
status view still work; `dxbot run --program nagano-2024` opens Nagano on a clock inside its term.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import build_services
from bot.core.config import Settings
from bot.demo import add_people
from reminders.clock import JST, FixedClock
from store import users
from store.models import Case, User
from store.profiles import load_profile
from store.reference import loaded_municipalities
from store.rules import new_work_refusal
from store.seed import seed_program
from tests.conftest import ChatBot, RecordingSender
from tests.test_followup import answer_all
from tests.test_matching import _counts, _run
from tests.test_reminder_pass import book, jst, run
from tests.test_term import open_case

NOW = dt.datetime(2026, 11, 16, 10, 0, tzinfo=JST)  # Saitama runs; Nagano ended 2025-03-14
NAGANO_CITY = "202011"
NAGANO_ENDED_CASE = (
    "令和6年度の事業（デジタル・最先端技術活用推進事業業務）は2025年3月14日で終了しているため、"
    "新しい相談は受け付けていません。"
    "実施済みの支援の報告やアンケート、状況の確認は引き続きご利用いただけます。"
)
NAGANO_ENDED_SESSION = (
    "令和6年度の事業（デジタル・最先端技術活用推進事業業務）は2025年3月14日で終了しているため、"
    "新しい支援の登録はできません。"
    "実施済みの支援の報告やアンケート、状況の確認は引き続きご利用いただけます。"
)
SAITAMA_NAME = "令和8年度第2期埼玉県市町村DX推進支援業務"


@pytest.fixture
async def two(db_url: str) -> AsyncIterator[tuple[ChatBot, FixedClock]]:
    """The deployment runs Saitama (DXBOT_PROGRAM) and also holds Nagano; the demo people
    work in Saitama (no membership rows), and a Nagano officer works in Nagano only."""
    clock = FixedClock(NOW)
    settings = Settings(_env_file=None, DATABASE_URL=db_url, DXBOT_PROGRAM="saitama-2026")  # type: ignore[call-arg]
    services = build_services(settings, clock=clock)
    saitama, nagano = load_profile("saitama-2026"), load_profile("nagano-2024")
    async with services.db.transaction() as s:
        await seed_program(s, saitama, NOW)
        await seed_program(s, nagano, NOW)
        await add_people(s, await loaded_municipalities(s, "11"), NOW)
        officer = await users.add(
            s,
            platform="console",
            platform_id="nagano_officer",
            role="officer",
            now=NOW,
            municipality_code=NAGANO_CITY,
            name="小林 純",
        )
        await users.join_program(s, officer, "nagano-2024", NOW)
    yield ChatBot(services, RecordingSender()), clock
    await services.db.dispose()


async def _join(bot: ChatBot, platform_id: str, *program_ids: str) -> None:
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        user = await users.get_by_platform_id(s, "console", platform_id)
        assert user is not None
        for program_id in program_ids:
            await users.join_program(s, user, program_id, NOW)


# --- the rule alone ------------------------------------------------------------------------------


def test_a_program_is_open_for_new_work_to_its_last_day_of_service() -> None:
    nagano = load_profile("nagano-2024")
    last_day = dt.datetime(2025, 3, 14, 16, 0, tzinfo=JST)
    assert new_work_refusal(nagano, last_day, "case") is None
    refusal = new_work_refusal(nagano, last_day + dt.timedelta(hours=8), "session")
    assert refusal is not None and refusal.key == "program_ended_session"
    assert refusal.params["fiscal"] == "令和6年度"
    assert refusal.params["last"] == "2025年3月14日"
    # Saitama's last day of service (2027-03-19) ends it, not the contract end (2027-03-31).
    saitama = load_profile("saitama-2026")
    assert new_work_refusal(saitama, dt.datetime(2027, 3, 19, 17, tzinfo=JST), "case") is None
    after = new_work_refusal(saitama, dt.datetime(2027, 3, 22, 9, tzinfo=JST), "case")
    assert after is not None and after.params["fiscal"] == "令和8年度"


# --- the chat --------------------------------------------------------------------------------------


async def test_an_ended_program_refuses_new_cases_and_sessions_saying_why(
    two: tuple[ChatBot, FixedClock],
) -> None:
    bot, _ = two
    case_no = await open_case(
        bot, "nagano-2024", track="haken", municipality=NAGANO_CITY, expert="expert1",
        now=dt.datetime(2025, 2, 3, 9, tzinfo=JST),
    )  # fmt: skip
    before = await _counts(bot.services.db)  # type: ignore[attr-defined]

    # The Nagano officer works in Nagano only: never asked which program, refused at once.
    replies = await bot.say("nagano_officer", "電子申請について相談したい")
    assert [r.text for r in replies] == [NAGANO_ENDED_CASE]
    assert [r.text for r in await bot.say("nagano_officer", "/consult")] == [NAGANO_ENDED_CASE]

    # Staff in both programs choose Nagano, then try to book and to match.
    await _join(bot, "staff1", "saitama-2026", "nagano-2024")
    question = await bot.say("staff1", f"/dx schedule {case_no} 2025-03-13 10:00 2 onsite")
    assert question[0].text.startswith("複数の事業に登録されています。")
    assert [c.value for c in question[0].choices] == ["nagano-2024", "saitama-2026"]
    # The answer (its number) is taken, and the command typed before is run in Nagano.
    replies = await bot.say("staff1", "1")
    assert [r.text for r in replies] == [
        "デジタル・最先端技術活用推進事業業務（nagano-2024）のご用件として承ります。",
        NAGANO_ENDED_SESSION,
    ]
    assert [r.text for r in await bot.say("staff1", f"/dx match {case_no}")] == [
        NAGANO_ENDED_SESSION
    ]
    assert await _counts(bot.services.db) == {  # type: ignore[attr-defined]
        **before,
        "program_members": before["program_members"] + 2,
        "audit_log": before["audit_log"] + 2,  # the two memberships, audited
        "conversation_states": before["conversation_states"],
    }

    # The status view of the ended program still works, for staff and for its officer.
    (status,) = await bot.say("staff1", "/status")
    assert "デジタル・最先端技術活用推進事業業務" in status.text
    (own,) = await bot.say("nagano_officer", "/status")
    assert own.text.startswith("【長野市の相談状況】")


async def test_a_person_in_two_programs_is_asked_once_and_the_answer_sticks(
    two: tuple[ChatBot, FixedClock],
) -> None:
    bot, _ = two
    await _join(bot, "pref1", "saitama-2026", "nagano-2024")
    (question,) = await bot.say("pref1", "/status")
    assert [c.label for c in question.choices] == [
        "デジタル・最先端技術活用推進事業業務（nagano-2024）",
        f"{SAITAMA_NAME}（saitama-2026）",
    ]
    # Neither a number nor a label: asked to choose, nothing else done.
    (hint,) = await bot.say("pref1", "5")
    assert hint.text.startswith("1〜2の番号か")
    chosen, status = await bot.say("pref1", "saitama-2026")
    assert chosen.text == f"{SAITAMA_NAME}（saitama-2026）のご用件として承ります。"
    assert SAITAMA_NAME in status.text
    # The choice is kept: the next message is handled in Saitama straight away.
    (again,) = await bot.say("pref1", "/status")
    assert SAITAMA_NAME in again.text and not again.choices
    # `/dx program` forgets it; the next message asks again.
    (switched,) = await bot.say("pref1", "/dx program")
    assert switched.text.startswith("事業の選択を取り消しました。")
    (asked,) = await bot.say("pref1", "/status")
    assert len(asked.choices) == 2
    # A person in one program is told which one they work in.
    (only,) = await bot.say("officer1", "/dx program")
    assert only.text == f"ご利用いただける事業は{SAITAMA_NAME}（saitama-2026）のみです。"


async def test_after_the_last_day_of_service_a_late_report_still_goes_in(
    bot: ChatBot, clock: FixedClock
) -> None:
    """Saitama: a session on 2027-03-18, its report written on 2027-03-23, after the last day of
    service (2027-03-19): accepted, while a new consultation that day is refused."""
    await book(bot.services, "2027-03-18 14:00")
    await run(bot, clock, "2027-03-18 15:00")
    clock.set(jst("2027-03-23 10:00"))
    (refused,) = await bot.say("officer1", "相談したい")
    assert refused.text.startswith(f"令和8年度の事業（{SAITAMA_NAME}）は2027年3月19日で終了")
    intro, _question = await bot.say("expert1", "/report")
    assert "の支援実施報告を作成します" in intro.text
    await answer_all(bot)
    done = await bot.say("expert1", "1")
    assert done[0].text.endswith("の支援実施報告を提出しました（第1版）。ありがとうございました。")


# --- the command line ------------------------------------------------------------------------------


def _env(db_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "DXBOT_PROGRAM": "saitama-2026",
        "DXBOT_LOG_LEVEL": "WARNING",
    }


async def _dxbot(db_url: str, *args: str) -> tuple[int, str, str]:
    dxbot = str(Path(sys.executable).parent / "dxbot")
    return await _run([dxbot, *args], _env(db_url))


async def test_cli_commands_are_scoped_by_program(
    two: tuple[ChatBot, FixedClock], db_url: str, tmp_path: Path
) -> None:
    bot, _ = two
    case_no = await open_case(
        bot, "nagano-2024", track="haken", municipality=NAGANO_CITY, expert="expert1",
        now=dt.datetime(2025, 2, 3, 9, tzinfo=JST),
    )  # fmt: skip
    now = ["--now", "2026-11-16T10:00:00+09:00"]
    add = ["sessions", "add", "--case", case_no, "--expert", "expert1", "--start",
           "2025-03-13T10:00", "--hours", "2", "--method", "online"]  # fmt: skip
    # Without --program the case is not Saitama's; with it, the ended program says why.
    code, _, err = await _dxbot(db_url, *add, *now)
    assert (code, err) == (
        2,
        f"error: Case {case_no} does not exist in program saitama-2026; check the id or set "
        "DXBOT_PROGRAM.\n",
    )
    code, out, err = await _dxbot(db_url, *add, "--program", "nagano-2024", *now)
    assert (code, out, err) == (
        2,
        "",
        "error: Program nagano-2024 ended on 2025-03-14 (its last day of service); it takes no "
        "new sessions. Late reports, surveys, status, exports and decks still work.\n",
    )
    # Status and exports of the ended program still work.
    code, out, _ = await _dxbot(db_url, "status", "--program", "nagano-2024", "--json", *now)
    assert code == 0 and json.loads(out)["program"]["id"] == "nagano-2024"
    code, out, _ = await _dxbot(
        db_url, "export", "cases", "--format", "json", "--program", "nagano-2024", *now
    )
    assert code == 0 and [c["id"] for c in json.loads(out)] == [case_no]
    # One person added to both programs: asked which in the chat (above).
    code, out, _ = await _dxbot(
        db_url, "users", "add", "U0STAFF9", "--role", "staff", "--program", "saitama-2026"
    )
    assert (code, out) == (0, "Added U0STAFF9 (slack) as staff in program saitama-2026.\n")
    code, out, _ = await _dxbot(
        db_url, "users", "add", "U0STAFF9", "--role", "staff", "--program", "nagano-2024"
    )
    assert (code, out) == (0, "Added U0STAFF9 (slack) to program nagano-2024.\n")
    roster = tmp_path / "nagano.csv"
    roster.write_text(
        "platform_id,name,domains\nU0EXPNAG,中村 健,BPRの取組の徹底\n", encoding="utf-8"
    )
    code, out, _ = await _dxbot(
        db_url, "experts", "import", str(roster), "--program", "nagano-2024"
    )
    assert (code, out) == (0, f"Imported 1 experts from {roster}.\n")
    # Who works in Nagano: its officer, the staff member added to it, the imported expert.
    code, out, _ = await _dxbot(db_url, "users", "list", "--program", "nagano-2024")
    assert (code, out.splitlines()) == (
        0,
        [
            "platform_id\tplatform\trole\tname\ttitle\tmunicipality",
            "U0EXPNAG\tslack\texpert\t中村 健\t\t",
            "nagano_officer\tconsole\tofficer\t小林 純\t\t長野市",
            "U0STAFF9\tslack\tstaff\t\t\t",
        ],
    )
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        user = await s.scalar(select(User).where(User.platform_id == "U0STAFF9"))
        assert user is not None
        assert [m.program_id for m in await users.memberships(s, user.id)] == [
            "nagano-2024",
            "saitama-2026",
        ]
        assert (await s.scalar(select(Case.program_id).where(Case.case_no == case_no))) == (
            "nagano-2024"
        )


async def test_status_as_a_person_shows_their_own_program_without_program(
    two: tuple[ChatBot, FixedClock], db_url: str
) -> None:
    """`dxbot status --as X` shows what X sees in the chat: X's program, not DXBOT_PROGRAM's."""
    bot, _ = two
    now = ["--now", "2026-11-16T10:00:00+09:00"]
    code, out, err = await _dxbot(db_url, "status", "--as", "nagano_officer", "--json", *now)
    assert (code, err) == (0, "")
    assert json.loads(out)["program"]["id"] == "nagano-2024"
    # A person of no membership works in the configured program, as before.
    code, out, _ = await _dxbot(db_url, "status", "--as", "staff1", "--json", *now)
    assert code == 0 and json.loads(out)["program"]["id"] == "saitama-2026"
    # A person in two programs who has not chosen must say which; --program answers it.
    await _join(bot, "pref1", "saitama-2026", "nagano-2024")
    code, out, err = await _dxbot(db_url, "status", "--as", "pref1", *now)
    assert (code, out) == (2, "")
    assert err == (
        "error: pref1 works in several programs (nagano-2024, saitama-2026); say which with "
        "--program ID.\n"
    )
    code, out, _ = await _dxbot(
        db_url, "status", "--as", "pref1", "--program", "nagano-2024", "--json", *now
    )
    assert code == 0 and json.loads(out)["program"]["id"] == "nagano-2024"


async def test_dxbot_run_opens_an_ended_program_inside_its_term(tmp_path: Path) -> None:
    """A new database: `dxbot run --program nagano-2024` seeds Nagano with its demo people and
    runs on 2025-03-14 (a Friday, its last day) at 10:00; the banner names the program and
    the date."""
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    script = tmp_path / "lines.txt"
    script.write_text("/status\n", encoding="utf-8")
    dxbot = str(Path(sys.executable).parent / "dxbot")
    with script.open("rb") as stdin:
        import asyncio

        proc = await asyncio.create_subprocess_exec(
            dxbot, "run", "--program", "nagano-2024", "--files-dir", str(tmp_path),
            env=_env(db_url), stdin=stdin, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert (proc.returncode, err.decode()) == (0, "")
    lines = out.decode().splitlines()
    assert lines[0] == (
        "DX相談窓口ボット（コンソール）— プログラム: "
        "デジタル・最先端技術活用推進事業業務（nagano-2024）"
    )
    assert lines[2] == (
        "この事業は2025年3月14日(金)で終了しています。すべての操作を試せるよう、"
        "このコンソールの時計は事業期間内の2025年3月14日(金) 10:00に設定しています。"
    )
    assert "【長野市の相談状況】2025年3月14日(金)時点" in out.decode()


async def test_the_reminder_pass_covers_every_program_still_running(
    two: tuple[ChatBot, FixedClock], db_url: str
) -> None:
    """Saitama (configured) and Kumamoto run, Nagano has ended: a session of each running
    program ending at 15:00 is marked ended by one pass; Nagano's unmarked session of 2025 is
    left alone unless its program is named (`dxbot remind --program nagano-2024`)."""
    from bot.app import remind_once, remind_programs

    bot, clock = two
    saitama = bot.services

    def services_of(program_id: str) -> Any:
        settings = Settings(_env_file=None, DATABASE_URL=db_url, DXBOT_PROGRAM=program_id)  # type: ignore[call-arg]
        return build_services(settings, clock=clock)

    kumamoto, nagano = services_of("kumamoto-2026"), services_of("nagano-2024")
    async with kumamoto.db.transaction() as s:
        await seed_program(s, kumamoto.profile, NOW)
    try:
        await book(saitama, "2026-11-19 14:00")
        await book(kumamoto, "2026-11-19 14:00", experts=("expert2",))
        await book(nagano, "2025-03-10 14:00", experts=("expert3",), track="haken")
        clock.set(jst("2026-11-19 15:00"))
        report = await remind_programs(saitama)  # type: ignore[arg-type]
        assert report.ended == 2

        async def states() -> dict[str, str]:
            async with kumamoto.db.transaction() as s:
                rows = await s.execute(select(Case.program_id, Case.status).order_by(Case.id))
                return {p: st for p, st in rows.all()}

        assert await states() == {
            "saitama-2026": "held",
            "kumamoto-2026": "held",
            "nagano-2024": "scheduled",
        }
        assert (await remind_once(saitama, nagano.profile)).ended == 1  # type: ignore[arg-type]
        assert (await states())["nagano-2024"] == "held"
    finally:
        await kumamoto.db.dispose()
        await nagano.db.dispose()


async def test_make_run_on_an_ended_program_seeds_its_demo_as_of_that_clock(
    tmp_path: Path,
) -> None:
    """`make run PROGRAM=nagano-2024` seeds with --demo, then runs: the demo history is made as
    of 2025-03-14 10:00, so nothing in it (a report, a case change) dates from after the
    console's clock."""
    from sqlalchemy import func

    from store.db import Database
    from store.models import StatusChange, SupportSession

    db_url = f"sqlite+aiosqlite:///{tmp_path / 'make.db'}"
    assert (await _dxbot(db_url, "db", "upgrade"))[0] == 0
    code, out, _ = await _dxbot(db_url, "seed", "--program", "nagano-2024", "--demo")
    assert code == 0 and out.startswith("Program nagano-2024 loaded")
    clock = dt.datetime(2025, 3, 14, 10, 0, tzinfo=JST)
    db = Database(db_url)
    try:
        async with db.transaction() as s:
            latest_report = await s.scalar(func.max(SupportSession.report_submitted_at))
            latest_change = await s.scalar(func.max(StatusChange.at))
    finally:
        await db.dispose()
    assert latest_report is not None and latest_report <= clock
    assert latest_change is not None and latest_change <= clock
