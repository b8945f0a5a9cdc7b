"""The acks' spool on a SQLite file: deliveries are stored first in a file of their own
(``<database>-acks``) by the process that acknowledges them (``AckSpool``), and moved from there
into the inbox table by the processes that handle them (``SpoolMover``: a worker, or the server
itself with ``--workers 0``), every poll of their inbox runner.

Why: SQLite has one write lock per file. With the inbox in the database file, an ack found the
lock held by a worker's handling about one time in seven under load (a handling's claim, its
commit, its sent replies: ~200 ms of lock per second, measured with bench/bench_ack.py) and
waited for it — 2–5 ms at the 99th percentile, against a bare Slack app's 1–1.5 ms. In a file
of its own the ack's write waits for no handling: the spool's only other writer is the move,
whose delete takes the spool's lock for microseconds. The move itself waits for the
database's lock, off the ack's path.

Nothing is lost or doubled on the way: a row leaves the spool only after the inbox holds it
(the move commits the inbox's insert, then deletes the rows the inbox now holds); a crash
between the two leaves rows in both, and the next move's ``ON CONFLICT DO NOTHING`` on the
inbox's unique delivery id stores them once; so several movers (workers) may move at once, and
a platform's retry spooled twice reaches the inbox once. What a killed server left in the spool
is moved by the workers of the next start. The rows keep their order (the spool's ids: a new row
takes one above every row there), so one person's messages reach the workers in order.

The spool's table has no index but its rowid and no ``AUTOINCREMENT``: each commit of an ack
then writes one page (the table's last), not three (the unique index's and the sequence's
too) — 19 → 14 µs per ack in batches of three (``PRAGMA``s as below, this machine). Without
the sequence a rowid can be used again once the table was emptied, so a move deletes only the
rows it finds in the inbox (a later row given a reused id is not there, and stays to be moved);
without the unique index a retry is recognised at the move rather than at the ack (no adapter
acts on that answer: a stored delivery is acknowledged either way). A spool file of the
earlier shape is rebuilt in this one when it is found empty, and works as it is until then.

Why the handling processes move, not the ack process: moved by a thread of the ack process,
the move (an insert into the inbox, its indexes, the spool's delete) cost that process 13–20 µs
of the thread's CPU per ack and the event loop the hand-offs to the thread and back — 253 µs of
the ack process's CPU per ack against 227–233 µs with the workers moving, and 3,086/3,090
against 3,383/3,520 acks/s (events/commands at 16 concurrent, bench/bench_ack.py's servers
pinned to one CPU, ``/proc`` per thread). In a worker the move runs at the worker's lower
priority, and the acks' process does nothing but acknowledge.

The writes go through Python's ``sqlite3`` rather than aiosqlite, each batch in one call: at
once on the caller's thread when the spool's lock is free (``insert_now``), else on a thread of
its own that waits for it (``insert``). Why not aiosqlite: it hands every DBAPI call to its
thread and back — the begin, the insert, the fetch and the commit are four round trips, ~1.0 ms
per stored delivery against ~0.25 ms for one call doing all four (measured on this machine).
Why the event loop's own thread first: even that one hand-off (the submit, the thread's
wake-up, the answer back through the loop's self-pipe) cost the loop more CPU than the write
itself — ~0.2 ms per ack against ~0.08 ms (README, "Fewer thread hops") — and the write cannot
block the loop: the lock is asked for once, without a busy timeout, and the commit appends to
the write-ahead log without a sync (``synchronous=NORMAL``, as the database) nor a checkpoint.
The values go through the inbox columns' own bind processors, so the inbox stores a moved row
exactly as the ORM stores one.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from store import sqlite_inline
from store.models import InboxItem

SUFFIX = "-acks"  # the spool's file: the database's path and this
#: How long a write keeps trying for a held lock (as the database's busy timeout).
LOCK_PATIENCE = sqlite_inline.LOCK_PATIENCE
#: How often it asks again. SQLite's own busy handler sleeps 1, 2, 5 … 100 ms between tries:
#: an ack would wait up to 100 ms for a lock held for microseconds.
LOCK_POLL = 0.0005
CLOSE_GRACE = 2.0  # seconds ``close`` waits for a write or a move under way

_T = TypeVar("_T")

_COLUMNS = ("platform", "delivery_id", "person", "kind", "body", "received_at")
_CREATE = (
    "CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY, "
    "platform TEXT NOT NULL, delivery_id TEXT NOT NULL, person TEXT NOT NULL, "
    "kind TEXT NOT NULL, body TEXT NOT NULL, received_at TEXT NOT NULL)"
)
#: What the earlier shape's table definition holds and this one's does not.
_EARLIER_SHAPE = ("AUTOINCREMENT", "UNIQUE")
# ``ON CONFLICT DO NOTHING``: a spool of the earlier shape (with its unique index) takes a
# retry's second copy without failing the batch; a new spool has nothing to conflict with.
_INSERT = (
    f"INSERT INTO spool ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT DO NOTHING"
)
_INBOX = f"main.{InboxItem.__tablename__}"
_MOVE = (
    f"INSERT INTO {_INBOX} ({', '.join(_COLUMNS)}, attempts) "
    f"SELECT {', '.join(_COLUMNS)}, 0 FROM acks.spool WHERE id <= ? ORDER BY id "
    "ON CONFLICT DO NOTHING"
)
_DELETE_MOVED = (
    "DELETE FROM acks.spool WHERE id <= ? AND EXISTS (SELECT 1 FROM "
    f"{_INBOX} AS moved WHERE moved.platform = spool.platform "
    "AND moved.delivery_id = spool.delivery_id)"
)


class AckSpool:
    """The acks' side of one SQLite database file's spool, for one process's event loop: it
    only writes (``SpoolMover`` moves)."""

    def __init__(self, engine: AsyncEngine, path: str) -> None:
        columns = InboxItem.__table__.c
        self.binds = [(key, columns[key].type.bind_processor(engine.dialect)) for key in _COLUMNS]
        self.spool_path = path + SUFFIX
        _create(self.spool_path)
        self._acks = ThreadPoolExecutor(1, thread_name_prefix="dxbot-acks")
        self._here: sqlite3.Connection | None = None  # insert_now's, on the loop's thread
        self._waiting: sqlite3.Connection | None = None  # insert's, on ``_acks``

    def _params(self, rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
        """Each row's values as its inbox column binds them. A value the batch's rows share
        (the time they were received: one object) is bound once, not once a row."""
        bound: dict[tuple[str, int], object] = {}

        def bind(key: str, process: Callable[[Any], Any] | None, value: object) -> object:
            if process is None:
                return value
            memo = (key, id(value))  # the rows hold each value until this call returns
            if memo not in bound:
                bound[memo] = process(value)
            return bound[memo]

        return [tuple(bind(key, process, row[key]) for key, process in self.binds) for row in rows]

    def insert_now(self, rows: list[dict[str, object]]) -> bool:
        """The batch written at once on this thread; False, with nothing written, when the
        spool's lock is held (by a move's delete, or another process's ack)."""
        conn = self._here
        try:
            if conn is None:
                # Not bound to the thread that opened it: ``close`` may run on another (a
                # database disposed from a test's thread); the one caller is the event loop's.
                conn = self._here = _open(self.spool_path, check_same_thread=False)
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _locked(exc):  # at the open too: another connection setting up the file's log
                return False
            self._here = None
            if conn is not None:
                _discard(conn)
            raise
        try:
            _insert_all(conn, self._params(rows))
            return True
        except BaseException:
            self._here = None
            _discard(conn)
            raise

    async def insert(self, rows: list[dict[str, object]]) -> None:
        """The batch written on the spool's thread, which waits for a held lock."""
        params = self._params(rows)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._acks, self._insert_waiting, params)

    def _insert_waiting(self, params: list[tuple[object, ...]]) -> None:
        if self._waiting is None:
            self._waiting = _patiently(lambda: _open(self.spool_path))
        conn = self._waiting
        try:
            _patiently(lambda: conn.execute("BEGIN IMMEDIATE"))
            _insert_all(conn, params)
        except BaseException:
            self._waiting = None
            _discard(conn)
            raise

    async def close(self) -> None:
        """Close the connections; a write under way gets ``CLOSE_GRACE`` seconds."""
        if self._here is not None:
            here, self._here = self._here, None
            here.close()
        await _close_on(self._acks, self, "_waiting")


