"""Pure time, layer 6 of ARCHITECTURE.md: the one JST and the injected clock.

The injected clock. Nothing in the product reads the time ad hoc, so every deadline and
reminder can be tested at any date."""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol

#: The product's only time zone. Japan has no daylight saving time, so a fixed offset is
#: exact and needs no tzdata on the host; every module uses this one object.
JST = dt.timezone(dt.timedelta(hours=9), "JST")


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(JST)


class FixedClock:
    """A clock tests (and `dxbot remind --now`) set and move by hand."""

    def __init__(self, at: dt.datetime) -> None:
        self._at = to_jst(at)

    def now(self) -> dt.datetime:
        return self._at

    def set(self, at: dt.datetime) -> None:
        self._at = to_jst(at)

    def advance(self, **kwargs: float) -> None:
        self._at = self._at + dt.timedelta(**kwargs)


class StartedClock:
    """Starts at ``at`` and runs on at real speed: `dxbot serve` under ``DXBOT_CLOCK_START``,
    to show or test the bot on another day than today (its reminder pass, its deadlines)."""

    def __init__(self, at: dt.datetime) -> None:
        self._at = to_jst(at)
        self._started = time.monotonic()

    def now(self) -> dt.datetime:
        return self._at + dt.timedelta(seconds=time.monotonic() - self._started)


def to_jst(value: dt.datetime) -> dt.datetime:
    """Naive datetimes are taken as JST: the product's only time zone."""
    if value.tzinfo is None:
        return value.replace(tzinfo=JST)
    return value.astimezone(JST)


def today(clock: Clock) -> dt.date:
    return clock.now().astimezone(JST).date()
