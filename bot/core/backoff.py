"""Doubling waits: the one rule behind every retry loop in the bot — the outbox's delivery
retries (bot/core/notifier.py), a failing inbox loop's polls and a crash-looping worker's
restarts (bot/workers.py)."""

from __future__ import annotations

#: Steps past this double no further: every wait is at its ``most`` long before (2**64 times
#: the first), and a float overflows at 2**1024 — which a failing inbox loop's count reaches
#: after some 20 minutes of a database outage.
_LAST_STEP = 64


def doubling(first: float, step: int, most: float) -> float:
    """``first`` seconds at step 0, twice as long at each further step, never above ``most``."""
    return min(first * 2.0 ** min(max(step, 0), _LAST_STEP), most)