class SpoolMover:
    """Moves a spool's rows into the inbox table, on a thread of its own: the move waits for
    the database's write lock, which a handling may hold. One per process that handles rows
    (store/inbox.py ``spool_mover``); several processes may move at once (see above)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.spool_path = path + SUFFIX
        _create(self.spool_path)
        self._mover = ThreadPoolExecutor(1, thread_name_prefix="dxbot-inbox-move")
        self._main: sqlite3.Connection | None = None  # the database, with the spool attached
        self._closed = False

    async def move(self) -> int:
        """Move what the spool holds now; the last id moved (0: it was empty)."""
        if self._closed:
            return 0
        return await asyncio.get_running_loop().run_in_executor(self._mover, self._move)

    async def settled(self) -> None:
        """Until the spool is empty (tests; a draining runner)."""
        while await self.move():
            pass

    def _move(self) -> int:
        conn = self._main_connection()
        try:
            last = conn.execute("SELECT max(id) FROM acks.spool").fetchone()[0]
            if last is None:
                return 0

            def move() -> None:
                try:
                    # Deferred: the inbox's lock is taken by the insert; the spool is only
                    # read (BEGIN IMMEDIATE would lock every attached file, the acks' too).
                    conn.execute("BEGIN")
                    conn.execute(_MOVE, (last,))
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise

            _patiently(move)
            _patiently(lambda: conn.execute(_DELETE_MOVED, (last,)))
            return int(last)
        except BaseException:
            self._main = None
            _discard(conn)
            raise

    def _main_connection(self) -> sqlite3.Connection:
        if self._main is None:
            self._main = _patiently(lambda: _open(self.path, attach=self.spool_path))
        return self._main

    async def close(self) -> None:
        """Close the connection; a move under way gets ``CLOSE_GRACE`` seconds (a server stops
        within 10 s), and what it could not move stays in the spool for the next."""
        self._closed = True
        await _close_on(self._mover, self, "_main")


async def _close_on(pool: ThreadPoolExecutor, owner: object, name: str) -> None:
    """Close ``owner.<name>`` on the thread that uses it, after what that thread has in hand
    (at most ``CLOSE_GRACE`` seconds), and let the thread go."""

    def close() -> None:
        conn = getattr(owner, name)
        if conn is not None:
            setattr(owner, name, None)
            conn.close()

    closing = asyncio.get_running_loop().run_in_executor(pool, close)
    await asyncio.wait([closing], timeout=CLOSE_GRACE)
    pool.shutdown(wait=False)


def _create(path: str) -> None:
    """The spool's file and table, in write-ahead-log mode (once; then a no-op). A table of
    the earlier shape is rebuilt when it is empty (checked and done holding the write lock, so
    no ack can slip in between); one holding rows is left for a later start."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # another process creating it meanwhile
        conn.execute(f"PRAGMA busy_timeout={sqlite_inline.BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN IMMEDIATE")
        found = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'spool'").fetchone()
        if found is not None and any(word in found[0] for word in _EARLIER_SHAPE):
            if conn.execute("SELECT 1 FROM spool LIMIT 1").fetchone() is None:
                conn.execute("DROP TABLE spool")
        conn.execute(_CREATE)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _open(
    path: str, *, check_same_thread: bool = True, attach: str | None = None
) -> sqlite3.Connection:
    """A connection with no busy timeout (its caller waits for a held lock its own way). Its
    first statements can find the file locked too — another connection setting up or removing
    the write-ahead log, as the last one to close does — and then raise, the connection closed.
    """
    conn = sqlite3.connect(  # transactions: ours (isolation_level=None)
        path, isolation_level=None, check_same_thread=check_same_thread
    )
    try:
        _configure(conn, attach)
    except BaseException:
        conn.close()
        raise
    return conn


