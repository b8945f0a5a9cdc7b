"""The reminder pass against a real database (SQLite and PostgreSQL): a session that ends moves
its case on and the expert is asked for the report; every ping is claimed in the ledger, so a
restart sends nothing twice, downtime is caught up once, and two processes on PostgreSQL send each
ping exactly once; a failed delivery stays in the outbox without the step being sent again; one
message carries all of one person's pending reports; the monthly report and the survey are chased
too. `dxbot remind --now` is run as an operator runs it, in a subprocess.

The helpers at the top (``book``, ``run``, ``outbox_rows`` …) are shared with the follow-up and
survey tests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import build_services, remind_once, system_context
from bot.core.config import Settings
from bot.core.messages import Outbound
from handlers.followup import request_survey
from handlers.lifecycle import change_status
from reminders.clock import JST, FixedClock
from reminders.deadlines import session_report_due
from reminders.run import PassReport
from store import cases as case_store
from store import sessions as session_store
from store import users as user_store
from store.models import (
    Case,
    OutboxMessage,
    ReminderLedger,
    SupportSession,
    User,
)
from tests.conftest import ChatBot, RecordingSender

# --- shared helpers --------------------------------------------------------------------------------


def jst(text: str) -> dt.datetime:
    """'2026-11-19 14:00' → an aware JST datetime."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=JST)


@dataclass(frozen=True)
class Booked:
    case_id: int
    case_no: str
    session_id: int
    due: dt.date


async def person(services: Any, platform_id: str) -> User:
    async with services.db.transaction() as s:
        user = await user_store.get_by_platform_id(s, "console", platform_id)
    assert user is not None, platform_id
    return user


async def book(
    services: Any,
    start: str,
    *,
    hours: float = 1.0,
    experts: tuple[str, ...] = ("expert1",),
    officer: str = "officer1",
    case_id: int | None = None,
    method: str = "online",
    place: str = "オンライン（Teams）",
    track: str = "soudan",
) -> Booked:
    """A scheduled session (and its case, unless ``case_id``), as staff would have booked it."""
    starts = jst(start)
    requester = await person(services, officer)
    expert_ids = [(await person(services, e)).id for e in experts]
    due = session_report_due(services.calendar, starts.date(), 5)
    async with services.db.transaction() as s:
        if case_id is None:
            case = await case_store.create(
                s,
                program_id=services.profile.id,
                prefix=services.profile.case_prefix,
                year=services.profile.fiscal_year,
                track_id=track,
                municipality_code=requester.municipality_code or "",
                now=starts - dt.timedelta(days=14),
                requester_user_id=requester.id,
                department="デジタル推進課",
                requester_name=requester.name,
                domains=["自治体のAIの利用促進"],
                description="生成AIの庁内利用ガイドラインを作りたい",
                status="scheduled",
            )
        else:
            loaded = await s.get(Case, case_id)
            assert loaded is not None
            case = loaded
        session = await session_store.create(
            s,
            program_id=services.profile.id,
            case_id=case.id,
            track_id=track,
            starts_at=starts,
            hours=hours,
            method=method,
            place=place,
            report_due=due,
            municipality_codes=[case.municipality_code],
            expert_user_ids=expert_ids,
            now=starts - dt.timedelta(days=7),
        )
        return Booked(case.id, case.case_no, session.id, due)


async def run(bot: ChatBot, clock: FixedClock, when: str) -> PassReport:
    """One reminder pass at ``when`` (JST), then deliver what it queued."""
    clock.set(jst(when))
    report = await remind_once(bot.services)  # type: ignore[arg-type]
    await bot.deliver()
    return report


