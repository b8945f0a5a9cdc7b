"""The ledger claim decides what the reminder pass sends, on SQLite as on PostgreSQL.

``store.reminders.claim_steps`` must report only the keys it recorded itself, and the pass must
send only the steps it won: when another pass claimed a step between our planning and our claim
(two replicas, a cron run beside the server), ours sends nothing for it. Both engines run every
test here; the race is made deterministic by holding both passes at the claim until each has
planned the same steps.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Sequence

import pytest
from sqlalchemy import select

from bot.app import build_services, remind_once
from bot.core.config import Settings
from reminders.clock import JST, FixedClock
from store import reminders as ledger_store
from store.db import Database, Session
from store.models import ReminderLedger
from tests.conftest import ChatBot
from tests.test_reminder_pass import book, jst, ledger, outbox_rows, person, run, to

AT = dt.datetime(2026, 11, 19, 15, 0, tzinfo=JST)


def _claim(key: str) -> ledger_store.Claim:
    return ledger_store.Claim(key=key, session_id=None, step="monthly_before", recipient="staff")


async def test_claim_steps_reports_only_the_keys_it_recorded(db: Database) -> None:
    async with db.transaction() as s:
        first = await ledger_store.claim_steps(s, [_claim("monthly:a"), _claim("monthly:b")], AT)
    assert first == {"monthly:a", "monthly:b"}

    async with db.transaction() as s:
        again = await ledger_store.claim_steps(
            s, [_claim("monthly:a"), _claim("monthly:c"), _claim("monthly:b")], AT
        )
    assert again == {"monthly:c"}  # a and b were already in the ledger

    async with db.transaction() as s:
        assert await ledger_store.claim_steps(s, [_claim("monthly:c")], AT) == set()
        assert await ledger_store.claim_steps(s, [], AT) == set()
        keys = (await s.scalars(select(ReminderLedger.key).order_by(ReminderLedger.key))).all()
    assert list(keys) == ["monthly:a", "monthly:b", "monthly:c"]


async def test_a_step_claimed_by_another_pass_meanwhile_is_not_sent(
    bot: ChatBot, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another pass records the first follow-up request after ours planned it: ours must not send
    it (the ledger row is theirs, and so is the message)."""
    b = await book(bot.services, "2026-11-19 14:00")
    taken = f"report:{b.session_id}:request"
    real = ledger_store.claim_steps

    async def other_pass_first(
        s: Session, claims: Sequence[ledger_store.Claim], now: dt.datetime
    ) -> set[str]:
        if any(c.key == taken for c in claims):
            s.add(
                ReminderLedger(
                    key=taken, session_id=b.session_id, step="request", recipient="expert",
                    created_at=now,
                )
            )  # fmt: skip
            await s.flush()
        return await real(s, claims, now)

    monkeypatch.setattr(ledger_store, "claim_steps", other_pass_first)
    report = await run(bot, clock, "2026-11-19 15:00")

    assert report.ended == 1  # the session was moved on …
    assert report.sent == []  # … but the request was not ours to send
    assert to(bot, "expert1") == []
    assert [r.key for r in await ledger(bot.services)] == [taken]
    assert not [r for r in await outbox_rows(bot.services) if r.target == "expert1"]


async def test_two_passes_racing_on_one_database_send_each_ping_once(
    bot: ChatBot, clock: FixedClock, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes' passes (two engines on one database) both plan the same steps before
    either claims; each ping still goes out exactly once."""
    first = await book(bot.services, "2026-11-19 10:00", experts=("expert1",))
    second = await book(bot.services, "2026-11-19 13:00", experts=("expert2",))
    real = ledger_store.claim_steps
    barrier = asyncio.Barrier(2)

    async def after_both_planned(
        s: Session, claims: Sequence[ledger_store.Claim], now: dt.datetime
    ) -> set[str]:
        if claims:  # the session pings; both passes must have planned them by now
            await asyncio.wait_for(barrier.wait(), 30)
        return await real(s, claims, now)

    monkeypatch.setattr(ledger_store, "claim_steps", after_both_planned)
    a = build_services(settings, clock=clock)
    c = build_services(settings, clock=clock)
    sent: list[str] = []
    try:
        for when in ("2026-11-19 16:00", "2026-11-25 09:00", "2026-11-27 09:00"):
            clock.set(jst(when))
            barrier = asyncio.Barrier(2)
            ra, rc = await asyncio.gather(remind_once(a), remind_once(c))
            sent += ra.sent + rc.sent
    finally:
        await a.db.dispose()
        await c.db.dispose()
    await bot.deliver()

    e1 = (await person(bot.services, "expert1")).id
    e2 = (await person(bot.services, "expert2")).id
    assert sorted(sent) == sorted(
        f"expert:{uid} {b.case_no} {step}"
        for uid, b in ((e1, first), (e2, second))
        for step in ("request", "before_due", "due_day")
    )
    keys = Counter(r.key for r in await ledger(bot.services))
    assert set(keys.values()) == {1} and len(keys) == 6
    # expert1 and expert2 each received the request, the before-due and the due-day ping once.
    assert len(to(bot, "expert1")) == 3
    assert len(to(bot, "expert2")) == 3
    assert sum("本日が期限" in m.text for m in to(bot, "expert1")) == 1
