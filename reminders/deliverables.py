"""Pure due rules of the profile's deliverables: which items a program owes and by when.

Given the profile's ``deliverables`` specs, the term, the 開庁日 calendar, the events recorded
and the last held session of each track, :func:`due_items` lists every item that is due, one
per (spec, period): '' for a one-off, 'YYYY-MM' for a month, 'E<id>' for an event. Nothing here
reads the clock or the database, so every rule is tested with hand-worked dates; the store
(store/deliverables.py) makes the items idempotently from this list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reminders.calendar import BusinessCalendar
from reminders.deadlines import add_months_clamped, minutes_due, monthly_report_due
from store.profile_structure import (
    AfterEvent,
    AfterLastSession,
    AfterTermStart,
    BeforeEvent,
    Deliverable,
    FixedDate,
    Monthly,
)

__all__ = ["DueItem", "EventDay", "before_event_due", "due_items", "event_period"]


@dataclass(frozen=True)
class EventDay:
    """A recorded event as the rules see it: its id, kind (profile events[].id) and day."""

    id: int
    kind: str
    held_on: dt.date


@dataclass(frozen=True)
class DueItem:
    """One item a deliverable spec makes due (unique per (spec_id, period))."""

    spec_id: str
    period: str
    title: str
    due_on: dt.date
    event_id: int | None = None


def event_period(event_id: int) -> str:
    """The period of an item made for one event (its short id, E12)."""
    return f"E{event_id}"


def before_event_due(cal: BusinessCalendar, event_day: dt.date, open_days: int) -> dt.date:
    """The ``open_days``-th 開庁日 before the event day (資料 the day before: 1 → the last
    開庁日 before it; a Monday meeting's 資料 is due the Friday before)."""
    day = event_day
    for _ in range(open_days):
        day = cal.previous_open_day(day)
    return day


def _months(start: dt.date, end: dt.date) -> list[tuple[int, int]]:
    """Every (year, month) the term touches, first to last."""
    out = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def due_items(
    specs: Sequence[Deliverable],
    term_start: dt.date,
    term_end: dt.date,
    cal: BusinessCalendar,
    events: Iterable[EventDay] = (),
    last_sessions: Mapping[str, dt.date] | None = None,
    as_of: dt.date | None = None,
) -> list[DueItem]:
    """Every item the specs make due, in spec order then period order.

    - fixed_date: one item on the date;
    - after_event / before_event: one item per event of the rule's kind, N 開庁日 after
      (the event day never counts, like minutes_due) or before it;
    - after_last_session: one item N calendar months after the track's last held session
      (clamped to the month's end), only once the track has one; a later session moves it;
    - after_term_start: one item N 開庁日 after term_start;
    - monthly: one item per month of the term, due on day N of the following month, the
      final month included, a closed day handled by the rule's closed_day_rule.
    ``as_of``: monthly items are made only for months that have begun by then (none for
    next winter's months in May); None makes them all.
    """
    events = list(events)
    last = last_sessions or {}
    out: list[DueItem] = []
    for spec in specs:
        rule = spec.due
        if isinstance(rule, FixedDate):
            out.append(DueItem(spec.id, "", spec.name, rule.date))
        elif isinstance(rule, AfterTermStart):
            out.append(
                DueItem(spec.id, "", spec.name, cal.add_open_days(term_start, rule.open_days))
            )
        elif isinstance(rule, AfterEvent | BeforeEvent):
            for ev in sorted(events, key=lambda e: (e.held_on, e.id)):
                if ev.kind != rule.event:
                    continue
                due = (
                    minutes_due(cal, ev.held_on, rule.open_days)
                    if isinstance(rule, AfterEvent)
                    else before_event_due(cal, ev.held_on, rule.open_days)
                )
                title = f"{spec.name}（{ev.held_on.month}/{ev.held_on.day}）"
                out.append(DueItem(spec.id, event_period(ev.id), title, due, ev.id))
        elif isinstance(rule, AfterLastSession):
            day = last.get(rule.track)
            if day is not None:
                out.append(DueItem(spec.id, "", spec.name, add_months_clamped(day, rule.months)))
        elif isinstance(rule, Monthly):
            for y, m in _months(term_start, term_end):
                if as_of is not None and dt.date(y, m, 1) > as_of:
                    break
                due = monthly_report_due(cal, y, m, rule.day, rule.closed_day_rule)
                out.append(DueItem(spec.id, f"{y}-{m:02d}", f"{spec.name}（{m}月分）", due))
    return out
