"""The deliverables' share of the reminder pass: make the due items the profile's rules ask for
(a new month's report, a 議事録 for a meeting recorded since, a 調査報告書 moved by a later
hearing), then remind the staff of the open ones through the same ledger as every other ping.

Each open item has at most three steps, each claimed once under a unique key
(``deliv:{item_id}:before`` / ``:due`` / ``:overdue``): ``before`` from the
``before_due_open_days``-th 開庁日 before the due day, ``due`` on the due day (or the last
開庁日 before it when the due day is closed), ``overdue`` on the first pass after it. Which step
applies is decided by today alone, so a step missed during downtime is never sent late, a
repeated pass finds its key taken, and a second replica's INSERT loses on the unique key.

An item made after its due day had passed (a program loaded in mid-term: its 計画書 was due in
April; a meeting recorded a week late) is not chased: the bot did not see that deadline come,
and a burst of 'overdue' pings for work long done would bury the real ones. /status still
shows it as overdue until staff close it with `/dx done`.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from reminders.calendar import BusinessCalendar
from reminders.clock import JST
from reminders.deliverables import EventDay, before_event_due, due_items
from store import deliverables as item_store
from store import program_events as event_store
from store import reminders as ledger
from store.db import Session
from store.models import DeliverableItem
from store.profile_structure import AfterLastSession
from store.profiles import ProgramProfile, ReminderPolicy

BEFORE, DUE, OVERDUE = "before", "due", "overdue"


class DeliverablePort(Protocol):
    """What the pass asks of the journeys: tell the staff of these items (one message)."""

    async def deliverable_ping(
        self, s: Session, items: list[tuple[DeliverableItem, str]]
    ) -> None: ...


def ledger_key(item_id: int, step: str) -> str:
    return f"deliv:{item_id}:{step}"


def step_for(
    due: dt.date, today: dt.date, cal: BusinessCalendar, policy: ReminderPolicy
) -> str | None:
    """Which reminder of an open item is due today (an open day), if any."""
    if today > due:
        return OVERDUE
    if today == cal.previous_open_day(due, include_self=True):
        return DUE
    n = policy.before_due_open_days
    if n > 0 and before_event_due(cal, due, n) <= today < due:
        return BEFORE
    return None


async def refresh(
    s: Session,
    profile: ProgramProfile,
    cal: BusinessCalendar,
    now: dt.datetime,
    is_demo: bool = False,
) -> tuple[int, int]:
    """Make the missing items and move the open ones whose rule now says another day;
    (made, moved). Called by the pass, and when staff record an event or list items."""
    if not profile.deliverables:
        return 0, 0
    events = [EventDay(e.id, e.kind, e.held_on) for e in await event_store.listed(s, profile.id)]
    tracks = {d.due.track for d in profile.deliverables if isinstance(d.due, AfterLastSession)}
    last = await item_store.last_held_days(s, profile.id, now, tracks)
    wanted = due_items(
        profile.deliverables,
        profile.term_start,
        profile.term_end,
        cal,
        events,
        last,
        as_of=now.astimezone(JST).date(),
    )
    return await item_store.sync(s, profile.id, wanted, now, is_demo=is_demo)


async def pings(
    s: Session,
    now: dt.datetime,
    profile: ProgramProfile,
    cal: BusinessCalendar,
    port: DeliverablePort,
) -> list[str]:
    """Claim today's step of each open item and tell the staff of those this pass won; the
    caller has checked office hours on a 開庁日. Returns a line per ping for the pass report."""
    today = now.astimezone(JST).date()
    due_now: list[tuple[DeliverableItem, str]] = []
    for item in await item_store.listed(s, profile.id):
        if item.created_at.astimezone(JST).date() > item.due_on:
            continue  # made already late: shown in /status, not chased (see above)
        step = step_for(item.due_on, today, cal, profile.reminders)
        if step is not None:
            due_now.append((item, step))
    claims = [
        ledger.Claim(ledger_key(item.id, step), None, f"deliv_{step}", "staff")
        for item, step in due_now
    ]
    won = await ledger.claim_steps(s, claims, now)
    mine = [(item, step) for item, step in due_now if ledger_key(item.id, step) in won]
    if mine:
        await port.deliverable_ping(s, mine)
    return [f"staff deliverable D{item.id} {step}" for item, step in mine]
