"""Meetings, events and deliverables through the real router and the reminder pass, on SQLite
and PostgreSQL.

Miyazaki (§7(4)): a 報告会 on Thu 2025-12-25 makes its 資料 due the 開庁日 before (Wed 12/24)
and its 議事録 3開庁日 after: Fri 12/26 (1), 12/29–1/3 closed, Mon 1/5 (2), Tue 1/6 (3) →
**2026-01-06**. The staff are reminded (before_due_open_days 2) from Fri 12/26 (2 開庁日 before:
1/5, 12/26), on 1/6, and once when late, on 開庁日 inside office hours only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import build_services, remind_once
from bot.core.config import Settings
from reminders.clock import JST, FixedClock
from store import deliverables as item_store
from store import program_events
from store.models import Municipality
from store.profiles import load_profile
from tests.conftest import ChatBot, RecordingSender
from tests.test_reminder_pass import book


def jst(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=JST)


async def chat_bot(db_url: str, program: str, prefecture: str, now: dt.datetime) -> ChatBot:
    """The bot on a fresh database with ``program`` and the demo people (no history)."""
    from bot.demo import add_people
    from store.seed import seed_program

    settings = Settings(_env_file=None, DATABASE_URL=db_url, DXBOT_PROGRAM=program)  # type: ignore[call-arg]
    services = build_services(settings, clock=FixedClock(now))
    async with services.db.transaction() as s:
        await seed_program(s, load_profile(program), now)
        munis = list(
            (
                await s.scalars(
                    select(Municipality)
                    .where(Municipality.prefecture_code == prefecture)
                    .order_by(Municipality.code)
                )
            ).all()
        )
        await add_people(s, munis, now)
    return ChatBot(services, RecordingSender())


@pytest.fixture
async def miyazaki(db_url: str) -> AsyncIterator[ChatBot]:
    bot = await chat_bot(db_url, "miyazaki-2025", "45", jst(2025, 12, 22))
    yield bot
    await bot.services.db.dispose()  # type: ignore[attr-defined]


def clock_of(bot: ChatBot) -> FixedClock:
    clock: Any = bot.services.clock  # type: ignore[attr-defined]
    assert isinstance(clock, FixedClock)
    return clock


async def open_items(bot: ChatBot) -> list[tuple[str, str, dt.date]]:
    services: Any = bot.services
    async with services.db.transaction() as s:
        rows = await item_store.listed(s, services.profile.id)
    return [(f"D{i.id}", i.title, i.due_on) for i in rows]


async def item_id_of(bot: ChatBot, title: str) -> int:
    services: Any = bot.services
    async with services.db.transaction() as s:
        rows = await item_store.listed(s, services.profile.id, include_done=True)
    (found,) = [i.id for i in rows if i.title == title]
    return found


async def record_meeting(bot: ChatBot) -> None:
    (reply,) = await bot.say(
        "staff1",
        "/dx event 月次報告会 12月25日 場所=県庁 5階会議室 参加=佐藤,鈴木 メモ=11月分の報告",
    )
    materials = await item_id_of(bot, "報告会資料（12/25）")
    minutes = await item_id_of(bot, "議事録（12/25）")
    assert reply.text == (
        "月次報告会（E1、2025年12月25日(木)、県庁 5階会議室）を記録しました。\n"
        f"・報告会資料（12/25）（D{materials}）の提出期限は2025年12月24日(水)です。\n"
        f"・議事録（12/25）（D{minutes}）の提出期限は2026年1月6日(火)です。"
    )


async def test_a_meeting_recorded_in_chat_makes_its_minutes_due_three_open_days_later(
    miyazaki: ChatBot,
) -> None:
    await record_meeting(miyazaki)
    services: Any = miyazaki.services
    async with services.db.transaction() as s:
        (event,) = await program_events.listed(s, "miyazaki-2025")
    assert (event.kind, event.place, event.attendees, event.notes, event.created_by) == (
        "houkokukai",
        "県庁 5階会議室",
        ["佐藤", "鈴木"],
        "11月分の報告",
        "佐藤 美咲",
    )
    (listing,) = await miyazaki.say("staff1", "/dx events")
    assert "・E1 2025年12月25日(木) 月次報告会 県庁 5階会議室（参加: 佐藤、鈴木）" in listing.text
    # Held by today (12/22)? Not yet: the count waits for the day.
    assert listing.text.endswith("回数: 月次報告会 0/12回、職員研修・意見交換会 0回")


async def test_an_event_is_named_by_id_or_name_and_a_wrong_one_is_refused_politely(
    miyazaki: ChatBot,
) -> None:
    (reply,) = await miyazaki.say("staff1", "/dx event kenshu 2026-01-20")
    assert reply.text.startswith("職員研修・意見交換会（E1、2026年1月20日(火)）を記録しました。")
    assert "研修実施内容報告書（1/20）" in reply.text and "2026年1月13日(火)" in reply.text
    (reply,) = await miyazaki.say("staff1", "/dx event 飲み会 1月20日")
    assert reply.text == (
        "「飲み会」という会議・行事の種類はこの事業にはありません。次のいずれかでご指定ください: "
        "月次報告会（houkokukai）、職員研修・意見交換会（kenshu）"
    )
    (reply,) = await miyazaki.say("staff1", "/dx event 月次報告会 そのうち")
    assert reply.text.startswith("「そのうち」から日付を読み取れませんでした。")
    (reply,) = await miyazaki.say("officer1", "/dx event 月次報告会 1月20日")
    assert "権限" in reply.text or "できません" in reply.text


async def test_done_closes_an_item_once_and_says_who_closed_it_when(miyazaki: ChatBot) -> None:
    await record_meeting(miyazaki)
    minutes = await item_id_of(miyazaki, "議事録（12/25）")
    clock_of(miyazaki).set(jst(2026, 1, 5, 15, 30))
    (listing,) = await miyazaki.say("staff1", "/dx deliverables")
    assert f"・D{minutes} 議事録（12/25） — 期限 2026年1月6日(火)（県へ提出）" in listing.text

    (reply,) = await miyazaki.say("staff1", f"/dx done Ｄ{minutes}")
    assert reply.text == (
        f"D{minutes}「議事録（12/25）」を提出済みとして記録しました"
        "（佐藤 美咲さん、2026年1月5日(月) 15:30）。"
    )
    assert f"D{minutes}" not in [i for i, _, _ in await open_items(miyazaki)]
    (again,) = await miyazaki.say("admin1", f"/dx done {minutes}")
    assert again.text == (
        f"D{minutes}「議事録（12/25）」は2026年1月5日(月) 15:30に佐藤 美咲さんが"
        "提出済みとして記録済みです。"
    )
    (unknown,) = await miyazaki.say("staff1", "/dx done D999")
    assert unknown.text == (
        "成果物「D999」は見つかりませんでした。「/dx deliverables」で番号をご確認ください。"
    )
    (listing,) = await miyazaki.say("staff1", "/dx deliverables")
    assert f"D{minutes} " not in listing.text


async def minutes_pings(bot: ChatBot, at: dt.datetime) -> list[str]:
    clock_of(bot).set(at)
    await remind_once(bot.services)  # type: ignore[arg-type]
    await bot.deliver()
    minutes = await item_id_of(bot, "議事録（12/25）")
    out = [line for text in bot.sender.texts("staff") for line in text.splitlines()]
    bot.sender.sent.clear()
    return [line for line in out if line.startswith(f"・D{minutes} ")]


async def test_reminders_fire_once_on_open_days_never_on_a_closed_day(miyazaki: ChatBot) -> None:
    await record_meeting(miyazaki)
    # Thu 12/25 (3 開庁日 ahead): nothing yet.
    assert await minutes_pings(miyazaki, jst(2025, 12, 25)) == []
    # Sat 12/27 is closed: nothing, though the 'before' step is due.
    assert await minutes_pings(miyazaki, jst(2025, 12, 27)) == []
    # Fri 12/26 would have been the first day; the next open day (Mon 1/5) sends it once.
    before = await minutes_pings(miyazaki, jst(2026, 1, 5, 9, 30))
    minutes = await item_id_of(miyazaki, "議事録（12/25）")
    assert before == [
        f"・D{minutes} 議事録（12/25）（県へ提出）: 期限は2026年1月6日(火)です（あと1開庁日）。"
    ]
    assert await minutes_pings(miyazaki, jst(2026, 1, 5, 11)) == []  # a repeated pass
    # Tue 1/6 before office hours: nothing; at 10:00 the due-day ping, once.
    assert await minutes_pings(miyazaki, jst(2026, 1, 6, 8, 0)) == []
    (due,) = await minutes_pings(miyazaki, jst(2026, 1, 6, 10))
    assert due.endswith("本日2026年1月6日(火)が期限です。")
    assert await minutes_pings(miyazaki, jst(2026, 1, 6, 14)) == []
    (late,) = await minutes_pings(miyazaki, jst(2026, 1, 7, 10))
    assert late.endswith("期限の2026年1月6日(火)を過ぎています。")
    assert await minutes_pings(miyazaki, jst(2026, 1, 8, 10)) == []


async def test_the_pass_makes_the_items_without_anyone_opening_status(miyazaki: ChatBot) -> None:
    clock_of(miyazaki).set(jst(2025, 12, 22, 10))
    await remind_once(miyazaki.services)  # type: ignore[arg-type]
    await miyazaki.deliver()
    titles = {(title, due) for _, title, due in await open_items(miyazaki)}
    # §8(1)No.1-4 速やかに = 5開庁日 after Tue 2025-04-01: 4/2, 4/3, 4/4, 4/7, 4/8.
    assert ("業務実施計画書", dt.date(2025, 4, 8)) in titles
    assert ("業務完了報告書", dt.date(2026, 3, 31)) in titles
    # Made already late (the program was loaded in December): listed, not chased.
    assert miyazaki.sender.texts("staff") == []
    (listing,) = await miyazaki.say("staff1", "/dx deliverables")
    line = listing.text.splitlines()[1]
    assert line.startswith("・D1 業務実施計画書 — 期限 2025年4月8日(火)（県へ提出）【")
    assert line.endswith("開庁日超過】")


async def test_the_survey_report_follows_the_last_hearing(bot: ChatBot, clock: FixedClock) -> None:
    """Saitama §6(7)オ: one month after the last hearing held; a later one moves it."""
    services: Any = bot.services
    await book(services, "2026-08-31 10:00", track="hearing")
    await remind_once(services)  # now 2026-11-16
    assert ("市町村DX推進状況調査報告書", dt.date(2026, 9, 30)) in {
        (t, d) for _, t, d in await open_items(bot)
    }
    await book(services, "2026-11-13 10:00", track="hearing", officer="officer2")
    await remind_once(services)
    survey = [(t, d) for _, t, d in await open_items(bot) if t == "市町村DX推進状況調査報告書"]
    assert survey == [("市町村DX推進状況調査報告書", dt.date(2026, 12, 13))]


async def test_help_tells_staff_the_event_and_deliverable_commands(miyazaki: ChatBot) -> None:
    (staff,) = await miyazaki.say("staff1", "/dx help")
    assert (
        "・会議・行事の記録: 「/dx event 種類 日付 場所=… 参加=氏名,氏名 メモ=…」"
        "（種類: 月次報告会、職員研修・意見交換会）、一覧: 「/dx events」"
    ) in staff.text.splitlines()
    assert "「/dx done D番号」" in staff.text
    (officer,) = await miyazaki.say("officer1", "/dx help")
    assert "/dx event" not in officer.text and "/dx done" not in officer.text


async def test_a_moved_meeting_takes_its_open_items_along_and_nothing_doubles(
    miyazaki: ChatBot,
) -> None:
    from reminders import deliverable_pass

    await record_meeting(miyazaki)
    services: Any = miyazaki.services
    profile, cal, now = services.profile, services.calendar, clock_of(miyazaki).now()
    async with services.db.transaction() as s:
        (event,) = await program_events.listed(s, profile.id)
        # Thu 12/25 → Mon 12/22: 議事録 12/23, 12/24, 12/25 (3); 資料 Fri 12/19.
        await program_events.move(s, event, dt.date(2025, 12, 22))
        assert await deliverable_pass.refresh(s, profile, cal, now) == (0, 2)
        assert await deliverable_pass.refresh(s, profile, cal, now) == (0, 0)
        items = await item_store.for_event(s, profile.id, event.id)
    assert [(i.spec_id, i.period, i.due_on) for i in items] == [
        ("materials", "E1", dt.date(2025, 12, 19)),
        ("minutes", "E1", dt.date(2025, 12, 25)),
    ]


async def test_two_replicas_racing_send_a_deliverable_reminder_once(
    miyazaki: ChatBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes' passes both plan the 議事録's due-day step before either claims it."""
    import asyncio
    from collections.abc import Sequence

    from store import reminders as ledger_store

    await record_meeting(miyazaki)
    real = ledger_store.claim_steps
    barrier = asyncio.Barrier(2)

    async def after_both_planned(s: Any, claims: Sequence[Any], now: dt.datetime) -> set[str]:
        if claims:
            await asyncio.wait_for(barrier.wait(), 30)
        return await real(s, claims, now)

    monkeypatch.setattr(ledger_store, "claim_steps", after_both_planned)
    services: Any = miyazaki.services
    clock = clock_of(miyazaki)
    clock.set(jst(2026, 1, 6, 10))
    a = build_services(services.settings, clock=clock)
    c = build_services(services.settings, clock=clock)
    try:
        ra, rc = await asyncio.gather(remind_once(a), remind_once(c))
    finally:
        await a.db.dispose()
        await c.db.dispose()
    await miyazaki.deliver()
    minutes = await item_id_of(miyazaki, "議事録（12/25）")
    assert [x for x in ra.sent + rc.sent if x.startswith(f"staff deliverable D{minutes} ")] == [
        f"staff deliverable D{minutes} due"
    ]
    lines = [ln for text in miyazaki.sender.texts("staff") for ln in text.splitlines()]
    assert sum(ln.startswith(f"・D{minutes} ") for ln in lines) == 1


