"""The business calendar's national holidays are the ``holidays`` package's for Japan, loaded
without the package's other 249 countries (a tenth of a second at every command's start)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import holidays

from reminders.calendar import MAX_YEAR, MIN_YEAR, BusinessCalendar


def test_holidays_are_the_packages_for_japan_in_japanese() -> None:
    cal = BusinessCalendar()
    for year in (MIN_YEAR, 1989, 2019, 2020, 2021, 2024, 2025, 2026, 2027, 2030, MAX_YEAR):
        expected = dict(holidays.country_holidays("JP", years=year, language="ja").items())
        assert cal._holidays_for_year(year) == expected, year
    assert cal.holiday_name(date(2026, 5, 6)) == "振替休日"
    assert cal.closed_reason(date(2026, 9, 22)) == "国民の休日"
    assert (MIN_YEAR, MAX_YEAR) == (
        holidays.country_holidays("JP").start_year,
        holidays.country_holidays("JP").end_year,
    )


CHECK = """
import sys
from datetime import date
from reminders.calendar import BusinessCalendar

assert BusinessCalendar().holiday_name(date(2026, 1, 12)) == "成人の日"
others = [m for m in sys.modules if m.startswith("holidays.countries") and not m.endswith("japan")]
print(" ".join(others))

import holidays  # the package still works as usual afterwards, Japan and the others
assert type(holidays.country_holidays("JP")).__name__ == "JP"
assert date(2026, 7, 14) in holidays.country_holidays("FR", years=2026)
"""


def test_calendar_loads_no_other_country() -> None:
    run = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, check=False, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "", f"loaded other countries: {run.stdout[:300]}"
