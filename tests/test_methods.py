"""Every method a track lists can be recorded — online, on-site, e-mail, phone, chat — in the chat
(`/dx schedule`, English or Japanese words) and on the command line (`dxbot sessions add`).

An answer already given by e-mail, phone or chat is recorded after the fact: it is held at once
(the case goes to 実施済(報告待ち)), the expert is asked for the report at once, and the report is
due counting from the answer's day. Dates worked out by hand on the 開庁日 calendar (Saitama,
5 開庁日 for 相談窓口; weekends and national holidays closed; now is Mon 2026-11-16 10:00 JST):

- answer on Fri 2026-11-06: open days after it 11/9 (1), 11/10, 11/11, 11/12, 11/13 (5)
  → due **Fri 2026-11-13**, already past on 11/16 (flagged).
- answer on Fri 2026-11-13: 11/16 (1), 11/17, 11/18, 11/19, 11/20 (5) → due **Fri 2026-11-20**;
  two 開庁日 before it is Wed 11/18 (the before_due reminder's morning).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import remind_once
from reminders.clock import JST, FixedClock
from store import cases as case_store
from store.models import Case, SessionTally, SupportSession
from tests.conftest import ChatBot
from tests.test_cli import main_in_process
from tests.test_reminder_pass import person, texts_to, to

CASE = "SAI-2026-0001"


async def open_case(bot: ChatBot, track: str = "soudan") -> Case:
    """A case of officer1 (さいたま市) on ``track`` whose expert (expert1, 田中 誠) is decided."""
    services: Any = bot.services
    officer = await person(services, "officer1")
    expert = await person(services, "expert1")
    async with services.db.transaction() as s:
        case = await case_store.create(
            s,
            program_id=services.profile.id,
            prefix="SAI",
            year=2026,
            track_id=track,
            municipality_code=officer.municipality_code or "",
            now=services.clock.now(),
            requester_user_id=officer.id,
            description="電子申請の導入について相談したい",
            status="coordinating",
        )
        case.approved_expert_user_id = expert.id
        case.match_state = "approved"
    return case


async def sessions_of(bot: ChatBot) -> list[SupportSession]:
    services: Any = bot.services
    async with services.db.transaction() as s:
        return list((await s.scalars(select(SupportSession).order_by(SupportSession.id))).all())


async def case_status(bot: ChatBot) -> str:
    services: Any = bot.services
    async with services.db.transaction() as s:
        case = await case_store.get_by_no(s, CASE)
        assert case is not None
        return case.status


async def track_tally(bot: ChatBot, track: str) -> tuple[int, float]:
    """(sessions, hours) the database's running tally counts for a track (not cancelled)."""
    services: Any = bot.services
    async with services.db.transaction() as s:
        row = await s.scalar(
            select(SessionTally).where(SessionTally.track_id == track, SessionTally.dim == "track")
        )
    return (0, 0.0) if row is None else (row.sessions, row.hours)


@pytest.mark.parametrize(
    ("word", "method", "track"),
    [
        ("オンライン", "online", "soudan"),
        ("online", "online", "soudan"),
        ("メール", "email", "soudan"),
        ("email", "email", "soudan"),
        ("電話", "phone", "soudan"),
        ("phone", "phone", "soudan"),
        ("チャット", "chat", "soudan"),
        ("chat", "chat", "soudan"),
        ("訪問", "onsite", "haken"),
        ("現地", "onsite", "haken"),
        ("オンサイト", "onsite", "haken"),
        ("onsite", "onsite", "haken"),
    ],
)
async def test_each_method_a_track_lists_is_scheduled(
    bot: ChatBot, word: str, method: str, track: str
) -> None:
    await open_case(bot, track)
    (reply,) = await bot.say("staff1", f"/dx schedule {CASE} 2026-11-18 10:00 1 {word}")
    assert reply.text.startswith("日程を登録しました（状態: 実施予定）。\n支援ID: 1\n")
    (session,) = await sessions_of(bot)
    assert (session.method, session.status, session.track_id) == (method, "scheduled", track)
    assert session.starts_at == dt.datetime(2026, 11, 18, 10, 0, tzinfo=JST)


