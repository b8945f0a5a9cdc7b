"""開庁日 (government business day) calendar for municipal DX support desks.

A day is closed (閉庁日) when it is one of the 行政機関の休日 — Saturday, Sunday,
a national holiday (incl. 振替休日 and 国民の休日), or December 29 – January 3 —
or when a program profile declares it an extra closed day (休業日).

National holidays come from the maintained ``holidays`` package and are never
hand-typed here: the equinox days and the substitute-holiday rules change, and a
hand-kept table silently rots.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path

import holidays
from holidays.holiday_base import HolidayBase

from reminders.clock import JST

__all__ = [
    "BusinessCalendar",
    "UnsupportedYearError",
    "format_jp",
    "format_jp_datetime",
]

#: Weekday kanji indexed by ``date.weekday()`` (Monday == 0).
WEEKDAY_KANJI = ("月", "火", "水", "木", "金", "土", "日")


REASON_SATURDAY = "土曜日"
REASON_SUNDAY = "日曜日"
REASON_YEAR_END = "年末年始"
REASON_EXTRA = "休業日"
REASON_HOLIDAY_FALLBACK = "祝日"

_JAPAN_MODULE = "holidays.countries.japan"


def _japan() -> type[HolidayBase]:
    """The class ``holidays.country_holidays("JP", ...)`` instantiates (``JP``, Japan's).

    Any import of a country (``country_holidays``, ``holidays.JP``, importing
    ``holidays.countries.japan``) first runs the ``holidays.countries`` package, which imports
    all 250 countries' modules: a tenth of a second of every command's start-up, for one
    country. So the Japan module is loaded from its file under its own name; a later import of
    the package finds it there and reuses it (one class either way). Where the package's
    layout differs, the package's own way."""
    loaded = sys.modules.get(_JAPAN_MODULE)
    path = Path(holidays.__file__).parent / "countries" / "japan.py"
    spec = None if loaded else importlib.util.spec_from_file_location(_JAPAN_MODULE, path)
    if spec is not None and spec.loader is not None and path.is_file():
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[_JAPAN_MODULE] = loaded
        try:
            spec.loader.exec_module(loaded)
        except BaseException:
            del sys.modules[_JAPAN_MODULE]
            raise
    japan = getattr(loaded, "JP", None)
    if isinstance(japan, type) and issubclass(japan, HolidayBase):
        return japan
    return type(holidays.country_holidays("JP"))


_JAPAN = _japan()

# Years the holidays package actually has Japanese data for. Outside this range
# it returns an *empty* holiday set without complaint, which would make every
# holiday look like an open day, so we refuse those years instead.
MIN_YEAR: int = _JAPAN.start_year
MAX_YEAR: int = _JAPAN.end_year

# Ask for Japanese names when the package can localize JP; otherwise keep its
# default names (closed_reason() still works, just not in Japanese).
_LANGUAGE: str | None = "ja" if "ja" in _JAPAN.supported_languages else None


class UnsupportedYearError(ValueError):
    """Raised for a year the ``holidays`` package has no Japanese holiday data for."""


def _as_date(d: date) -> date:
    """Drop the time part so ``datetime`` arguments compare and hash like dates."""
    return d.date() if isinstance(d, datetime) else d


def _is_year_end(d: date) -> bool:
    """True for December 29 – January 3, the 年末年始 closure of 行政機関の休日."""
    return (d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3)


class BusinessCalendar:
    """Answers 開庁日 questions; holiday years are fetched lazily and cached."""

    def __init__(self, extra_closed: Iterable[date] = ()) -> None:
        """``extra_closed``: profile-specific closed days (e.g. a 庁舎 closure)."""
        self._extra_closed: frozenset[date] = frozenset(_as_date(d) for d in extra_closed)
        self._holiday_years: dict[int, dict[date, str]] = {}

    # ------------------------------------------------------------------ data

    def _holidays_for_year(self, year: int) -> dict[date, str]:
        """National holidays of one year, loaded on first use and cached."""
        cached = self._holiday_years.get(year)
        if cached is not None:
            return cached
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise UnsupportedYearError(
                f"{year}: the holidays package has Japanese holiday data only for "
                f"{MIN_YEAR}–{MAX_YEAR}; refusing to guess 開庁日 without it"
            )
        loaded = dict(_JAPAN(years=year, language=_LANGUAGE).items())
        self._holiday_years[year] = loaded
        return loaded

    def holiday_name(self, d: date) -> str | None:
        """The national holiday's name on ``d`` (Japanese when available), else None."""
        d = _as_date(d)
        name = self._holidays_for_year(d.year).get(d)
        if name is None:
            return None
        return name or REASON_HOLIDAY_FALLBACK

    # ------------------------------------------------------------- questions

    def closed_reason(self, d: date) -> str | None:
        """Why ``d`` is closed, in Japanese, or None when it is a 開庁日.

        Precedence is most-specific first, so a user asking "why?" gets the
        useful answer: holiday name (元日 on 1/1, 憲法記念日 on a Sunday 5/3),
        then 年末年始, then 土曜日/日曜日, then the profile's 休業日.
        """
        d = _as_date(d)
        name = self.holiday_name(d)
        if name is not None:
            return name
        if _is_year_end(d):
            return REASON_YEAR_END
        if d.weekday() == 5:
            return REASON_SATURDAY
        if d.weekday() == 6:
            return REASON_SUNDAY
        if d in self._extra_closed:
            return REASON_EXTRA
        return None

    def is_open(self, d: date) -> bool:
        """True when ``d`` is a 開庁日 (no closure reason applies)."""
        return self.closed_reason(d) is None

    # ------------------------------------------------------------- stepping

    def next_open_day(self, d: date, include_self: bool = False) -> date:
        """First 開庁日 after ``d`` (or ``d`` itself when open and ``include_self``)."""
        d = _as_date(d)
        day = d if include_self else d + timedelta(days=1)
        while not self.is_open(day):
            day += timedelta(days=1)
        return day

    def previous_open_day(self, d: date, include_self: bool = False) -> date:
        """Last 開庁日 before ``d`` (or ``d`` itself when open and ``include_self``)."""
        d = _as_date(d)
        day = d if include_self else d - timedelta(days=1)
        while not self.is_open(day):
            day -= timedelta(days=1)
        return day

    def add_open_days(self, d: date, n: int) -> date:
        """The n-th 開庁日 strictly after ``d``.

        ``d`` itself never counts, open or not: "5開庁日以内" is counted from the
        day after the event, and an event held on a Saturday or holiday does not
        buy an extra day. ``n`` must be at least 1.
        """
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        day = _as_date(d)
        for _ in range(n):
            day = self.next_open_day(day)
        return day

    # -------------------------------------------------------------- ranges

    def open_days_between(self, start: date, end: date) -> list[date]:
        """All 開庁日 from ``start`` to ``end``, both inclusive ([] when start > end)."""
        start, end = _as_date(start), _as_date(end)
        days: list[date] = []
        day = start
        while day <= end:
            if self.is_open(day):
                days.append(day)
            day += timedelta(days=1)
        return days

    def open_days_until(self, d_from: date, d_to: date) -> int:
        """Count of 開庁日 in (d_from, d_to]; negative when d_to is before d_from.

        Used for "N開庁日超過": with d_from = due date and d_to = today, the due
        date itself is not overdue, and each 開庁日 after it adds one.
        """
        d_from, d_to = _as_date(d_from), _as_date(d_to)
        if d_to < d_from:
            return -self.open_days_until(d_to, d_from)
        return len(self.open_days_between(d_from + timedelta(days=1), d_to))


# ------------------------------------------------------------------ formatting


def format_jp(d: date) -> str:
    """``2026年12月3日(木)`` — the form users read in notices (no zero padding)."""
    d = _as_date(d)
    return f"{d.year}年{d.month}月{d.day}日({WEEKDAY_KANJI[d.weekday()]})"


def format_jp_datetime(dt: datetime) -> str:
    """``2026年12月3日(木) 14:00``; aware datetimes are shown in JST, naive ones as-is."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(JST)
    return f"{format_jp(dt.date())} {dt:%H:%M}"
