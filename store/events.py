"""Processed inbound event ids: a retried or duplicated chat event is handled once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import ProcessedEvent


async def claim(s: AsyncSession, platform: str, event_id: str, now: dt.datetime) -> bool:
    """Record the event in the caller's transaction; False when it was seen before.

    The primary key makes a concurrent second delivery fail at flush (PostgreSQL waits for the
    first transaction, then reports the conflict), so only one transaction ever handles it.
    """
    if await s.get(ProcessedEvent, (platform, event_id)) is not None:
        return False
    s.add(ProcessedEvent(platform=platform, event_id=event_id, received_at=now))
    await s.flush()
    return True


async def seen(s: AsyncSession, platform: str, event_id: str) -> bool:
    row = await s.scalar(
        select(ProcessedEvent.event_id).where(
            ProcessedEvent.platform == platform, ProcessedEvent.event_id == event_id
        )
    )
    return row is not None
