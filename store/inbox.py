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

import contextlib
import datetime as dt
import functools
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Insert,
    Update,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from store.ack_spool import AckSpool, SpoolMover
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


def _keys(rows: list[dict[str, object]]) -> set[tuple[str, str]]:
    """The rows' (platform, delivery id): what a spooled batch stored (all of it)."""
    return {(str(row["platform"]), str(row["delivery_id"])) for row in rows}


def _answers(deliveries: Sequence[Delivery], stored: set[tuple[str, str]]) -> list[bool]:
    answers = []
    for d in deliveries:
        key = (d.platform, d.delivery_id[:200])
        answers.append(key in stored)
        stored.discard(key)  # a second copy in the same batch is a duplicate
    return answers


def _insert_returning(postgres: bool) -> Insert:
    insert = postgresql.insert if postgres else sqlite.insert
    return (
        insert(InboxItem)
        .on_conflict_do_nothing()
        .returning(InboxItem.platform, InboxItem.delivery_id)
    )


class Appender:
    """Stores batches of deliveries (a group commit of concurrent acks): each batch is one
    ``INSERT … ON CONFLICT DO NOTHING`` and one commit (``RETURNING`` tells which rows were
    new; the acks' spool stores every row, and the move keeps the first copy).

    On a SQLite file the batch goes to the acks' spool (store/ack_spool.py), a file of its
    own whose lock no handling holds, and the handling processes move it into the inbox
    (``spool_mover``); on PostgreSQL (whose row locks keep acks and handlings apart) and an
    in-memory SQLite database (which only this process's engine can reach) straight into the
    inbox, through SQLAlchemy's async connection, kept open for the purpose."""

    def __init__(self, db: Database) -> None:
        self.engine = db.engine  # not the Database: a registry may key on it weakly
        self._conn: AsyncConnection | None = None
        self._db = weakref.ref(db)  # for its spool's mover (``settled``)
        path = _spool_of(db)
        self.spool = AckSpool(db.engine, path) if path else None
        db.on_dispose(self.close)  # its connections are closed before the engine is disposed

    def add_now(self, deliveries: Sequence[Delivery], now: dt.datetime) -> list[bool] | None:
        """``add_many`` on the caller's thread, without waiting: None when it cannot be done so
        — not a SQLite file, or the spool's lock is held by another connection — and the caller
        then awaits ``add_many``. Raises what the write itself raised (nothing is stored)."""
        if self.spool is None or not deliveries:
            return None
        rows = _delivery_rows(deliveries, now)
        return _answers(deliveries, _keys(rows)) if self.spool.insert_now(rows) else None

    async def add_many(self, deliveries: Sequence[Delivery], now: dt.datetime) -> list[bool]:
        """Store the deliveries in one transaction, waiting for the lock as needed; for each,
        in order, whether it was new — False for a second copy within the batch, and for a
        platform's retry of one already stored (not on a SQLite file: there the retry is
        stored in the spool too, and the move keeps only the first)."""
        if not deliveries:
            return []
        rows = _delivery_rows(deliveries, now)
        if self.spool is not None:
            await self.spool.insert(rows)
            return _answers(deliveries, _keys(rows))
        if self._conn is None:
            self._conn = await self.engine.connect()
        conn = self._conn
        try:
            async with conn.begin():
                result = await conn.execute(
                    _insert_returning(conn.dialect.name == "postgresql"), rows
                )
                stored = {(p, d) for p, d in result.all()}
            return _answers(deliveries, stored)
        except BaseException:
            self._conn = None  # a broken connection is not used again
            with contextlib.suppress(Exception):
                await conn.close()
            raise

    async def settled(self) -> None:
        """Until every delivery stored so far is in the inbox table (tests; a draining
        runner): the spool moved, nothing left in it."""
        db = self._db()
        mover = spool_mover(db) if db is not None else None
        if mover is not None:
            await mover.settled()

    async def close(self) -> None:
        if self.spool is not None:
            await self.spool.close()
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()


def _spool_of(db: Database) -> str | None:
    """The database's file when it has an acks' spool: a SQLite file (an in-memory database
    is reachable only through this process's engine, and PostgreSQL needs none)."""
    path = db.url.database if db.dialect == "sqlite" else None
    return path if path and path != ":memory:" else None


_movers: weakref.WeakKeyDictionary[Database, SpoolMover] = weakref.WeakKeyDictionary()


def spool_mover(db: Database) -> SpoolMover | None:
    """This process's mover of the database's acks' spool into the inbox (one, whoever asks:
    an inbox runner, ``Appender.settled``); None where there is no spool."""
    path = _spool_of(db)
    if path is None:
        return None
    mover = _movers.get(db)
    if mover is None:
        mover = _movers[db] = SpoolMover(path)
        db.on_dispose(mover.close)
    return mover


async def add_many(s: AsyncSession, deliveries: Sequence[Delivery], now: dt.datetime) -> list[bool]:
    """``Appender.add_many`` in a caller's transaction."""
    if not deliveries:
        return []
    stmt = _insert_returning(s.get_bind().dialect.name == "postgresql")
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
    unfinished row, leased or not) RETURNING *``, built once per dialect and platform filter
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
        .returning(InboxItem)
        .execution_options(synchronize_session=False, populate_existing=True)
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
    # The row comes back with the UPDATE (one statement while SQLite's write lock is held,
    # not a second one to read it).
    return (await s.scalars(stmt, params)).first()


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
