"""A booking is a routine notice (issue 19): booked on a Saturday for a session weeks ahead, the
expert and the officer hear of it at the next 開庁日 office hours, not at the weekend; booked for
a session within the next two 開庁日, they hear at once, whatever the day.

Sat 2026-11-21: the next 開庁日 are Tue 11/24 and Wed 11/25 (Mon 11/23 is 勤労感謝の日); the
office hours of the Saitama profile start at 9:00.
"""

from __future__ import annotations

import datetime as dt

from reminders.clock import JST, FixedClock
from tests.conftest import ChatBot
from tests.test_methods import open_case
from tests.test_reminder_pass import texts_to
from tests.test_sessions_cancel_move import schedule


def booked(bot: ChatBot, person: str) -> list[str]:
    """The booking notices a person has received (「…支援の日程が決まりました。」)."""
    return [m for m in texts_to(bot, person) if "支援の日程が決まりました" in m]


async def test_a_booking_weeks_ahead_made_at_the_weekend_waits_for_office_hours(
    bot: ChatBot, clock: FixedClock
) -> None:
    await open_case(bot)
    clock.set(dt.datetime(2026, 11, 21, 10, 0, tzinfo=JST))  # a Saturday
    await schedule(bot, "2026-12-08 14:00")
    await bot.deliver()
    assert booked(bot, "officer1") == [] and booked(bot, "expert1") == []

    clock.set(dt.datetime(2026, 11, 23, 10, 0, tzinfo=JST))  # 勤労感謝の日: still waiting
    await bot.deliver()
    assert booked(bot, "officer1") == []

    clock.set(dt.datetime(2026, 11, 24, 9, 0, tzinfo=JST))  # the next 開庁日, 9:00
    await bot.deliver()
    assert len(booked(bot, "officer1")) == 1
    assert len(booked(bot, "expert1")) == 1
    assert "2026年12月8日(火) 14:00" in booked(bot, "officer1")[0]


async def test_a_booking_within_two_open_days_goes_at_once_even_at_the_weekend(
    bot: ChatBot, clock: FixedClock
) -> None:
    await open_case(bot)
    clock.set(dt.datetime(2026, 11, 21, 10, 0, tzinfo=JST))  # a Saturday
    await schedule(bot, "2026-11-25 14:00")  # the second 開庁日 from now
    await bot.deliver()
    assert len(booked(bot, "officer1")) == 1
    assert len(booked(bot, "expert1")) == 1


async def test_a_booking_on_a_weekday_in_office_hours_goes_at_once(
    bot: ChatBot, clock: FixedClock
) -> None:
    await open_case(bot)  # Mon 2026-11-16 10:00 JST
    await schedule(bot, "2026-12-08 14:00")
    await bot.deliver()
    assert len(booked(bot, "officer1")) == 1