def _configure(conn: sqlite3.Connection, attach: str | None) -> None:
    pragmas = ["busy_timeout=0", "synchronous=NORMAL"]
    if attach is None:
        # The acks' connections never checkpoint: the checkpoint, run by the committing
        # connection, cost an ack up to 15 ms. The move's connection runs it instead.
        pragmas.append("wal_autocheckpoint=0")
    for pragma in pragmas:
        conn.execute(f"PRAGMA {pragma}")
    if attach is not None:
        conn.execute("ATTACH DATABASE ? AS acks", (attach,))
    schema = "acks." if attach is not None else ""
    # The spool's rows hold what people wrote: a moved row's bytes are overwritten, not left in
    # free pages, and the write-ahead log is cut back once checkpointed (as the erasure at
    # contract end expects of every file, README "Erasure").
    for pragma in ("synchronous=NORMAL", "secure_delete=ON", "journal_size_limit=0"):
        conn.execute(f"PRAGMA {schema}{pragma}")


def _insert_all(conn: sqlite3.Connection, params: list[tuple[object, ...]]) -> None:
    """Insert the rows and commit the transaction the caller began."""
    conn.executemany(_INSERT, params)
    conn.execute("COMMIT")


def _patiently(step: Callable[[], _T]) -> _T:
    """Run ``step`` (which takes a lock), asking again every ``LOCK_POLL`` seconds while
    another connection holds the lock, for up to ``LOCK_PATIENCE`` seconds."""
    give_up = time.monotonic() + LOCK_PATIENCE
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if not _locked(exc) or time.monotonic() >= give_up:
                raise
            time.sleep(LOCK_POLL)


def _locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _discard(conn: sqlite3.Connection) -> None:
    """Close a connection whose write failed: closing rolls back what it began, and a broken
    connection is not used again."""
    with contextlib.suppress(Exception):
        conn.close()
