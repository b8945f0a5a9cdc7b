"""A SQLite connection for SQLAlchemy's aiosqlite dialect that runs each call at once on the
event loop's thread, for the worker processes (``Database(url, inline=True)``).

Why not aiosqlite there: aiosqlite hands every DBAPI call to a thread of its own and back — a
cursor, an execute, a fetch and a close are four round trips per statement, each a queue put,
the thread's wake-up, ``call_soon_threadsafe`` and the loop's self-pipe. A worker answering a
burst was CPU-bound on its event loop's thread (77 % of a core at ~90 replies/s, ~9 ms of the
loop per reply, bench/bench_replies.py, README "Benchmarks"), much of it those hand-offs. A SQLite
statement itself takes microseconds.

Why a worker may block its loop on SQLite: what must answer quickly — the acks — is another
process (bot/workers.py), and on SQLite one process's transactions already take turns
(store/db.py ``Database.transaction``), so a worker's tasks never wait for each other's lock in
SQLite's busy handler. What a worker's statement can still wait for is another process's write
(another worker's handling, the server's scheduler, the spool's move): milliseconds, during
which the worker's other tasks (a reply on its way to the platform) wait too. The server
process, which acknowledges, keeps aiosqlite: its loop must never wait for a lock.

The shape is aiosqlite's ``Connection`` and ``Cursor`` (coroutine methods over ``sqlite3``):
SQLAlchemy's dialect takes such a connection from ``create_async_engine``'s documented
``async_creator``, and everything above the driver — the dialect, the pool, the ORM — is
unchanged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any


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
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
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


class InlineConnection:
    """aiosqlite's ``Connection`` over a ``sqlite3.Connection``, without the thread. The
    dialect reads ``_connection`` (None once closed) and ``isolation_level``."""

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
        if self._connection is not None:
            conn, self._connection = self._connection, None
            conn.close()

    def stop(self) -> None:
        """Close at once (SQLAlchemy's terminate of a connection it gave up on)."""
        if self._connection is not None:
            conn, self._connection = self._connection, None
            conn.close()


async def connect(database: str) -> InlineConnection:
    """As the dialect connects (``check_same_thread=False``: the pool may close a connection
    from another thread, as aiosqlite's thread would)."""
    return InlineConnection(sqlite3.connect(database, check_same_thread=False))