async def test_a_method_the_track_does_not_list_is_refused_with_the_tracks_methods(
    bot: ChatBot,
) -> None:
    await open_case(bot, "haken")
    (reply,) = await bot.say("staff1", f"/dx schedule {CASE} 2026-11-18 10:00 1 メール")
    assert reply.text == (
        "デジタル専門人材の派遣によるアドバイス支援は訪問・オンラインで行う支援です"
        "（メールは登録できません）。"
    )
    assert await sessions_of(bot) == []


async def test_an_email_answer_recorded_after_the_fact_is_held_at_once_and_flagged_late(
    bot: ChatBot,
) -> None:
    await open_case(bot)
    (reply,) = await bot.say("staff1", f"/dx schedule {CASE} 11月6日 15:00 0.5 メール 庁内")
    assert reply.text == (
        "回答済みの相談対応を記録しました（状態: 実施済(報告待ち)）。専門人材に報告を依頼しました。\n"
        "支援ID: 1\n"
        f"案件: {CASE}\n"
        "日時: 2026年11月6日(金) 15:00（0.5時間）\n"
        "方法: メール\n"
        "場所: （未定）\n"
        "参加団体: さいたま市\n"
        "報告期限: 2026年11月13日(金)\n"
        "※報告期限（2026年11月13日(金)）を過ぎています。"
    )
    (session,) = await sessions_of(bot)
    assert (session.status, session.place, session.hours) == ("done", "", 0.5)
    assert session.report_due == dt.date(2026, 11, 13)
    assert await case_status(bot) == "held"
    assert await track_tally(bot, "soudan") == (1, 0.5)  # held: ended, not cancelled
    # The expert is asked for the report at once, with the button that starts it.
    notice, request = to(bot, "expert1")
    assert notice.text.startswith("回答済みの相談対応を支援の記録として登録しました。\n支援ID: 1\n")
    assert (
        "\n・SAI-2026-0001（2026年11月6日(金) 15:00〜15:30実施）期限 2026年11月13日(金) — 1開庁日超過（支援ID 1）\n"
        in request.text
    )  # 11/16 is the first 開庁日 after the due day
    assert [c.value for c in request.choices] == ["1"]
    assert request.action_id == "report_start"


async def test_the_next_pass_does_not_ask_again_and_the_chase_follows_the_answer_day(
    bot: ChatBot, clock: FixedClock
) -> None:
    await open_case(bot)
    (reply,) = await bot.say("staff1", f"/dx schedule {CASE} 2026-11-13 16:00 1 電話")
    assert "報告期限: 2026年11月20日(金)" in reply.text
    assert "過ぎています" not in reply.text
    asked = len(to(bot, "expert1"))
    assert asked == 2  # the record, and the report request

    report = await remind_once(bot.services)  # type: ignore[arg-type]
    assert [line for line in report.sent if CASE in line] == []  # not asked twice
    clock.set(dt.datetime(2026, 11, 18, 9, 0, tzinfo=JST))
    report = await remind_once(bot.services)  # type: ignore[arg-type]
    assert [line for line in report.sent if CASE in line] == [
        f"expert:{(await person(bot.services, 'expert1')).id} {CASE} before_due"
    ]


async def test_an_answer_from_before_the_term_is_refused(bot: ChatBot) -> None:
    """Saitama's term starts 2026-04-01: an e-mail answer of 3/31 is not this contract's."""
    await open_case(bot)
    (reply,) = await bot.say("staff1", f"/dx schedule {CASE} 2026-03-31 10:00 0.5 メール")
    assert reply.text == (
        "2026年3月31日(火)は事業の実施期間外のため登録できません。"
        "支援は2026年4月1日(水)から2027年3月19日(金)までの日付で指定してください。"
    )
    assert await sessions_of(bot) == []