async def outbox_rows(services: Any) -> list[OutboxMessage]:
    async with services.db.transaction() as s:
        return list((await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def ledger(services: Any) -> list[ReminderLedger]:
    async with services.db.transaction() as s:
        return list((await s.scalars(select(ReminderLedger).order_by(ReminderLedger.id))).all())


def to(bot: ChatBot, target: str) -> list[Outbound]:
    return [m for _, t, m in bot.sender.sent if t == target]


def texts_to(bot: ChatBot, target: str) -> list[str]:
    return [m.text for m in to(bot, target)]


async def case_status(services: Any, case_id: int) -> str:
    async with services.db.transaction() as s:
        case = await s.get(Case, case_id)
        assert case is not None
        return case.status


# --- a session ends ---------------------------------------------------------------------------------


async def test_session_end_moves_the_case_and_asks_the_expert(
    bot: ChatBot, clock: FixedClock
) -> None:
    b = await book(bot.services, "2026-11-19 14:00")
    assert (await run(bot, clock, "2026-11-19 14:55")).ended == 0
    assert bot.sender.sent == []

    report = await run(bot, clock, "2026-11-19 15:00")

    assert report.ended == 1
    assert await case_status(bot.services, b.case_id) == "held"
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        session = await s.get(SupportSession, b.session_id)
        assert session is not None and session.status == "done"
        history = await case_store.history(s, b.case_id)
    assert [(h.from_status, h.to_status, h.actor_label) for h in history][1:] == [
        ("scheduled", "held", "自動")
    ]
    expert1 = await person(bot.services, "expert1")
    assert report.sent == [f"expert:{expert1.id} {b.case_no} request"]
    (ping,) = to(bot, "expert1")
    assert ping.text.startswith(
        "ご支援いただきありがとうございました。支援実施報告の作成をお願いいたします:"
    )
    assert (
        f"・{b.case_no}（2026年11月19日(木) 14:00〜15:00実施）期限 2026年11月27日(金) — あと5開庁日"
        in ping.text
    )
    assert "「あとで」" in ping.text
    assert ping.action_id == "report_start"
    assert [(c.label, c.value) for c in ping.choices] == [
        (f"{b.case_no}（2026年11月19日(木) 14:00〜15:00）の報告を始める", str(b.session_id))
    ]
    changed = f"【{b.case_no}】状態が「実施予定」から「実施済(報告待ち)」に変わりました"
    assert any(changed in x for x in texts_to(bot, "staff"))
    assert any(changed in x for x in texts_to(bot, "prefecture"))
    assert [(r.key, r.recipient) for r in await ledger(bot.services)] == [
        (f"report:{b.session_id}:request", "expert")
    ]


async def test_a_cancelled_or_reported_session_is_not_chased(
    bot: ChatBot, clock: FixedClock
) -> None:
    cancelled = await book(bot.services, "2026-11-19 10:00")
    reported = await book(bot.services, "2026-11-19 13:00")
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        gone = await s.get(SupportSession, cancelled.session_id)
        done = await s.get(SupportSession, reported.session_id)
        assert gone is not None and done is not None
        gone.status = "cancelled"
        await session_store.add_report(
            s, done, {"summary": "済"}, author_user_id=None, now=jst("2026-11-19 15:00")
        )
    for when in ("2026-11-19 16:00", "2026-11-25 09:00", "2026-11-27 09:00", "2026-12-02 09:00"):
        assert (await run(bot, clock, when)).sent == []
    assert texts_to(bot, "expert1") == []


# --- restart, downtime ---------------------------------------------------------------------------------


async def test_a_restart_sends_nothing_twice(
    bot: ChatBot, clock: FixedClock, settings: Settings
) -> None:
    await book(bot.services, "2026-11-19 14:00")
    first = await run(bot, clock, "2026-11-19 15:00")
    assert len(first.sent) == 1
    before = len(await outbox_rows(bot.services))

    # A new process on the same database, at the same moment (cron re-run, crash and restart).
    for when in ("2026-11-19 15:00", "2026-11-19 16:55"):
        again = build_services(settings, clock=FixedClock(jst(when)))
        try:
            report = await remind_once(again)
        finally:
            await again.db.dispose()
        assert (report.ended, report.sent, report.collapsed) == (0, [], 0)
    await bot.deliver()
    assert len(await outbox_rows(bot.services)) == before
    assert len(to(bot, "expert1")) == 1


async def test_after_downtime_each_missed_step_is_caught_up_once(
    bot: ChatBot, clock: FixedClock
) -> None:
    b = await book(bot.services, "2026-11-19 14:00")
    # The bot was down from before the session until Monday after the due day.
    report = await run(bot, clock, "2026-11-30 10:00")
    assert report.ended == 1
    assert report.collapsed == 3
    expert1 = await person(bot.services, "expert1")
    assert report.sent == [
        f"expert:{expert1.id} {b.case_no} overdue:1",
        f"staff {b.case_no} overdue:1",
    ]
    (ping,) = to(bot, "expert1")
    assert "提出期限を過ぎた支援実施報告があります" in ping.text and "1開庁日超過" in ping.text
    assert "あとで" not in ping.text  # no snooze offered past the due day
    (late,) = [x for x in texts_to(bot, "staff") if x.startswith("【報告遅延】")]
    assert (
        f"{b.case_no}（2026年11月19日(木) 14:00〜15:00実施）期限 2026年11月27日(金) — 1開庁日超過"
        in late
    )
    assert [(r.step, r.recipient) for r in await ledger(bot.services)] == [
        ("request", "collapsed"),
        ("before_due", "collapsed"),
        ("due_day", "collapsed"),
        ("overdue:1", "expert,staff"),
    ]
    # Later that day nothing; the next 開庁日 brings overdue:2 only.
    assert (await run(bot, clock, "2026-11-30 16:00")).sent == []
    nxt = await run(bot, clock, "2026-12-01 09:00")
    assert [line.split()[-1] for line in nxt.sent] == ["overdue:2", "overdue:2"]
    assert nxt.collapsed == 0


async def test_the_whole_chase_on_open_days_with_escalation(
    bot: ChatBot, clock: FixedClock
) -> None:
    """A pass every hour, around the clock, for three weeks: what each party receives."""
    b = await book(bot.services, "2026-11-19 14:00")
    moments = [jst("2026-11-19 00:00") + dt.timedelta(hours=h) for h in range(24 * 15)]
    log: list[tuple[str, str]] = []
    for when in moments:
        clock.set(when)
        report = await remind_once(bot.services)
        log.extend((when.strftime("%m-%d %H:%M"), line) for line in report.sent)
    await bot.deliver()
    steps = [(when, line.split()[0].split(":")[0], line.split()[-1]) for when, line in log]
    assert steps == [
        ("11-19 15:00", "expert", "request"),
        ("11-25 09:00", "expert", "before_due"),
        ("11-27 09:00", "expert", "due_day"),
        ("11-30 09:00", "expert", "overdue:1"),
        ("11-30 09:00", "staff", "overdue:1"),
        ("12-01 09:00", "expert", "overdue:2"),
        ("12-01 09:00", "staff", "overdue:2"),
        ("12-02 09:00", "expert", "overdue:3"),
        ("12-02 09:00", "staff", "overdue:3"),
        ("12-02 09:00", "prefecture", "prefecture"),
        ("12-03 09:00", "expert", "overdue:4"),
        ("12-03 09:00", "staff", "overdue:4"),
    ]
    assert len(to(bot, "expert1")) == 7
    pref = [x for x in texts_to(bot, "prefecture") if "報告遅延" in x]
    assert len(pref) == 1 and b.case_no in pref[0] and "3開庁日超過" in pref[0]
    due_day = to(bot, "expert1")[2].text
    assert "本日が期限" in due_day


# --- two processes at once ---------------------------------------------------------------------------


# Replicas run on PostgreSQL; SQLite is the single-process embedded store.
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_two_concurrent_passes_send_each_ping_once(
    bot: ChatBot, clock: FixedClock, settings: Settings, db_url: str
) -> None:
    booked = [
        await book(bot.services, f"2026-11-19 {10 + i % 5}:00", experts=(f"expert{1 + i % 3}",))
        for i in range(12)
    ]
    # One case with two sessions, so two passes may race on the same case row too.
    booked.append(await book(bot.services, "2026-11-19 13:30", case_id=booked[0].case_id))
    a = build_services(settings, clock=clock)
    b = build_services(settings, clock=clock)
    try:
        totals: list[str] = []
        for when in (
            "2026-11-19 16:00",
            "2026-11-25 09:00",
            "2026-11-27 09:00",
            "2026-11-30 09:00",
            "2026-12-02 09:00",
        ):
            clock.set(jst(when))
            ra, rb = await asyncio.gather(remind_once(a), remind_once(b))
            totals += ra.sent + rb.sent
            assert ra.ended + rb.ended == (len(booked) if when.startswith("2026-11-19") else 0)
    finally:
        await a.db.dispose()
        await b.db.dispose()
    await bot.deliver()

    # Each (session, step) claimed once; each line reported by exactly one of the passes.
    keys = Counter(r.key for r in await ledger(bot.services))
    assert set(keys.values()) == {1}
    assert len(keys) == len(booked) * 6  # request, before_due, due_day, overdue:1, :3, prefecture
    # expert ×5 steps, staff ×2 overdue days, prefecture once — per session, summed over both
    assert len(totals) == len(booked) * (5 + 2 + 1)
    per_expert = Counter(line.split()[0] for line in totals if line.startswith("expert"))
    assert sum(per_expert.values()) == len(booked) * 5
    # Exactly the messages one pass would have written: one status change per case to staff and
    # the prefecture, one bundle per expert per step day, one staff and one prefecture message
    # per overdue day.
    rows = await outbox_rows(bot.services)
    cases = {x.case_id for x in booked}
    by_target = Counter(r.target for r in rows)
    assert by_target["expert1"] == by_target["expert2"] == by_target["expert3"] == 5
    assert by_target["staff"] == len(cases) + 2
    assert by_target["prefecture"] == len(cases) + 1
    assert sum(by_target.values()) == len(rows)
    history = Counter()
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        for case_id in cases:
            history.update(h.to_status for h in await case_store.history(s, case_id))
    assert history == {"scheduled": len(cases), "held": len(cases)}
    # … and each was delivered once.
    assert len(bot.sender.sent) == len(rows)


# --- delivery failures ------------------------------------------------------------------------------


async def test_a_failed_delivery_is_retried_and_the_step_not_sent_again(
    bot: ChatBot, clock: FixedClock
) -> None:
    await book(bot.services, "2026-11-19 14:00")
    bot.sender = RecordingSender(fail_times=10)  # the platform is down
    await run(bot, clock, "2026-11-19 15:00")
    assert bot.sender.sent == []
    pending = [r for r in await outbox_rows(bot.services) if r.delivered_at is None]
    ping = [r for r in pending if r.target == "expert1"]
    assert len(ping) == 1 and ping[0].attempts == 1 and ping[0].last_error

    # The pass runs again while the platform is still down: the step is not queued again.
    for when in ("2026-11-19 15:05", "2026-11-19 15:10"):
        assert (await run(bot, clock, when)).sent == []
    assert len([r for r in await outbox_rows(bot.services) if r.target == "expert1"]) == 1

    bot.sender.fail_times = 0
    clock.set(jst("2026-11-19 17:30"))  # past any backoff
    await bot.deliver()
    (delivered,) = to(bot, "expert1")
    assert delivered.text.startswith("ご支援いただきありがとうございました")
    assert all(r.delivered_at is not None for r in await outbox_rows(bot.services))


# --- bundles ----------------------------------------------------------------------------------------


async def test_one_message_carries_all_of_one_experts_pending_reports(
    bot: ChatBot, clock: FixedClock
) -> None:
    # Three sessions of expert1 due the same day, one of expert2.
    mine = [
        await book(bot.services, "2026-11-19 09:30"),
        await book(bot.services, "2026-11-19 13:00"),
        await book(bot.services, "2026-11-19 15:00", experts=("expert1", "expert2")),
    ]
    await run(bot, clock, "2026-11-19 16:30")  # three requests, one bundle
    (first,) = to(bot, "expert1")
    assert first.text.count("・") == 3
    assert [c.value for c in first.choices] == [str(b.session_id) for b in mine]
    (theirs,) = to(bot, "expert2")
    assert theirs.text.count("・") == 1 and mine[2].case_no in theirs.text

    await run(bot, clock, "2026-11-27 09:00")
    due_day = to(bot, "expert1")[-1]
    assert len(to(bot, "expert1")) == 2
    assert due_day.text.count("本日が期限") == 3
    await run(bot, clock, "2026-11-30 09:00")
    staff = [x for x in texts_to(bot, "staff") if x.startswith("【報告遅延】")]
    assert len(staff) == 1 and all(b.case_no in staff[0] for b in mine)


async def test_a_large_bundle_fits_the_outbox(bot: ChatBot, clock: FixedClock) -> None:
    """Twenty overdue reports in one staff message: the outbox dedupe key stays within its column
    (PostgreSQL enforces VARCHAR(200); SQLite would not notice)."""
    booked = [await book(bot.services, "2026-11-19 10:00") for _ in range(20)]
    report = await run(bot, clock, "2026-11-30 10:00")
    # Due 11/27; 11/30 is the first 開庁日 overdue: expert1 and staff, for each of the 20.
    expert1 = await person(bot.services, "expert1")
    assert sorted(report.sent) == sorted(
        [f"expert:{expert1.id} {b.case_no} overdue:1" for b in booked]
        + [f"staff {b.case_no} overdue:1" for b in booked]
    )
    staff = [x for x in texts_to(bot, "staff") if x.startswith("【報告遅延】")]
    assert len(staff) == 1 and staff[0].count("・") == 20
    assert all(f"{b.case_no}（2026年11月19日(木) 10:00〜11:00実施）" in staff[0] for b in booked)
    (ping,) = to(bot, "expert1")
    assert ping.text.count("1開庁日超過") == 20
    assert all(len(r.dedupe_key or "") <= 200 for r in await outbox_rows(bot.services))
    assert (await run(bot, clock, "2026-11-30 11:00")).sent == []


async def test_dates_in_pings_are_japanese_days(bot: ChatBot, clock: FixedClock) -> None:
    """A session at 08:30 JST is 23:30 UTC the day before: the ping must show the JST day."""
    b = await book(bot.services, "2026-11-19 08:30")
    await run(bot, clock, "2026-11-19 10:00")
    (ping,) = to(bot, "expert1")
    assert f"{b.case_no}（2026年11月19日(木) 08:30〜09:30実施）" in ping.text


# --- monthly report -----------------------------------------------------------------------------


def monthly(bot: ChatBot) -> list[str]:
    return [x for x in texts_to(bot, "staff") if "月例業務報告" in x]


async def test_monthly_report_reminders_before_the_10th_and_on_the_day(
    bot: ChatBot, clock: FixedClock
) -> None:
    # The November report is due Thursday 12/10; 'before' from three 開庁日 earlier (12/7).
    for day in ("2026-12-04", "2026-12-05", "2026-12-06"):
        assert (await run(bot, clock, f"{day} 10:00")).sent == []
    assert (await run(bot, clock, "2026-12-07 08:00")).sent == []  # before office hours
    assert (await run(bot, clock, "2026-12-07 09:00")).sent == [
        "staff monthly report 2026-11 before"
    ]
    for day in ("2026-12-08", "2026-12-09"):
        assert (await run(bot, clock, f"{day} 10:00")).sent == []
    assert (await run(bot, clock, "2026-12-10 09:00")).sent == ["staff monthly report 2026-11 due"]
    assert (await run(bot, clock, "2026-12-11 09:00")).sent == []
    assert monthly(bot) == [
        "2026年11月分の月例業務報告の期限は2026年12月10日(木)です。準備をお願いします。",
        "本日2026年12月10日(木)は2026年11月分の月例業務報告の期限です。",
    ]


async def test_monthly_report_due_on_a_closed_day(bot: ChatBot, clock: FixedClock) -> None:
    """The December report is due Sunday 2027-01-10 (Saitama keeps the 10th as is): staff are
    reminded before it and on the last 開庁日 before it, since no ping goes out on a Sunday."""
    sent: list[str] = []
    for day in range(4, 13):
        sent += (await run(bot, clock, f"2027-01-{day:02d} 09:00")).sent
    assert sent == [
        "staff monthly report 2026-12 before",
        "staff monthly report 2026-12 due",
    ]
    assert "2027年1月10日(日)" in monthly(bot)[-1]


async def test_final_month_has_both_reports_reminded(bot: ChatBot, clock: FixedClock) -> None:
    """March 2027: the February report (due 3/10) and the March report (due 3/31, the term's
    end) are both chased."""
    sent: list[str] = []
    day = dt.date(2027, 3, 1)
    while day <= dt.date(2027, 3, 31):
        sent += (await run(bot, clock, f"{day.isoformat()} 09:00")).sent
        day += dt.timedelta(days=1)
    # (The profile's deliverables due 3/31 are chased too: tests/test_deliverables.py.)
    assert [line for line in sent if line.startswith("staff monthly")] == [
        "staff monthly report 2027-02 before",
        "staff monthly report 2027-02 due",
        "staff monthly report 2027-03 before",
        "staff monthly report 2027-03 due",
    ]
    assert "2027年3月31日(水)" in monthly(bot)[-1]


# --- survey reminders and the grace period ---------------------------------------------------------


async def report_in(bot: ChatBot, clock: FixedClock, b: Booked, when: str) -> None:
    """The expert's report is in (the follow-up flow itself is tested in test_followup.py)."""
    clock.set(jst(when))
    services: Any = bot.services
    async with services.db.transaction() as s:
        ctx = system_context(services, s)
        session = await s.get(SupportSession, b.session_id)
        case = await s.get(Case, b.case_id)
        assert session is not None and case is not None
        await session_store.add_report(
            s, session, {"summary": "済"}, author_user_id=None, now=clock.now()
        )
        await change_status(ctx, case, "reported")
        await request_survey(s, ctx, session, case)
    await bot.deliver()


async def test_survey_reminder_then_case_closed_after_the_grace_period(
    bot: ChatBot, clock: FixedClock
) -> None:
    b = await book(bot.services, "2026-11-19 14:00")
    await run(bot, clock, "2026-11-19 15:00")
    await report_in(bot, clock, b, "2026-11-19 16:00")
    assert any("アンケートにご協力ください" in x for x in texts_to(bot, "officer1"))

    # reminder_after_open_days = 3: 11/20, 11/24, 11/25 → reminded on 11/25.
    assert (await run(bot, clock, "2026-11-24 16:00")).sent == []
    assert (await run(bot, clock, "2026-11-25 09:00")).sent == [
        f"officer survey reminder for session {b.session_id}"
    ]
    assert (await run(bot, clock, "2026-11-26 09:00")).sent == []
    reminders = [x for x in texts_to(bot, "officer1") if "ご回答をお待ちしております" in x]
    assert reminders == [
        f"{b.case_no}（2026年11月19日(木)実施）の支援についてのアンケートへのご回答を"
        "お待ちしております。ご協力をお願いいたします。"
    ]

    # grace_open_days = 10: the 10th 開庁日 after 11/19 is 12/4.
    assert (await run(bot, clock, "2026-12-03 16:00")).sent == []
    assert await case_status(bot.services, b.case_id) == "reported"
    closed = await run(bot, clock, "2026-12-04 09:00")
    assert closed.sent == [f"case {b.case_id} closed after the survey grace period"]
    assert await case_status(bot.services, b.case_id) == "closed"
    assert any(
        "「報告済」から「完了」" in x and "アンケートの回答期間が過ぎたため" in x
        for x in texts_to(bot, "staff")
    )
    assert any("は完了しました" in x for x in texts_to(bot, "officer1"))
    # Nothing more is chased for this session.
    assert not any(
        "survey" in line or "case" in line
        for line in (await run(bot, clock, "2026-12-07 10:00")).sent
    )


async def test_grace_period_does_not_close_a_case_with_an_open_session(
    bot: ChatBot, clock: FixedClock
) -> None:
    b = await book(bot.services, "2026-11-19 14:00")
    later = await book(bot.services, "2026-12-15 14:00", case_id=b.case_id)
    await run(bot, clock, "2026-11-19 15:00")
    await report_in(bot, clock, b, "2026-11-19 16:00")
    # 12/4 is the 10th 開庁日 after the report (grace_open_days = 10), as in the test above.
    report = await run(bot, clock, "2026-12-04 09:00")
    assert f"case {b.case_id} closed after the survey grace period" not in report.sent
    assert await case_status(bot.services, b.case_id) == "reported"
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        still = await s.get(SupportSession, later.session_id)
        assert still is not None and still.status == "scheduled"
    assert not any("は完了しました" in x for x in texts_to(bot, "officer1"))


# --- as an operator runs it ---------------------------------------------------------------------


async def _dxbot(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "dxbot"),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_dxbot_remind_now_prints_what_it_sent_and_is_idempotent(tmp_path: Path) -> None:
    from sqlalchemy import select as sa_select

    from bot.demo import add_people
    from store.migrate import upgrade
    from store.models import Municipality
    from store.seed import seed_program

    url = f"sqlite+aiosqlite:///{tmp_path / 'remind.db'}"
    settings = Settings(_env_file=None, DATABASE_URL=url, DXBOT_PROGRAM="saitama-2026")  # type: ignore[call-arg]
    services = build_services(settings, clock=FixedClock(jst("2026-11-16 10:00")))
    try:
        await upgrade(services.db.engine)
        async with services.db.transaction() as s:
            await seed_program(s, services.profile, services.clock.now())
            munis = list(
                (
                    await s.scalars(
                        sa_select(Municipality)
                        .where(Municipality.prefecture_code == "11")
                        .order_by(Municipality.code)
                    )
                ).all()
            )
            await add_people(s, munis, services.clock.now())
        b = await book(services, "2026-11-19 14:00")
    finally:
        await services.db.dispose()

    env = {**os.environ, "DATABASE_URL": url, "DXBOT_PROGRAM": "saitama-2026"}
    now = "2026-11-19T15:00:00+09:00"
    code, out, err = await _dxbot(env, "remind", "--now", now)
    assert code == 0, err
    assert re.search(rf"^queued: expert:\d+ {b.case_no} request$", out, re.MULTILINE), out
    assert (
        "[→ @expert1] ご支援いただきありがとうございました。支援実施報告の作成をお願いいたします:"
        in out
    )
    assert f"【{b.case_no}】状態が「実施予定」から「実施済(報告待ち)」に変わりました" in out
    assert "1 sessions ended, 1 pings queued, 0 missed steps collapsed" in out
    assert "delivered 3, failed 0" in out  # the ping, and the status change to staff and prefecture

    code, again, err = await _dxbot(env, "remind", "--now", now)
    assert code == 0, err
    assert "queued:" not in again and "[→" not in again
    assert "0 sessions ended, 0 pings queued, 0 missed steps collapsed" in again
    assert "delivered 0, failed 0" in again
    assert "Traceback" not in out + again


async def test_ledger_rows_match_the_outbox(bot: ChatBot, clock: FixedClock) -> None:
    """Every ledger claim of a sent step has its message in the outbox (same transaction)."""
    for i in range(3):
        await book(bot.services, f"2026-11-19 1{i}:00", experts=(f"expert{i + 1}",))
    await run(bot, clock, "2026-11-19 16:00")
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        claims = await s.scalar(select(func.count()).select_from(ReminderLedger))
        pings = await s.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.dedupe_key.like("ping:%"))
        )
    assert claims == pings == 3
