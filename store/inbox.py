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

import asyncio
import contextlib
import datetime as dt
import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Update, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from store.db import Database, rowcount
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


@dataclass(frozen=True)
class Delivery:
    """One delivery to store: the platform's id for it, whose it is, and the body as it came."""

    platform: str
    delivery_id: str
    person: str
    kind: str
    body: str


def _delivery_rows(deliveries: Sequence[Delivery], now: dt.datetime) -> list[dict[str, object]]:
    rows: dict[tuple[str, str], dict[str, object]] = {}
    for d in deliveries:
        rows.setdefault(
            (d.platform, d.delivery_id[:200]),
            {
                "platform": d.platform,
                "delivery_id": d.delivery_id[:200],
                "person": d.person[:120],
                "kind": d.kind,
                "body": d.body,
                "received_at": now,
                "attempts": 0,
            },
        )
    return list(rows.values())


def _answers(deliveries: Sequence[Delivery], stored: set[tuple[str, str]]) -> list[bool]:
    answers = []
    for d in deliveries:
        key = (d.platform, d.delivery_id[:200])
        answers.append(key in stored)
        stored.discard(key)  # a second copy in the same batch is a duplicate
    return answers


#: How long a batch keeps trying for SQLite's write lock (as the busy timeout elsewhere).
LOCK_PATIENCE = 10.0


class Appender:
    """Stores batches of deliveries (a group commit of concurrent acks) on one connection of
    its own, kept open between batches: each batch is one multi-row ``INSERT … ON CONFLICT DO
    NOTHING RETURNING`` and one commit, with no pool checkout or reset around it.

    On SQLite, the connection does not wait in SQLite's busy handler, whose sleeps grow to
    100 ms while a worker process holds the write lock: it asks again every millisecond or
    two, so an ack waits about as long as the lock is held."""

    def __init__(self, db: Database) -> None:
        self.engine = db.engine  # not the Database: a registry may key on it weakly
        self._conn: AsyncConnection | None = None
        db.on_dispose(self.close)  # its connection is closed before the engine is disposed

    async def _connection(self) -> AsyncConnection:
        if self._conn is None:
            conn = await self.engine.connect()
            if conn.dialect.name == "sqlite":
                await conn.exec_driver_sql("PRAGMA busy_timeout=0")
                await conn.commit()
            self._conn = conn
        return self._conn

    async def add_many(self, deliveries: Sequence[Delivery], now: dt.datetime) -> list[bool]:
        """Store the deliveries in one transaction; for each, in order, whether it was new —
        False for a platform's retry already stored, and for a second copy within the batch."""
        if not deliveries:
            return []
        conn = await self._connection()
        sqlite_db = conn.dialect.name == "sqlite"
        insert = sqlite.insert if sqlite_db else postgresql.insert
        stmt = (
            insert(InboxItem)
            .on_conflict_do_nothing()
            .returning(InboxItem.platform, InboxItem.delivery_id)
        )
        rows = _delivery_rows(deliveries, now)
        give_up = time.monotonic() + LOCK_PATIENCE
        pause = 0.001
        while True:
            try:
                async with conn.begin():
                    result = await conn.execute(stmt, rows)
                    stored = {(p, d) for p, d in result.all()}
                return _answers(deliveries, stored)
            except OperationalError as exc:
                if sqlite_db and _locked(exc) and time.monotonic() < give_up:
                    await asyncio.sleep(pause)  # rolled back; the lock is another's: again
                    pause = min(pause * 1.5, 0.005)
                    continue
                await self._drop(conn)
                raise
            except BaseException:
                await self._drop(conn)
                raise

    async def _drop(self, conn: AsyncConnection) -> None:
        self._conn = None  # a broken connection is not used again
        with contextlib.suppress(Exception):
            await conn.close()

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()


def _locked(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text


async def add_many(s: AsyncSession, deliveries: Sequence[Delivery], now: dt.datetime) -> list[bool]:
    """``Appender.add_many`` in a caller's transaction."""
    if not deliveries:
        return []
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(InboxItem)
        .on_conflict_do_nothing()
        .returning(InboxItem.platform, InboxItem.delivery_id)
    )
    result = await s.execute(stmt, _delivery_rows(deliveries, now))
    return _answers(deliveries, {(p, d) for p, d in result.all()})


def _open(now: dt.datetime) -> list[ColumnElement[bool]]:
    return [
        InboxItem.done_at.is_(None),
        or_(InboxItem.lease_until.is_(None), InboxItem.lease_until <= now),
    ]


_NOW = bindparam("at_now", type_=InboxItem.__table__.c.lease_until.type)
_UNTIL = bindparam("lease_to", type_=InboxItem.__table__.c.lease_until.type)
_PLATFORM = bindparam("of_platform", type_=InboxItem.__table__.c.platform.type)


@functools.cache
def _claim_statement(postgres: bool, platform: bool) -> Update:
    """The claim as one ``UPDATE … WHERE id = (the oldest free row whose person has no earlier
    unfinished row, leased or not) RETURNING id``, built once per dialect and platform filter
    (building it took several milliseconds of a reply's time) with the times as parameters."""
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
    pick = (
        select(row.id)
        .where(
            row.done_at.is_(None),
            or_(row.lease_until.is_(None), row.lease_until <= _NOW),
            ~blocked,
        )
        .order_by(row.id)
        .limit(1)
    )
    if platform:
        pick = pick.where(row.platform == _PLATFORM)
    if postgres:
        pick = pick.with_for_update(skip_locked=True)
    return (
        update(InboxItem)
        .where(
            InboxItem.id == pick.scalar_subquery(),
            InboxItem.done_at.is_(None),
            or_(InboxItem.lease_until.is_(None), InboxItem.lease_until <= _NOW),
        )
        .values(lease_until=_UNTIL, attempts=InboxItem.attempts + 1)
        .returning(InboxItem.id)
        .execution_options(synchronize_session=False)
    )


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
    stmt = _claim_statement(s.get_bind().dialect.name == "postgresql", platform is not None)
    params: dict[str, object] = {"at_now": now, "lease_to": now + lease}
    if platform is not None:
        params["of_platform"] = platform
    result = await s.execute(stmt, params)
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
