"""The term and the last day of service (issue 12, item 3), on SQLite and PostgreSQL.

Saitama's contract runs 2026-04-01 to 2027-03-31 but its 履行期限 is 2027-03-19 (§3); Nagano's
term ended 2025-03-14 (§3). A session outside [term start, last day of service] is refused
with the allowed period, in the chat and by `dxbot sessions add`; a report due after the last
day of service is flagged where the session is scheduled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from bot.core.catalog import t
from bot.core.config import Settings
from reminders.clock import JST, FixedClock
from store import cases as case_store
from store.profiles import ProfileError, load_profile, parse_profile
from store.reference import loaded_municipalities
from store.rules import report_due_flag, term_refusal
from tests.conftest import ChatBot, RecordingSender
from tests.test_matching import _counts, _dxbot_many, _ids

SAITAMA_CITY = "111007"
NAGANO_CITY = "202011"
HAKEN = "デジタル専門人材の派遣によるアドバイス支援"

BotFactory = Callable[[str, dt.datetime], Awaitable[ChatBot]]


@pytest.fixture
async def program_bot(db_url: str) -> AsyncIterator[BotFactory]:
    """A bot for any shipped program at a given now, with its demo people (no history)."""
    from bot.app import build_services
    from bot.demo import add_people
    from store.seed import seed_program

    made: list[ChatBot] = []

    async def make(program_id: str, now: dt.datetime) -> ChatBot:
        settings = Settings(_env_file=None, DATABASE_URL=db_url, DXBOT_PROGRAM=program_id)  # type: ignore[call-arg]
        services = build_services(settings, clock=FixedClock(now))
        profile = load_profile(program_id)
        async with services.db.transaction() as s:
            await seed_program(s, profile, now)
            await add_people(s, await loaded_municipalities(s, profile.prefecture_code), now)
        bot = ChatBot(services, RecordingSender())
        made.append(bot)
        return bot

    yield make
    for bot in made:
        await bot.services.db.dispose()  # type: ignore[attr-defined]


async def open_case(
    bot: ChatBot,
    program_id: str,
    *,
    track: str,
    municipality: str,
    expert: str,
    now: dt.datetime,
    method: str = "online",
) -> str:
    """A case as matching leaves it: on ``track``, with ``expert`` approved."""
    db = bot.services.db  # type: ignore[attr-defined]
    ids = await _ids(db)
    profile = load_profile(program_id)
    async with db.transaction() as s:
        case = await case_store.create(
            s,
            program_id=program_id,
            prefix=profile.case_prefix,
            year=profile.fiscal_year,
            track_id=track,
            municipality_code=municipality,
            now=now,
            domains=["セキュリティ対策の徹底"],
            description="情報セキュリティポリシーの見直しについて相談したい",
            preferred_method=method,
        )
        case.approved_expert_user_id = ids[expert]
        case.match_state = "approved"
        return case.case_no


async def refused(bot: ChatBot, text: str, expected: str) -> None:
    """Staff get exactly ``expected`` and nothing is written."""
    db = bot.services.db  # type: ignore[attr-defined]
    before = await _counts(db)
    replies = await bot.say("staff1", text)
    assert [r.text for r in replies] == [expected], text
    assert await _counts(db) == before, text


SAITAMA_NOW = dt.datetime(2026, 11, 16, 10, 0, tzinfo=JST)
SAITAMA_PERIOD = {
    "first": "2026年4月1日(水)",
    "last": "2027年3月19日(金)",
    "first_iso": "2026-04-01",
    "last_iso": "2027-03-19",
}


# --- the rules alone ------------------------------------------------------------------------


def test_the_period_is_from_term_start_to_the_last_day_of_service() -> None:
    saitama, kumamoto = load_profile("saitama-2026"), load_profile("kumamoto-2026")
    assert saitama.service_end == dt.date(2027, 3, 19)
    assert kumamoto.service_end == dt.date(2027, 3, 31)  # no 履行期限 of its own: the term end
    assert term_refusal(saitama, dt.date(2026, 4, 1)) is None
    assert term_refusal(saitama, dt.date(2027, 3, 19)) is None
    late = term_refusal(saitama, dt.date(2027, 3, 22))
    assert late is not None and late.key == "after_last_service_day"
    assert term_refusal(saitama, dt.date(2027, 4, 6)).key == "outside_term"  # type: ignore[union-attr]
    assert term_refusal(saitama, dt.date(2026, 3, 31)).key == "outside_term"  # type: ignore[union-attr]
    assert term_refusal(kumamoto, dt.date(2027, 3, 31)) is None


def test_a_report_due_after_the_last_day_of_service_is_flagged() -> None:
    saitama = load_profile("saitama-2026")
    assert report_due_flag(saitama, dt.date(2027, 3, 19)) is None
    flag = report_due_flag(saitama, dt.date(2027, 3, 29))
    assert flag is not None
    assert t(flag.key, **flag.params) == (
        "※報告期限（2027年3月29日(月)）が履行期限（2027年3月19日(金)）より後になります。"
        "履行期限までに報告を受け取れるよう、専門人材と調整してください。"
    )
    assert t(flag.key, lang="en", **flag.params) == (
        "Warning: the report is due 2027-03-29, after the last day of service (2027-03-19)."
    )


def test_a_last_day_of_service_outside_the_term_is_refused() -> None:
    text = (
        "id: test-2026\ncase_prefix: TST\nname: x\nprefecture: 埼玉県\nprefecture_code: '11'\n"
        "fiscal_year: 2026\nterm_start: 2026-04-01\nterm_end: 2027-03-31\n"
        "last_service_day: 2027-04-10\n"
        "tracks: [{id: soudan, kind: consultation, name: 相談, default_hours: 1, "
        "default_method: online}]\n"
    )
    with pytest.raises(ProfileError, match="last_service_day 2027-04-10 is outside the term"):
        parse_profile(text, "test.yaml")


# --- in the chat and on the command line ------------------------------------------------------


async def test_saitama_sessions_keep_to_the_last_day_of_service(program_bot: BotFactory) -> None:
    bot = await program_bot("saitama-2026", SAITAMA_NOW)
    case_no = await open_case(
        bot, "saitama-2026", track="haken", municipality=SAITAMA_CITY, expert="expert5",
        now=SAITAMA_NOW,
    )  # fmt: skip

    await refused(
        bot,
        f"/dx schedule {case_no} 2027-04-06 10:00 2 online",  # after the contract itself
        t("outside_term", day="2027年4月6日(火)", day_iso="2027-04-06", **SAITAMA_PERIOD),
    )
    await refused(
        bot,
        # In the contract but after the 履行期限 (and a 振替休日: the term is the reason given).
        f"/dx schedule {case_no} 2027-03-22 10:00 2 online",
        t("after_last_service_day", day="2027年3月22日(月)", day_iso="2027-03-22",
          **SAITAMA_PERIOD),
    )  # fmt: skip
    assert t("after_last_service_day", day="2027年3月22日(月)", day_iso="", **SAITAMA_PERIOD) == (
        "2027年3月22日(月)は履行期限（2027年3月19日(金)）より後のため登録できません。"
        "支援は2026年4月1日(水)から2027年3月19日(金)までの日付で指定してください。"
    )

    # The last day of service itself is fine; its report (5開庁日: 3/22 is 振替休日, so
    # 3/23, 24, 25, 26, 29) falls due after it, and the reply says so.
    (reply,) = await bot.say("staff1", f"/dx schedule {case_no} 2027-03-19 10:00 2 online")
    assert "報告期限: 2027年3月29日(月)" in reply.text
    assert reply.text.endswith(
        "※報告期限（2027年3月29日(月)）が履行期限（2027年3月19日(金)）より後になります。"
        "履行期限までに報告を受け取れるよう、専門人材と調整してください。"
    )
    # Ten days earlier the report is due 2027-03-17 (3/11, 12, 15, 16, 17): no flag.
    (reply,) = await bot.say("staff1", f"/dx schedule {case_no} 2027-03-10 10:00 2 online")
    assert "報告期限: 2027年3月17日(水)" in reply.text
    assert "履行期限" not in reply.text


async def test_nagano_after_its_term_is_refused(program_bot: BotFactory) -> None:
    # Inside the term (its last week): after it the program books nothing new at all
    # (tests/test_multi_program.py), so the date rule is tried while it still runs.
    bot = await program_bot("nagano-2024", dt.datetime(2025, 3, 10, 10, 0, tzinfo=JST))
    case_no = await open_case(
        bot, "nagano-2024", track="haken", municipality=NAGANO_CITY, expert="expert1",
        now=dt.datetime(2025, 2, 3, 9, tzinfo=JST),
    )  # fmt: skip
    expected = t(
        "outside_term",
        day="2026年12月8日(火)",
        first="2024年8月15日(木)",
        last="2025年3月14日(金)",
        day_iso="2026-12-08",
        first_iso="2024-08-15",
        last_iso="2025-03-14",
    )
    assert expected == (
        "2026年12月8日(火)は事業の実施期間外のため登録できません。"
        "支援は2024年8月15日(木)から2025年3月14日(金)までの日付で指定してください。"
    )
    await refused(bot, f"/dx schedule {case_no} 2026-12-08 10:00 2 onsite", expected)


async def test_cli_sessions_add_keeps_to_the_term(program_bot: BotFactory, db_url: str) -> None:
    bot = await program_bot("saitama-2026", SAITAMA_NOW)
    case_no = await open_case(
        bot, "saitama-2026", track="haken", municipality=SAITAMA_CITY, expert="expert5",
        now=SAITAMA_NOW,
    )  # fmt: skip

    def add(start: str) -> list[str]:
        return ["sessions", "add", "--case", case_no, "--expert", "expert5", "--start", start,
                "--hours", "2", "--method", "online"]  # fmt: skip

    results = await _dxbot_many(
        db_url, [add("2027-04-06T10:00"), add("2027-03-22T10:00"), add("2027-03-19T10:00")]
    )
    assert results[0] == (
        2,
        "",
        "error: 2027-04-06 is outside the program's term; give a date from 2026-04-01 to "
        "2027-03-19.\n",
    )
    assert results[1] == (
        2,
        "",
        "error: 2027-03-22 is after the last day of service (2027-03-19); give a date from "
        "2026-04-01 to 2027-03-19.\n",
    )
    code, out, err = results[2]
    assert code == 0
    assert out.startswith("Scheduled session ") and out.endswith(
        f" for {case_no}; report due 2027-03-29.\n"
    )
    assert err == (
        "Warning: the report is due 2027-03-29, after the last day of service (2027-03-19).\n"
    )
