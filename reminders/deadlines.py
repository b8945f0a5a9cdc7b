"""Pure due-date rules for the DX support program, computed over a BusinessCalendar.

Nothing here reads the clock or a profile: callers pass the profile's settings in,
so each rule can be tested with concrete dates.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from datetime import date
from typing import Literal, get_args

from reminders.calendar import BusinessCalendar

__all__ = [
    "MonthlyDueRule",
    "add_months_clamped",
    "hearing_report_due",
    "minutes_due",
    "monthly_report_due",
    "session_report_due",
]

MonthlyDueRule = Literal["as_is", "next_open_day", "previous_open_day"]


def session_report_due(cal: BusinessCalendar, session_day: date, open_days: int = 5) -> date:
    """支援実施報告 is due ``open_days`` 開庁日 after the session (the session day never counts)."""
    return cal.add_open_days(session_day, open_days)


def minutes_due(cal: BusinessCalendar, meeting_day: date, open_days: int = 3) -> date:
    """議事録 is due ``open_days`` 開庁日 after the meeting (the meeting day never counts)."""
    return cal.add_open_days(meeting_day, open_days)


def add_months_clamped(d: date, months: int) -> date:
    """Same day ``months`` later, clamped to that month's end (1/31 + 1 month → 2/28)."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last_day = _stdlib_calendar.monthrange(year, month)[1]
    return date(year, month, min(d.day, last_day))


def monthly_report_due(
    cal: BusinessCalendar,
    year: int,
    month: int,
    day: int = 10,
    rule: MonthlyDueRule = "as_is",
    final_month_due: date | None = None,
    final_month: tuple[int, int] | None = None,
) -> date:
    """Due date of the monthly report for (year, month): ``day`` of the following month.

    The seeds only say "翌月10日", so what happens when that day is closed is a
    profile setting (``rule``): keep it (``as_is``), or move to the next/previous
    開庁日. ``day`` past the month's end means 末日 (e.g. 31 → Feb 28).

    The program's last month is special (Saitama: the March 2027 report is due
    2027-03-31, inside the fiscal year), so ``final_month_due`` overrides the rule
    for ``final_month`` and is returned unchanged. Both must be given together.
    """
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12, got {month}")
    if not 1 <= day <= 31:
        raise ValueError(f"day must be 1..31, got {day}")
    if rule not in get_args(MonthlyDueRule):
        raise ValueError(f"unknown rule {rule!r}; expected one of {get_args(MonthlyDueRule)}")
    if (final_month_due is None) != (final_month is None):
        raise ValueError("final_month_due and final_month must be given together")

    if final_month is not None and (year, month) == tuple(final_month):
        assert final_month_due is not None  # guaranteed by the check above
        return final_month_due

    first_of_next = add_months_clamped(date(year, month, 1), 1)
    last_day = _stdlib_calendar.monthrange(first_of_next.year, first_of_next.month)[1]
    due = first_of_next.replace(day=min(day, last_day))

    if rule == "next_open_day":
        return cal.next_open_day(due, include_self=True)
    if rule == "previous_open_day":
        return cal.previous_open_day(due, include_self=True)
    return due


def hearing_report_due(last_hearing: date, months: int = 1) -> date:
    """ヒアリング報告 is due on the same day ``months`` later, clamped to month end.

    Calendar months, not 開庁日: the seed rule is "翌月同日", so a closed due day
    is left for the reminder text to mention rather than silently moved.
    """
    if months < 1:
        raise ValueError(f"months must be >= 1, got {months}")
    return add_months_clamped(last_hearing, months)
