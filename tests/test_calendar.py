"""開庁日 calendar and due-date rules, 2025–2027.

Every expected date below was worked out by hand from the real calendar
(行政機関の休日: Sat/Sun, national holidays incl. 振替休日/国民の休日, 12/29–1/3)
and cross-checked against the ``holidays`` package output.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from reminders.calendar import (
    BusinessCalendar,
    UnsupportedYearError,
    format_jp,
    format_jp_datetime,
)
from reminders.deadlines import (
    hearing_report_due,
    minutes_due,
    monthly_report_due,
    session_report_due,
)

D = date


@pytest.fixture(scope="module")
def cal() -> BusinessCalendar:
    return BusinessCalendar()


# --------------------------------------------------------------- is_open / closed_reason

CLOSED_REASONS = [
    # Golden Week 2025: 5/3 Sat, 5/4 Sun, 5/5 Mon, 5/6 Tue 振替 (for 5/4 on Sunday)
    (D(2025, 4, 29), "昭和の日"),
    (D(2025, 5, 3), "憲法記念日"),
    (D(2025, 5, 5), "こどもの日"),
    (D(2025, 5, 6), "振替休日"),
    # Golden Week 2026: 5/3 on Sunday → 5/6 Wed 振替休日
    (D(2026, 5, 3), "憲法記念日"),
    (D(2026, 5, 4), "みどりの日"),
    (D(2026, 5, 5), "こどもの日"),
    (D(2026, 5, 6), "振替休日"),
    # Golden Week 2027: 5/3–5/5 Mon–Wed, no 振替
    (D(2027, 5, 3), "憲法記念日"),
    (D(2027, 5, 5), "こどもの日"),
    # Silver Week 2026: 9/19 Sat – 9/23 Wed, 9/22 国民の休日 (between 敬老の日 and 秋分の日)
    (D(2026, 9, 19), "土曜日"),
    (D(2026, 9, 20), "日曜日"),
    (D(2026, 9, 21), "敬老の日"),
    (D(2026, 9, 22), "国民の休日"),
    (D(2026, 9, 23), "秋分の日"),
    # Happy Mondays
    (D(2025, 7, 21), "海の日"),
    (D(2026, 7, 20), "海の日"),
    (D(2027, 7, 19), "海の日"),
    (D(2025, 10, 13), "スポーツの日"),
    (D(2026, 10, 12), "スポーツの日"),
    (D(2027, 10, 11), "スポーツの日"),
    # 振替休日s
    (D(2025, 2, 24), "振替休日"),
    (D(2025, 11, 24), "振替休日"),
    (D(2027, 3, 21), "春分の日"),  # Sunday; holiday name beats 日曜日
    (D(2027, 3, 22), "振替休日"),
    # February 2027
    (D(2027, 2, 11), "建国記念の日"),
    (D(2027, 2, 23), "天皇誕生日"),
    # Year end / new year: 元日 is named, the rest is 年末年始 (even on a weekend)
    (D(2025, 12, 29), "年末年始"),
    (D(2025, 12, 31), "年末年始"),
    (D(2026, 1, 1), "元日"),
    (D(2026, 1, 2), "年末年始"),
    (D(2026, 1, 3), "年末年始"),
    (D(2026, 12, 29), "年末年始"),
    (D(2027, 1, 1), "元日"),
    (D(2027, 1, 2), "年末年始"),
    (D(2027, 1, 3), "年末年始"),
    (D(2026, 1, 12), "成人の日"),
    (D(2027, 1, 11), "成人の日"),
    # Plain weekends
    (D(2026, 6, 6), "土曜日"),
    (D(2026, 6, 7), "日曜日"),
]


@pytest.mark.parametrize(("day", "reason"), CLOSED_REASONS, ids=str)
def test_closed_days_and_reasons(cal: BusinessCalendar, day: date, reason: str) -> None:
    assert cal.closed_reason(day) == reason
    assert cal.is_open(day) is False


OPEN_DAYS = [
    D(2025, 5, 2),  # Friday inside Golden Week 2025
    D(2025, 5, 7),
    D(2026, 5, 1),
    D(2026, 5, 7),  # first open day after GW 2026
    D(2027, 4, 30),  # Friday between 昭和の日 and GW 2027
    D(2027, 5, 6),  # no 振替 in 2027
    D(2026, 9, 18),
    D(2026, 9, 24),
    D(2026, 12, 28),  # 仕事納め is still a 開庁日
    D(2027, 1, 4),  # 仕事始め
    D(2026, 1, 5),
    D(2027, 2, 22),
    D(2027, 3, 23),
    D(2027, 3, 31),
]


@pytest.mark.parametrize("day", OPEN_DAYS, ids=str)
def test_open_days(cal: BusinessCalendar, day: date) -> None:
    assert cal.closed_reason(day) is None
    assert cal.is_open(day) is True


def test_datetime_argument_is_treated_as_its_date(cal: BusinessCalendar) -> None:
    assert cal.is_open(datetime(2026, 5, 6, 10, 0)) is False
    assert cal.add_open_days(datetime(2026, 5, 1, 18, 30), 1) == D(2026, 5, 7)


# ------------------------------------------------------------------ add_open_days

SESSION_REPORT_CASES = [
    # (session day, open days, due)  — the session day itself never counts
    # Golden Week 2025
    (D(2025, 5, 2), 5, D(2025, 5, 13)),
    (D(2025, 4, 28), 5, D(2025, 5, 8)),
    # Golden Week 2026 (5/6 振替休日)
    (D(2026, 5, 1), 5, D(2026, 5, 13)),
    (D(2026, 4, 28), 3, D(2026, 5, 7)),  # 4/29 holiday: 4/30, 5/1, 5/7
    # Golden Week 2027
    (D(2027, 4, 28), 5, D(2027, 5, 11)),
    (D(2027, 4, 30), 1, D(2027, 5, 6)),
    # Silver Week 2026: 9/19–9/23 closed
    (D(2026, 9, 18), 5, D(2026, 9, 30)),
    (D(2026, 9, 18), 1, D(2026, 9, 24)),
    # 海の日 / スポーツの日 Mondays after a Friday session
    (D(2025, 7, 18), 1, D(2025, 7, 22)),
    (D(2026, 7, 17), 5, D(2026, 7, 27)),
    (D(2027, 7, 16), 3, D(2027, 7, 22)),
    (D(2025, 10, 10), 5, D(2025, 10, 20)),
    (D(2026, 10, 9), 1, D(2026, 10, 13)),
    (D(2027, 10, 8), 5, D(2027, 10, 18)),
    # 2027-03-22 振替休日
    (D(2027, 3, 19), 5, D(2027, 3, 29)),
    # Saturday / Sunday / holiday session: D never counts, no bonus day
    (D(2026, 6, 6), 5, D(2026, 6, 12)),
    (D(2026, 6, 7), 5, D(2026, 6, 12)),
    (D(2026, 11, 3), 5, D(2026, 11, 10)),
    (D(2025, 7, 21), 1, D(2025, 7, 22)),
    # Year end: 12/28 open, 12/29–1/3 closed
    (D(2026, 12, 25), 5, D(2027, 1, 7)),
    (D(2026, 12, 28), 1, D(2027, 1, 4)),
    (D(2025, 12, 26), 5, D(2026, 1, 9)),
    (D(2026, 1, 8), 3, D(2026, 1, 14)),  # over 成人の日 2026-01-12
    # February 2027
    (D(2027, 2, 10), 5, D(2027, 2, 18)),
    (D(2027, 2, 19), 3, D(2027, 2, 25)),
    # 2025-11-24 振替休日
    (D(2025, 11, 21), 5, D(2025, 12, 1)),
    # Plain Friday session
    (D(2026, 6, 5), 5, D(2026, 6, 12)),
    # Early 2025: 2/24 振替休日
    (D(2025, 2, 21), 1, D(2025, 2, 25)),
]


@pytest.mark.parametrize(("session", "n", "due"), SESSION_REPORT_CASES, ids=str)
def test_session_report_due(cal: BusinessCalendar, session: date, n: int, due: date) -> None:
    assert session_report_due(cal, session, n) == due
    assert cal.add_open_days(session, n) == due


def test_session_report_default_is_five_open_days(cal: BusinessCalendar) -> None:
    assert session_report_due(cal, D(2026, 12, 25)) == D(2027, 1, 7)


@pytest.mark.parametrize(
    ("meeting", "due"),
    [
        (D(2026, 4, 30), D(2026, 5, 8)),  # 5/1, 5/7, 5/8
        (D(2027, 3, 19), D(2027, 3, 25)),  # 3/23, 3/24, 3/25
        (D(2026, 12, 28), D(2027, 1, 6)),  # 1/4, 1/5, 1/6
    ],
    ids=str,
)
def test_minutes_due_default_three_open_days(
    cal: BusinessCalendar, meeting: date, due: date
) -> None:
    assert minutes_due(cal, meeting) == due


@pytest.mark.parametrize("n", [0, -1])
def test_add_open_days_rejects_n_below_one(cal: BusinessCalendar, n: int) -> None:
    with pytest.raises(ValueError):
        cal.add_open_days(D(2026, 6, 5), n)


# ------------------------------------------------------------------ extra closed days


def test_extra_closed_day_from_profile() -> None:
    cal = BusinessCalendar(extra_closed=[D(2026, 6, 10)])
    assert cal.is_open(D(2026, 6, 10)) is False
    assert cal.closed_reason(D(2026, 6, 10)) == "休業日"
    assert session_report_due(cal, D(2026, 6, 5)) == D(2026, 6, 15)


def test_extra_closed_year_end_day_pushes_into_january() -> None:
    # A profile closing 仕事納め (12/28) is what turns 12/25 + 5 into 2027-01-08.
    cal = BusinessCalendar(extra_closed=[D(2026, 12, 28)])
    assert session_report_due(cal, D(2026, 12, 25)) == D(2027, 1, 8)


def test_extra_closed_on_holiday_keeps_holiday_reason() -> None:
    cal = BusinessCalendar(extra_closed=[D(2026, 5, 6)])
    assert cal.closed_reason(D(2026, 5, 6)) == "振替休日"


def test_extra_closed_does_not_leak_between_instances(cal: BusinessCalendar) -> None:
    BusinessCalendar(extra_closed=[D(2026, 6, 10)])
    assert cal.is_open(D(2026, 6, 10)) is True


# ------------------------------------------------------------------ next / previous


@pytest.mark.parametrize(
    ("day", "include_self", "expected"),
    [
        (D(2026, 12, 28), False, D(2027, 1, 4)),
        (D(2026, 12, 28), True, D(2026, 12, 28)),
        (D(2026, 9, 19), False, D(2026, 9, 24)),
        (D(2026, 9, 19), True, D(2026, 9, 24)),
        (D(2026, 5, 2), True, D(2026, 5, 7)),
        (D(2027, 3, 19), False, D(2027, 3, 23)),
    ],
    ids=str,
)
def test_next_open_day(
    cal: BusinessCalendar, day: date, include_self: bool, expected: date
) -> None:
    assert cal.next_open_day(day, include_self=include_self) == expected


@pytest.mark.parametrize(
    ("day", "include_self", "expected"),
    [
        (D(2027, 1, 4), False, D(2026, 12, 28)),
        (D(2027, 1, 4), True, D(2027, 1, 4)),
        (D(2026, 5, 6), False, D(2026, 5, 1)),
        (D(2026, 9, 23), True, D(2026, 9, 18)),
        (D(2027, 2, 24), False, D(2027, 2, 22)),
    ],
    ids=str,
)
def test_previous_open_day(
    cal: BusinessCalendar, day: date, include_self: bool, expected: date
) -> None:
    assert cal.previous_open_day(day, include_self=include_self) == expected


# ------------------------------------------------------------------ ranges and counts


def test_open_days_between_over_year_end(cal: BusinessCalendar) -> None:
    assert cal.open_days_between(D(2026, 12, 25), D(2027, 1, 5)) == [
        D(2026, 12, 25),
        D(2026, 12, 28),
        D(2027, 1, 4),
        D(2027, 1, 5),
    ]


def test_open_days_between_silver_week_inclusive(cal: BusinessCalendar) -> None:
    assert cal.open_days_between(D(2026, 9, 18), D(2026, 9, 24)) == [
        D(2026, 9, 18),
        D(2026, 9, 24),
    ]


def test_open_days_between_single_and_reversed(cal: BusinessCalendar) -> None:
    assert cal.open_days_between(D(2026, 6, 5), D(2026, 6, 5)) == [D(2026, 6, 5)]
    assert cal.open_days_between(D(2026, 6, 6), D(2026, 6, 6)) == []
    assert cal.open_days_between(D(2026, 6, 12), D(2026, 6, 5)) == []


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (D(2027, 2, 1), D(2027, 2, 28), 18),  # 20 weekdays − 2/11 − 2/23
        (D(2027, 3, 1), D(2027, 3, 31), 22),  # 23 weekdays − 3/22
        (D(2026, 5, 1), D(2026, 5, 31), 18),  # 21 weekdays − 5/4, 5/5, 5/6
        (D(2025, 1, 1), D(2025, 12, 31), 241),
        (D(2026, 1, 1), D(2026, 12, 31), 240),
        (D(2027, 1, 1), D(2027, 12, 31), 242),
    ],
    ids=str,
)
def test_open_day_counts(cal: BusinessCalendar, start: date, end: date, count: int) -> None:
    assert len(cal.open_days_between(start, end)) == count


@pytest.mark.parametrize(
    ("d_from", "d_to", "count"),
    [
        (D(2026, 4, 30), D(2026, 5, 8), 3),  # 5/1, 5/7, 5/8
        (D(2026, 5, 8), D(2026, 4, 30), -3),
        (D(2026, 6, 5), D(2026, 6, 5), 0),
        (D(2026, 6, 5), D(2026, 6, 7), 0),  # weekend: not yet overdue
        (D(2026, 12, 28), D(2027, 1, 5), 2),  # 1/4, 1/5
        (D(2027, 3, 19), D(2027, 3, 29), 5),
    ],
    ids=str,
)
def test_open_days_until(cal: BusinessCalendar, d_from: date, d_to: date, count: int) -> None:
    assert cal.open_days_until(d_from, d_to) == count


# ------------------------------------------------------------------ year range


def test_early_and_late_supported_years(cal: BusinessCalendar) -> None:
    assert cal.closed_reason(D(2000, 1, 10)) == "成人の日"  # first Happy Monday year
    assert cal.is_open(D(2000, 1, 4)) is True
    assert cal.closed_reason(D(2099, 1, 1)) == "元日"


def test_year_without_holiday_data_is_refused(cal: BusinessCalendar) -> None:
    # holidays' JP data stops at 2099 and silently returns nothing for 2100.
    with pytest.raises(UnsupportedYearError):
        cal.is_open(D(2100, 1, 4))


# ------------------------------------------------------------------ formatting


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (D(2026, 12, 3), "2026年12月3日(木)"),
        (D(2026, 6, 1), "2026年6月1日(月)"),
        (D(2026, 6, 2), "2026年6月2日(火)"),
        (D(2026, 6, 3), "2026年6月3日(水)"),
        (D(2026, 6, 4), "2026年6月4日(木)"),
        (D(2026, 6, 5), "2026年6月5日(金)"),
        (D(2026, 6, 6), "2026年6月6日(土)"),
        (D(2026, 6, 7), "2026年6月7日(日)"),
        (D(2027, 3, 31), "2027年3月31日(水)"),
    ],
    ids=str,
)
def test_format_jp(day: date, text: str) -> None:
    assert format_jp(day) == text


@pytest.mark.parametrize(
    ("dt", "text"),
    [
        (datetime(2026, 12, 3, 14, 0), "2026年12月3日(木) 14:00"),
        (datetime(2027, 1, 4, 9, 5), "2027年1月4日(月) 09:05"),
        (datetime(2026, 12, 3, 5, 0, tzinfo=UTC), "2026年12月3日(木) 14:00"),
        (datetime(2026, 12, 2, 15, 30, tzinfo=UTC), "2026年12月3日(木) 00:30"),
        (
            datetime(2026, 12, 3, 14, 0, tzinfo=timezone(timedelta(hours=9))),
            "2026年12月3日(木) 14:00",
        ),
    ],
    ids=str,
)
def test_format_jp_datetime(dt: datetime, text: str) -> None:
    assert format_jp_datetime(dt) == text


# ------------------------------------------------------------------ monthly reports

MONTHLY_CASES = [
    # (year, month, rule, due)
    # normal months: the 10th is open, every rule agrees
    (2026, 5, "as_is", D(2026, 6, 10)),
    (2026, 5, "next_open_day", D(2026, 6, 10)),
    (2026, 6, "previous_open_day", D(2026, 7, 10)),
    (2027, 2, "next_open_day", D(2027, 3, 10)),
    # 2025-05-10 is a Saturday
    (2025, 4, "as_is", D(2025, 5, 10)),
    (2025, 4, "next_open_day", D(2025, 5, 12)),
    (2025, 4, "previous_open_day", D(2025, 5, 9)),
    # 2026-10-10 is a Saturday and 10/12 is スポーツの日
    (2026, 9, "as_is", D(2026, 10, 10)),
    (2026, 9, "next_open_day", D(2026, 10, 13)),
    (2026, 9, "previous_open_day", D(2026, 10, 9)),
    # 2026-05-10 is a Sunday (after GW)
    (2026, 4, "next_open_day", D(2026, 5, 11)),
    (2026, 4, "previous_open_day", D(2026, 5, 8)),
    # December report → 2027-01-10 Sunday, 1/11 成人の日
    (2026, 12, "as_is", D(2027, 1, 10)),
    (2026, 12, "next_open_day", D(2027, 1, 12)),
    (2026, 12, "previous_open_day", D(2027, 1, 8)),
    # 2027-07-10 is a Saturday
    (2027, 6, "next_open_day", D(2027, 7, 12)),
    (2027, 6, "previous_open_day", D(2027, 7, 9)),
]


@pytest.mark.parametrize(("year", "month", "rule", "due"), MONTHLY_CASES, ids=str)
def test_monthly_report_due(
    cal: BusinessCalendar, year: int, month: int, rule: str, due: date
) -> None:
    assert monthly_report_due(cal, year, month, rule=rule) == due  # type: ignore[arg-type]


SAITAMA = {"final_month_due": D(2027, 3, 31), "final_month": (2027, 3)}


@pytest.mark.parametrize("rule", ["as_is", "next_open_day", "previous_open_day"])
def test_monthly_report_saitama_final_month(cal: BusinessCalendar, rule: str) -> None:
    assert monthly_report_due(cal, 2027, 3, rule=rule, **SAITAMA) == D(2027, 3, 31)  # type: ignore[arg-type]


def test_monthly_report_saitama_other_months_unaffected(cal: BusinessCalendar) -> None:
    assert monthly_report_due(cal, 2027, 2, rule="next_open_day", **SAITAMA) == D(2027, 3, 10)
    # without the override the March 2027 report would be due 2027-04-12 (4/10 is a Saturday)
    assert monthly_report_due(cal, 2027, 3, rule="next_open_day") == D(2027, 4, 12)


def test_monthly_report_day_clamped_to_month_end(cal: BusinessCalendar) -> None:
    assert monthly_report_due(cal, 2026, 1, day=31) == D(2026, 2, 28)
    assert monthly_report_due(cal, 2027, 3, day=31) == D(2027, 4, 30)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"month": 13},
        {"month": 0},
        {"day": 0},
        {"rule": "nearest"},
        {"final_month_due": D(2027, 3, 31)},
        {"final_month": (2027, 3)},
    ],
    ids=str,
)
def test_monthly_report_rejects_bad_arguments(cal: BusinessCalendar, kwargs: dict) -> None:
    args = {"year": 2026, "month": 5} | kwargs
    with pytest.raises(ValueError):
        monthly_report_due(cal, **args)


# ------------------------------------------------------------------ hearing reports


@pytest.mark.parametrize(
    ("last", "months", "due"),
    [
        (D(2026, 5, 15), 1, D(2026, 6, 15)),
        (D(2026, 12, 15), 1, D(2027, 1, 15)),
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),  # leap year
        (D(2026, 3, 31), 1, D(2026, 4, 30)),
        (D(2026, 11, 30), 3, D(2027, 2, 28)),
        (D(2026, 8, 31), 6, D(2027, 2, 28)),
    ],
    ids=str,
)
def test_hearing_report_due(last: date, months: int, due: date) -> None:
    assert hearing_report_due(last, months) == due


def test_hearing_report_default_one_month() -> None:
    assert hearing_report_due(D(2027, 1, 31)) == D(2027, 2, 28)


def test_hearing_report_rejects_zero_months() -> None:
    with pytest.raises(ValueError):
        hearing_report_due(D(2026, 5, 15), 0)
