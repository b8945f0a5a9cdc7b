"""Doubling waits: the one rule behind every retry loop in the bot — the outbox's delivery
retries (bot/core/notifier.py), a failing inbox loop's polls and a crash-looping worker's
restarts (bot/workers.py)."""

from __future__ import annotations


def doubling(first: float, step: int, most: float) -> float:
    """``first`` seconds at step 0, twice as long at each further step, never above ``most``."""
    return min(first * 2.0 ** max(step, 0), most)
