"""Engine and session factory for SQLite (embedded default) and PostgreSQL (scale-out).

One session per inbound message or job, committed once at the boundary.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import socket
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Select, event
from sqlalchemy.engine import URL, Connection, CursorResult, Result, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from store import sqlite_inline

#: The unit of work every store function takes. Code above the store names it by this alias, so
#: that only ``store/`` imports SQLAlchemy (an import-linter contract in pyproject.toml).
Session = AsyncSession

#: Raised at commit when a unique key was taken by a concurrent writer (e.g. two deliveries of
#: one Slack event racing for its id); callers above the store catch it by this name.
Conflict = IntegrityError


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched. ``AsyncSession.execute`` is typed as returning a
    plain ``Result``; for those statements it is a ``CursorResult``, which counts them."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(result).__name__} carries no row count")
    return result.rowcount


class DatabaseError(Exception):
    """The database cannot be used; ``str()`` is an English sentence saying what to do."""


def parse_url(raw: str) -> URL:
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise DatabaseError(
            f"DATABASE_URL {raw!r} is not a database URL; use e.g. "
            "sqlite+aiosqlite:///data/dxbot.db or postgresql+asyncpg://user@host:5432/dbname."
        ) from exc
    if url.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
        raise DatabaseError(
            f"DATABASE_URL uses the driver {url.drivername!r}; dxbot supports "
            "'sqlite+aiosqlite' and 'postgresql+asyncpg'."
        )
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers proceed during a write; foreign keys are off by default in SQLite;
    # the busy timeout makes a second process wait for the lock instead of failing at once.
    # A worker's inline connection waits for a held lock itself, its loop free meanwhile.
    inline = isinstance(dbapi_conn.driver_connection, sqlite_inline.InlineConnection)
    busy_timeout = sqlite_inline.NO_BUSY_TIMEOUT if inline else sqlite_inline.BUSY_TIMEOUT_MS
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={busy_timeout}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _write_transaction(conn: Connection) -> None:
    """Begin writing (SQLite's write lock, ``BEGIN IMMEDIATE``) if this connection has not yet.

    Python's sqlite3 begins a transaction only before an INSERT, UPDATE or DELETE: reads before
    a transaction's first write run on their own, each on the database as it is (as on
    PostgreSQL at READ COMMITTED), and the write lock is taken at the first write. Two
    statements must not run outside it: a ``SAVEPOINT`` would open a transaction its
    ``RELEASE`` commits, before the rest of the work (so a later failure could not undo it),
    and a ``SELECT … FOR UPDATE`` — a read whose row must not change before this transaction
    writes it, which SQLite's dialect drops the ``FOR UPDATE`` of — is protected only by the
    write lock."""
    driver, dbapi = conn.connection.driver_connection, conn.connection.dbapi_connection
    if driver is not None and dbapi is not None and not driver.in_transaction:
        cursor = dbapi.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
        finally:
            cursor.close()


def _write_before_savepoint(conn: Connection, _name: str | None) -> None:
    _write_transaction(conn)


def _write_before_locking_read(conn: Connection, statement: Any, *_: Any) -> None:
    if isinstance(statement, Select) and statement._for_update_arg is not None:
        _write_transaction(conn)


def make_engine(raw_url: str, *, inline: bool = False, **kwargs: Any) -> AsyncEngine:
    """``inline``: on a SQLite file, each call runs on the event loop's thread rather than on
    aiosqlite's (store/sqlite_inline.py: for the worker processes, whose loop may wait)."""
    url = parse_url(raw_url)
    if url.drivername.startswith("sqlite"):
        # the database's file (an in-memory database has none)
        path = url.database if url.database and url.database != ":memory:" else None
        if path is not None:
            parent = Path(path).parent
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(
                    f"Cannot create the directory {parent} for the SQLite database "
                    f"{url.database!r}: {exc.strerror}. Check DATABASE_URL."
                ) from exc
        if inline and path is not None:
            kwargs["async_creator"] = functools.partial(sqlite_inline.connect, path)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "savepoint", _write_before_savepoint)
        event.listen(engine.sync_engine, "before_execute", _write_before_locking_read)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def describe_connect_error(url: URL, exc: BaseException) -> str:
    if url.drivername.startswith("postgresql"):
        where = f"{url.host or 'localhost'}:{url.port or 5432}"
        return (
            f"Cannot connect to PostgreSQL at {where} (database {url.database!r}): "
            f"{_first_line(exc)}. Start the server or fix DATABASE_URL."
        )
    return (
        f"Cannot open the SQLite database {url.database!r}: {_first_line(exc)}. Check DATABASE_URL."
    )


def _first_line(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    text = str(getattr(cause, "orig", None) or cause).strip().splitlines()
    return text[0] if text else type(cause).__name__


#: The database whose turn the current task holds (``Database.transaction`` on SQLite).
_holding: contextvars.ContextVar[Database | None] = contextvars.ContextVar("holding", default=None)


class Database:
    """Holds the engine; hands out one session per unit of work."""

    def __init__(self, raw_url: str, *, inline: bool = False, **engine_kwargs: Any) -> None:
        self.url = parse_url(raw_url)
        self.engine = make_engine(raw_url, inline=inline, **engine_kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._on_dispose: list[Callable[[], Awaitable[None]]] = []
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] | None = (
            weakref.WeakKeyDictionary() if self.url.get_backend_name() == "sqlite" else None
        )

    def on_dispose(self, close: Callable[[], Awaitable[None]]) -> None:
        """Run ``close`` (e.g. closing a connection held outside the pool) before disposal."""
        self._on_dispose.append(close)

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits once at the end, or rolls back whole on error.

        On SQLite, one process's transactions take turns (an asyncio lock): SQLite has one
        writer, and connections of one process waiting for it in SQLite's busy handler sleep
        1–100 ms per retry — with four worker tasks that cost most of a reply's time. A
        transaction opened inside another by the same task (or a task it started) does not
        wait for its own turn."""
        if self._turns is None or _holding.get() is self:
            async with self.sessions() as session, session.begin():
                yield session
            return
        async with self._turns_of_loop():
            token = _holding.set(self)
            try:
                async with self.sessions() as session, session.begin():
                    yield session
            finally:
                _holding.reset(token)

    def _turns_of_loop(self) -> asyncio.Lock:
        assert self._turns is not None
        loop = asyncio.get_running_loop()
        lock = self._turns.get(loop)
        if lock is None:
            lock = self._turns[loop] = asyncio.Lock()
        return lock

    async def check(self) -> None:
        """Fail early with a clear sentence when the database cannot be reached."""
        try:
            async with self.engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
        except (OperationalError, DBAPIError, OSError, socket.gaierror) as exc:
            raise DatabaseError(describe_connect_error(self.url, exc)) from exc

    async def dispose(self) -> None:
        closers, self._on_dispose = self._on_dispose, []
        for close in closers:
            with contextlib.suppress(Exception):
                await close()
        await self.engine.dispose()