async def test_a_past_start_is_refused_for_a_meeting(bot: ChatBot) -> None:
    await open_case(bot)
    (reply,) = await bot.say("staff1", f"/dx schedule {CASE} 2026-11-13 10:00 1 オンライン")
    assert (
        reply.text == "2026年11月13日(金) 10:00は過ぎています。これからの日時を指定してください。"
    )
    assert await sessions_of(bot) == []


async def test_the_officer_hears_of_a_recorded_answer(bot: ChatBot) -> None:
    await open_case(bot)
    await bot.say("staff1", f"/dx schedule {CASE} 2026-11-13 16:00 0.5 チャット")
    (notice,) = [t for t in texts_to(bot, "officer1") if "支援の記録" in t]
    assert notice.startswith("貴団体の相談への回答を支援の記録として登録しました。\n支援ID: 1\n")


# --- the command line ------------------------------------------------------------------------


def _seed(db_url: str) -> None:
    """The Saitama program with its demo people and one soudan case with expert1 decided."""
    from bot.app import build_services
    from bot.core.config import Settings
    from bot.demo import add_people
    from store.models import Municipality
    from store.profiles import load_profile
    from store.seed import seed_program

    async def go() -> None:
        settings = Settings(_env_file=None, DATABASE_URL=db_url, DXBOT_PROGRAM="saitama-2026")  # type: ignore[call-arg]
        now = dt.datetime(2026, 11, 16, 10, 0, tzinfo=JST)
        services = build_services(settings, clock=FixedClock(now))
        try:
            async with services.db.transaction() as s:
                await seed_program(s, load_profile("saitama-2026"), now)
                munis = list(
                    (
                        await s.scalars(
                            select(Municipality)
                            .where(Municipality.prefecture_code == "11")
                            .order_by(Municipality.code)
                        )
                    ).all()
                )
                await add_people(s, munis, now)
            bot = ChatBot(services, None)  # type: ignore[arg-type]
            await open_case(bot)
        finally:
            await services.db.dispose()

    asyncio.run(go())


def cli(db_url: str, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    return main_in_process(
        ("sessions", *args, "--now", "2026-11-16T10:00"),
        capsys,
        DATABASE_URL=db_url,
        DXBOT_PROGRAM="saitama-2026",
    )


@pytest.mark.parametrize("method", ["online", "email", "phone", "chat"])
def test_sessions_add_takes_every_method(
    db_url: str, capsys: pytest.CaptureFixture[str], method: str
) -> None:
    _seed(db_url)
    run = cli(
        db_url, capsys, "add", "--case", CASE, "--expert", "expert1",
        "--start", "2026-11-18T10:00", "--hours", "1", "--method", method,
    )  # fmt: skip
    assert (run.returncode, run.stdout) == (
        0,
        f"Scheduled session 1 for {CASE}; report due 2026-11-26.\n",  # 11/23 is a holiday
    )


def test_sessions_add_records_an_email_answer_after_the_fact(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(db_url)
    run = cli(
        db_url, capsys, "add", "--case", CASE, "--expert", "expert1",
        "--start", "2026-11-06T15:00", "--hours", "0.5", "--method", "email",
    )  # fmt: skip
    assert run.returncode == 0
    assert run.stdout == (
        f"Recorded session 1 for {CASE} as held; the expert is asked for the report, due "
        "2026-11-13.\n"
    )
    assert "Warning: the report due date 2026-11-13 has passed." in run.stderr


def test_sessions_add_refuses_an_unknown_method_and_a_method_the_track_lacks(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(db_url)
    base = ("add", "--case", CASE, "--expert", "expert1", "--start", "2026-11-18T10:00")
    run = cli(db_url, capsys, *base, "--hours", "1", "--method", "fax")
    assert run.returncode == 2
    assert "argument --method: invalid choice: 'fax'" in run.stderr
    run = cli(db_url, capsys, *base, "--hours", "1", "--method", "onsite")
    assert run.returncode == 2
    assert run.stderr.strip() == (
        "error: Track DXよろず相談窓口 is held by オンライン・メール・チャット・電話, not 訪問."
    )
