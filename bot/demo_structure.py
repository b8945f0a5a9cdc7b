"""Demo meetings, events and deliverables for `dxbot seed --demo` / `make run`: whatever the
profile declares, so a newcomer sees /dx events, /dx deliverables and their lines in /status.

Deterministic (dates from the term and ``now`` alone): each meeting kind met monthly from the
term's first month (the first 開庁日 on or after the 15th), as many as expected and held by
``now``, plus the next one ahead; a meeting expected once (a kickoff) 7 開庁日 into the term;
an event that is not a meeting once, half way through the term, if that day has passed. The
items the profile's rules make are then closed on their due day by the demo staff member —
except the latest event's item that is already late (a 議事録 in most programs), left open so
/status shows a late one — and those still ahead stay open.
"""

from __future__ import annotations

import datetime as dt

from reminders import deliverable_pass
from reminders.calendar import BusinessCalendar
from reminders.clock import JST
from store import deliverables as item_store
from store import program_events
from store.db import Session
from store.profile_structure import EventKind
from store.profiles import ProgramProfile

STAFF_NAME = "佐藤 美咲"  # the demo staff member (bot/demo.py PEOPLE)
ATTENDEES = ("佐藤 美咲", "鈴木 一郎")
PLACE = "県庁 会議室（オンライン併用）"


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    out, day = [], start.replace(day=1)
    while day <= end:
        out.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return out


def meeting_days(
    kind: EventKind, profile: ProgramProfile, cal: BusinessCalendar, today: dt.date
) -> list[dt.date]:
    """The demo's days of one kind: those held by ``today`` and, for a monthly meeting, the
    next one ahead (inside the term)."""
    start, end = profile.term_start, profile.term_end
    if kind.meeting and kind.expected == 1:
        day = cal.add_open_days(start, 7)
        return [day] if day <= today else []
    if not kind.meeting:
        middle = start + (end - start) / 2
        day = cal.next_open_day(middle, include_self=True)
        return [day] if day <= today else []
    days: list[dt.date] = []
    for first in _months(start, end):
        day = cal.next_open_day(max(first.replace(day=15), start), include_self=True)
        if day > end or (kind.expected is not None and len(days) >= kind.expected):
            break
        days.append(day)
        if day > today:
            break  # the next one ahead: its 資料 due soon, its 議事録 to come
    return days


async def add_demo_structure(
    s: Session, profile: ProgramProfile, cal: BusinessCalendar, now: dt.datetime
) -> int:
    """Record the demo events and make and close the demo items; returns the events made."""
    if not profile.events and not profile.deliverables:
        return 0
    today = now.astimezone(JST).date()
    made = 0
    for kind in profile.events:
        for day in meeting_days(kind, profile, cal, today):
            await program_events.record(
                s,
                program_id=profile.id,
                kind=kind.id,
                held_on=day,
                now=now,
                place=PLACE,
                attendees=ATTENDEES,
                notes=f"{day.month}月の{kind.name}",
                created_by=STAFF_NAME,
                is_demo=True,
            )
            made += 1
    await deliverable_pass.refresh(s, profile, cal, now, is_demo=True)
    items = await item_store.listed(s, profile.id)
    late = [i for i in items if i.due_on < today]
    left_open = max(
        (i for i in late if i.event_id is not None), key=lambda i: (i.due_on, i.id), default=None
    )
    for item in late:
        if item is not left_open:
            closed = dt.datetime.combine(item.due_on, dt.time(16, 0), tzinfo=JST)
            await item_store.mark_done(s, item, STAFF_NAME, closed)
    return made
