"""The doubling waits of the retry loops (outbox retries, a failing inbox loop, a worker's
restarts) stay at their ceiling however long the failures go on."""

from __future__ import annotations

from bot.core.backoff import doubling


def test_a_wait_doubles_from_its_first_up_to_its_ceiling() -> None:
    assert [doubling(0.05, n, 5.0) for n in range(9)] == [
        0.05,
        0.1,
        0.2,
        0.4,
        0.8,
        1.6,
        3.2,
        5.0,
        5.0,
    ]


def test_after_thousands_of_failures_the_wait_is_still_the_ceiling() -> None:
    """A database down for hours: a runner's four loops count some 3,000 failures an hour at
    the 5 s ceiling; 2.0 ** 1024 overflows a float, which ended the loops (OverflowError)."""
    assert doubling(0.05, 1_100, 5.0) == 5.0
    assert doubling(5, 100_000, 3600.0) == 3600.0
