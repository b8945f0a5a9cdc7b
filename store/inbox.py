"""The inbox: chat deliveries stored before they are acknowledged, then leased by workers.

The server writes each delivery here (deduplicated by the platform's event id) and only then
answers 2xx, so an acknowledged message survives any crash. Workers lease one row at a time:
the oldest unfinished row of a person whose earlier rows are all done, so one person's messages
are handled in order however many workers and replicas share the table. The lease is taken by
one statement — on PostgreSQL its row is picked ``FOR UPDATE SKIP LOCKED``, so concurrent
claimers never wait for nor take the same row; SQLite serialises writers, so a conditional
``UPDATE`` is enough. A lease left by a dead process runs out and the row is taken over; the
handling marks the row done in its own transaction (``finish``), so a row is either handled and
done, or neither.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from store.db import rowcount
from store.models import InboxItem


async def add(
    s: AsyncSession,
    *,
    platform: str,
    delivery_id: str,
    person: str,
    kind: str,
    body: str,
    now: dt.datetime,
) -> bool:
    """Store a delivery; False when the same delivery (a platform's retry) is already here."""
    values = {
        "platform": platform,
        "delivery_id": delivery_id[:200],
        "person": person[:120],
        "kind": kind,
        "body": body,
        "received_at": now,
        "attempts": 0,
    }
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(InboxItem).values(**values).on_conflict_do_nothing()
    return bool(rowcount(await s.execute(stmt)))


def _open(now: dt.datetime) -> list[ColumnElement[bool]]:
    return [
        InboxItem.done_at.is_(None),
        or_(InboxItem.lease_until.is_(None), InboxItem.lease_until <= now),
    ]


def _claimable(now: dt.datetime, platform: str | None) -> Select[int]:
    """The oldest free row whose person has no earlier unfinished row (leased or not)."""
    row = aliased(InboxItem, name="candidate")
    earlier = aliased(InboxItem, name="earlier")
    blocked = (
        select(earlier.id)
        .where(
            earlier.person == row.person,
            earlier.platform == row.platform,
            earlier.id < row.id,
            earlier.done_at.is_(None),
        )
        .exists()
    )
    q = (
        select(row.id)
        .where(
            row.done_at.is_(None),
            or_(row.lease_until.is_(None), row.lease_until <= now),
            ~blocked,
        )
        .order_by(row.id)
        .limit(1)
    )
    if platform is not None:
        q = q.where(row.platform == platform)
    return q


async def has_work(s: AsyncSession, now: dt.datetime, platform: str | None = None) -> bool:
    """A read-only look before claiming, so idle workers polling take no write lock."""
    q = select(InboxItem.id).where(*_open(now)).limit(1)
    if platform is not None:
        q = q.where(InboxItem.platform == platform)
    return (await s.scalar(q)) is not None


async def claim(
    s: AsyncSession, now: dt.datetime, lease: dt.timedelta, platform: str | None = None
) -> InboxItem | None:
    """Lease the next row to handle, or None when there is none free."""
    pick = _claimable(now, platform)
    if s.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    result = await s.execute(
        update(InboxItem)
        .where(InboxItem.id == pick.scalar_subquery(), *_open(now))
        .values(lease_until=now + lease, attempts=InboxItem.attempts + 1)
        .returning(InboxItem.id)
        .execution_options(synchronize_session=False)
    )
    item_id = result.scalar()
    if item_id is None:
        return None
    return await s.get(InboxItem, item_id, populate_existing=True)


async def finish(s: AsyncSession, item_id: int, now: dt.datetime) -> None:
    """Mark a row done; called in the transaction that handled it."""
    await s.execute(
        update(InboxItem)
        .where(InboxItem.id == item_id)
        .values(done_at=now, lease_until=None)
        .execution_options(synchronize_session=False)
    )


async def unfinished(s: AsyncSession, platform: str | None = None) -> int:
    q = select(func.count()).select_from(InboxItem).where(InboxItem.done_at.is_(None))
    if platform is not None:
        q = q.where(InboxItem.platform == platform)
    return int(await s.scalar(q) or 0)


async def purge(s: AsyncSession, before: dt.datetime) -> int:
    """Forget rows handled before ``before`` (the platform's retry window is long past)."""
    result = await s.execute(
        delete(InboxItem).where(and_(InboxItem.done_at.is_not(None), InboxItem.done_at < before))
    )
    return rowcount(result)


async def all_items(s: AsyncSession) -> list[InboxItem]:
    return list((await s.scalars(select(InboxItem).order_by(InboxItem.id))).all())
