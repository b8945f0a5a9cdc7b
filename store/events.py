"""Processed inbound event ids: a retried or duplicated chat event is handled once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import rowcount
from store.models import ProcessedEvent


async def claim(s: AsyncSession, platform: str, event_id: str, now: dt.datetime) -> bool:
    """Record the event in the caller's transaction; False when it was seen before.

    One ``INSERT … ON CONFLICT DO NOTHING`` whose row count answers (not a look, then an ORM
    insert and flush: two statements and a unit of work in every handling). On PostgreSQL a
    concurrent second delivery's insert waits for the first transaction and then counts 0 — or
    succeeds if the first rolled back — so only one transaction ever handles it.
    """
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(ProcessedEvent)
        .values(platform=platform, event_id=event_id, received_at=now)
        .on_conflict_do_nothing()
    )
    return rowcount(await s.execute(stmt)) == 1


async def seen(s: AsyncSession, platform: str, event_id: str) -> bool:
    row = await s.scalar(
        select(ProcessedEvent.event_id).where(
            ProcessedEvent.platform == platform, ProcessedEvent.event_id == event_id
        )
    )
    return row is not None
