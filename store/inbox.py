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
import sqlite3
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
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
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
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
#: How often a batch asks again for SQLite's write lock while another process holds it.
LOCK_POLL = 0.0005

#: The columns of a stored delivery (``_delivery_rows``), in the order they are bound.
_ROW_KEYS = ("platform", "delivery_id", "person", "kind", "body", "received_at", "attempts")


def _insert_returning(postgres: bool) -> Insert:
    insert = postgresql.insert if postgres else sqlite.insert
    return (
        insert(InboxItem)
        .on_conflict_do_nothing()
        .returning(InboxItem.platform, InboxItem.delivery_id)
    )


class Appender:
    """Stores batches of deliveries (a group commit of concurrent acks): each batch is one
    ``INSERT … ON CONFLICT DO NOTHING RETURNING`` and one commit, on a connection kept open
    for the purpose — no pool checkout or reset around it.

    On a SQLite file the batch is written by ``_SqliteFileWriter`` (one call on a thread of
    its own); on PostgreSQL (and an in-memory SQLite database, which only this process's
    engine can reach) through SQLAlchemy's async connection."""

    def __init__(self, db: Database) -> None:
        self.engine = db.engine  # not the Database: a registry may key on it weakly
        self._conn: AsyncConnection | None = None
        path = db.url.database if db.dialect == "sqlite" else None
        self._file = _SqliteFileWriter(db.engine, path) if path and path != ":memory:" else None
        db.on_dispose(self.close)  # its connection is closed before the engine is disposed

    def add_now(self, deliveries: Sequence[Delivery], now: dt.datetime) -> list[bool] | None:
        """``add_many`` on the caller's thread, without waiting: None when it cannot be done so
        — not a SQLite file, or its write lock is held by another connection — and the caller
        then awaits ``add_many``. Raises what the write itself raised (nothing is stored)."""
        if self._file is None or not deliveries:
            return None
        stored = self._file.insert_now(_delivery_rows(deliveries, now))
        return None if stored is None else _answers(deliveries, stored)

    async def add_many(self, deliveries: Sequence[Delivery], now: dt.datetime) -> list[bool]:
        """Store the deliveries in one transaction, waiting for the lock (``LOCK_PATIENCE``) as
        needed; for each, in order, whether it was new —
        False for a platform's retry already stored, and for a second copy within the batch."""
        if not deliveries:
            return []
        rows = _delivery_rows(deliveries, now)
        if self._file is not None:
            return _answers(deliveries, await self._file.insert(rows))
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

    async def close(self) -> None:
        if self._file is not None:
            await self._file.close()
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()


class _SqliteFileWriter:
    """The inbox's writes on a SQLite file through Python's ``sqlite3``, each batch in one
    call: at once on the caller's thread when the write lock is free (``insert_now``), else on
    a thread of its own that waits for the lock (``insert``), each on a connection of its own.

    Why not aiosqlite, as everywhere else: it hands every DBAPI call to its thread and back —
    the begin, the insert, the fetch and the commit are four round trips, ~1.0 ms per stored
    delivery against ~0.25 ms for one call doing all four (measured on this machine), and every
    ack waits for it. Why the event loop's own thread first: even that one hand-off (the
    submit, the thread's wake-up, the answer back through the loop's self-pipe) cost the loop
    more CPU than the write itself — ~0.2 ms per ack against ~0.08 ms (bench/bench_ack.py,
    README) — and the write cannot block the loop: the lock is asked for once, without a busy
    timeout, and what follows (the insert, and a commit that appends to the write-ahead log
    without a sync, ``synchronous=NORMAL``, nor a checkpoint) waits for no other connection.
    The statement is SQLAlchemy's, compiled once for the engine's dialect, and the values go
    through the columns' own bind processors, so a row is stored exactly as the ORM stores it.

    The write lock, when it is held: SQLite's busy handler sleeps 1, 2, 5 … 100 ms between
    tries, so an ack would wait up to 100 ms for a lock held 2 ms; the thread asks every
    ``LOCK_POLL`` seconds for up to ``LOCK_PATIENCE``. Neither connection checkpoints the
    write-ahead log itself (``wal_autocheckpoint=0``): the checkpoint, run by the committing
    connection, cost an ack up to 15 ms; the workers' connections, which commit every
    handling, run it instead."""

    def __init__(self, engine: AsyncEngine, path: str) -> None:
        dialect = engine.dialect
        compiled = _insert_returning(False).compile(dialect=dialect, column_keys=list(_ROW_KEYS))
        self.sql = compiled.string
        self.binds = [
            (key, compiled.binds[key].type.bind_processor(dialect))
            for key in compiled.positiontup or ()
        ]
        self.path = path
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="dxbot-inbox")
        self._conn: sqlite3.Connection | None = None  # used on ``thread`` only
        self._here: sqlite3.Connection | None = None  # used by ``insert_now`` only

    def _params(self, rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
        return [
            tuple(row[key] if bind is None else bind(row[key]) for key, bind in self.binds)
            for row in rows
        ]

    def insert_now(self, rows: list[dict[str, object]]) -> set[tuple[str, str]] | None:
        """The batch written at once on this thread; None, with nothing written, when another
        connection holds the write lock."""
        if self._here is None:
            # Not bound to the thread that opened it: ``close`` may run on another (a
            # database disposed from a test's thread); the one caller is the event loop's.
            self._here = _open_writer(self.path, check_same_thread=False)
        conn = self._here
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _locked(exc):
                return None
            self._here = None
            _discard(conn)
            raise
        try:
            return self._insert_all(conn, self._params(rows))
        except BaseException:
            self._here = None
            _discard(conn)
            raise

    async def insert(self, rows: list[dict[str, object]]) -> set[tuple[str, str]]:
        params = self._params(rows)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.thread, self._write, params, LOCK_PATIENCE)

    def _write(self, params: list[tuple[object, ...]], patience: float) -> set[tuple[str, str]]:
        if self._conn is None:
            self._conn = _open_writer(self.path)
        conn = self._conn
        try:
            self._begin(conn, time.monotonic() + patience)
            return self._insert_all(conn, params)
        except BaseException:
            self._conn = None
            _discard(conn)
            raise

    def _insert_all(
        self, conn: sqlite3.Connection, params: list[tuple[object, ...]]
    ) -> set[tuple[str, str]]:
        stored: set[tuple[str, str]] = set()
        for values in params:
            stored.update((p, d) for p, d in conn.execute(self.sql, values).fetchall())
        conn.execute("COMMIT")
        return stored

    @staticmethod
    def _begin(conn: sqlite3.Connection, give_up: float) -> None:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _locked(exc) or time.monotonic() >= give_up:
                    raise
                time.sleep(LOCK_POLL)

    def _close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    async def close(self) -> None:
        if self._here is not None:
            here, self._here = self._here, None
            here.close()
        await asyncio.get_running_loop().run_in_executor(self.thread, self._close)
        self.thread.shutdown(wait=False)


def _open_writer(path: str, *, check_same_thread: bool = True) -> sqlite3.Connection:
    conn = sqlite3.connect(  # transactions: ours (isolation_level=None)
        path, isolation_level=None, check_same_thread=check_same_thread
    )
    for pragma in ("busy_timeout=0", "synchronous=NORMAL", "wal_autocheckpoint=0"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _discard(conn: sqlite3.Connection) -> None:
    """Close a connection whose write failed: closing rolls back what it began, and a broken
    connection is not used again."""
    with contextlib.suppress(Exception):
        conn.close()


def _locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


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