async def test_the_pass_makes_each_months_item_once_its_month_has_begun(db: Any) -> None:
    """A profile's monthly deliverable (day 10, next 開庁日): April's due Mon 5/11 (5/10 is a
    Sunday), May's Wed 6/10; June's appears on 6/1, not before."""
    from reminders import deliverable_pass
    from reminders.calendar import BusinessCalendar
    from store.profile_structure import Deliverable
    from store.seed import seed_program

    base = load_profile("saitama-2026")
    monthly = Deliverable.model_validate(
        {
            "id": "monthly",
            "name": "月次報告",
            "due": {"kind": "monthly", "day": 10, "closed_day_rule": "next_open_day"},
        }
    )
    profile = base.model_copy(update={"deliverables": (monthly,)})
    cal = BusinessCalendar()
    async with db.transaction() as s:
        await seed_program(s, base, jst(2026, 4, 1))
        assert await deliverable_pass.refresh(s, profile, cal, jst(2026, 5, 29)) == (2, 0)
        assert await deliverable_pass.refresh(s, profile, cal, jst(2026, 5, 29)) == (0, 0)
        assert await deliverable_pass.refresh(s, profile, cal, jst(2026, 6, 1)) == (1, 0)
        items = await item_store.listed(s, profile.id)
    assert [(i.period, i.title, i.due_on) for i in items] == [
        ("2026-04", "月次報告（4月分）", dt.date(2026, 5, 11)),
        ("2026-05", "月次報告（5月分）", dt.date(2026, 6, 10)),
        ("2026-06", "月次報告（6月分）", dt.date(2026, 7, 10)),
    ]
