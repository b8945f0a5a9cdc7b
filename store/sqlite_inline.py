"""A SQLite connection for SQLAlchemy's aiosqlite dialect that runs each call at once on the
event loop's thread, for the worker processes (``Database(url, inline=True)``).

Why not aiosqlite there: aiosqlite hands every DBAPI call to a thread of its own and back — a
cursor, an execute, a fetch and a close are four round trips per statement, each a queue put,
the thread's wake-up, ``call_soon_threadsafe`` and the loop's self-pipe. A worker answering a
burst was CPU-bound on its event loop's thread (77 % of a core at ~90 replies/s, ~9 ms of the
loop per reply, bench/bench_replies.py, README "Benchmarks"), much of it those hand-offs. A SQLite
statement itself takes microseconds.

Why a worker may run SQLite on its loop: what must answer quickly — the acks — is another
process (bot/workers.py), and a statement takes microseconds. Not a held lock, though: another
process's write (another worker's handling, the server's scheduler, the spool's move) would
keep the loop in SQLite's busy handler, which sleeps 1, 2, 5 … 100 ms between tries. So these
connections have no busy timeout (``NO_BUSY_TIMEOUT``, store/db.py): a statement refused for a
held lock (``SQLITE_BUSY``) is tried again every ``LOCK_POLL`` seconds, the loop free meanwhile,
for up to ``LOCK_PATIENCE`` seconds (the other connections' busy timeout), then refused as
before. The retry is sound: a statement refused so has changed nothing, and it was the first
of its transaction to ask for the lock (Python's sqlite3 begins a transaction at its first
write, the reads before it running on their own; where a read must be in it, store/db.py
begins it with ``BEGIN IMMEDIATE``, refused and retried the same way). A refusal that waiting
cannot cure (``SQLITE_BUSY_SNAPSHOT``) is raised at once. The server process, which
acknowledges, keeps aiosqlite.

The shape is aiosqlite's ``Connection`` and ``Cursor`` (coroutine methods over ``sqlite3``):
SQLAlchemy's dialect takes such a connection from ``create_async_engine``'s documented
``async_creator``, and everything above the driver — the dialect, the pool, the ORM — is
unchanged.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

#: What the connections here tell SQLite's busy handler: do not wait (we do, above).
NO_BUSY_TIMEOUT = 0
#: How long any of our SQLite connections waits for a lock another holds: here, the acks'
#: spool (store/ack_spool.py), and as the busy timeout of the others (store/db.py).
LOCK_PATIENCE = 10.0
#: The same patience as SQLite's busy timeout, for the connections that wait in its handler.
BUSY_TIMEOUT_MS = int(LOCK_PATIENCE * 1000)
#: How often it asks again (the loop's timers resolve to about a millisecond).
LOCK_POLL = 0.001
_SQLITE_BUSY = 5  # the primary result code; SQLITE_BUSY_SNAPSHOT (517) cannot be waited out


class InlineCursor:
    """aiosqlite's ``Cursor`` over a ``sqlite3.Cursor``, without the thread."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        if parameters is None:
            await _patiently(lambda: self._cursor.execute(sql))
        else:
            await _patiently(lambda: self._cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        rows = list(parameters)  # may be tried again
        await _patiently(lambda: self._cursor.executemany(sql, rows))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        if size is None:
            return self._cursor.fetchmany()
        return self._cursor.fetchmany(size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *_sizes: Any) -> None:
        return None

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _AtOnce:
    """Stands for aiosqlite's queue of calls to its thread: the dialect sets an isolation
    level (``execution_options(isolation_level="AUTOCOMMIT")``) by putting a call and its
    future on ``_tx``; here the call runs at once."""

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, call = item
        try:
            future.set_result(call())
        except Exception as exc:
            future.set_exception(exc)


class InlineConnection:
    """aiosqlite's ``Connection`` over a ``sqlite3.Connection``, without the thread. The
    dialect reads ``_connection`` (None once closed), ``_conn`` and ``_tx`` (to set an
    isolation level) and ``isolation_level``."""

    _tx = _AtOnce()

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._connection: sqlite3.Connection | None = conn

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Close at once (SQLAlchemy's terminate of a connection it gave up on)."""
        if self._connection is not None:
            conn, self._connection = self._connection, None
            conn.close()


async def _patiently(step: Callable[[], object]) -> None:
    """Run ``step``; while SQLite refuses it for a lock another connection holds, try again
    every ``LOCK_POLL`` seconds, for up to ``LOCK_PATIENCE`` seconds."""
    give_up: float | None = None  # the clock is read only once a lock is met
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != _SQLITE_BUSY:
                raise
            now = time.monotonic()
            give_up = now + LOCK_PATIENCE if give_up is None else give_up
            if now >= give_up:
                raise
        await asyncio.sleep(LOCK_POLL)


async def connect(database: str) -> InlineConnection:
    """As the dialect connects (``check_same_thread=False``: the pool may close a connection
    from another thread, as aiosqlite's thread would)."""
    return InlineConnection(sqlite3.connect(database, check_same_thread=False))
