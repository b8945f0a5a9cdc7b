"""The acks' spool on a SQLite file: deliveries are stored first in a file of their own
(``<database>-acks``), and moved from there into the inbox table by a thread of this process,
a few milliseconds later (``MOVE_DELAY``: one move for a burst).

Why: SQLite has one write lock per file. With the inbox in the database file, an ack found the
lock held by a worker's handling about one time in seven under load (a handling's claim, its
commit, its sent replies: ~200 ms of lock per second, measured with bench/bench_ack.py) and
waited for it — 2–5 ms at the 99th percentile, against a bare Slack app's 1–1.5 ms. In a file
of its own the ack's write waits for no handling: the spool's only other writer is the move,
whose delete takes the spool's lock for microseconds. The move itself waits for the
database's lock, off the ack's path.

Nothing is lost or doubled on the way: a row leaves the spool only after the inbox holds it
(the move commits the inbox's insert, then deletes what it moved); a crash between the two
leaves rows in both, and the next move's ``ON CONFLICT DO NOTHING`` on the inbox's unique
delivery id stores them once. Every process that opens the spool moves what it finds at once,
so a server killed before it moved its acks moves them when it is started again. The rows keep
their order (the spool's ids), so one person's messages reach the workers in order.

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
import logging
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.ext.asyncio import AsyncEngine

from store.models import InboxItem

log = logging.getLogger("dxbot.inbox")

SUFFIX = "-acks"  # the spool's file: the database's path and this
#: How long a write keeps trying for a held lock (as the database's busy timeout).
LOCK_PATIENCE = 10.0
#: How often it asks again. SQLite's own busy handler sleeps 1, 2, 5 … 100 ms between tries:
#: an ack would wait up to 100 ms for a lock held for microseconds.
LOCK_POLL = 0.0005
RETRY_MOVE = 1.0  # seconds before a failed move is tried again
MOVE_DELAY = 0.005  # seconds the acks of a burst gather in the spool before one move
CLOSE_GRACE = 2.0  # seconds ``close`` waits for a write or a move under way

_COLUMNS = ("platform", "delivery_id", "person", "kind", "body", "received_at")
_CREATE = (
    "CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "platform TEXT NOT NULL, delivery_id TEXT NOT NULL, person TEXT NOT NULL, "
    "kind TEXT NOT NULL, body TEXT NOT NULL, received_at TEXT NOT NULL, "
    "UNIQUE (platform, delivery_id))"
)
_INSERT = (
    f"INSERT INTO spool ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT DO NOTHING"
)
_MOVE = (
    f"INSERT INTO main.{InboxItem.__tablename__} ({', '.join(_COLUMNS)}, attempts) "
    f"SELECT {', '.join(_COLUMNS)}, 0 FROM acks.spool WHERE id <= ? ORDER BY id "
    "ON CONFLICT DO NOTHING"
)

Stored = set[tuple[str, str]]


class AckSpool:
    """The spool of one SQLite database file, for one process's event loop."""

    def __init__(self, engine: AsyncEngine, path: str) -> None:
        columns = InboxItem.__table__.c
        self.binds = [(key, columns[key].type.bind_processor(engine.dialect)) for key in _COLUMNS]
        self.path = path
        self.spool_path = path + SUFFIX
        _create(self.spool_path)
        self.on_moved: list[Callable[[], None]] = []  # e.g. an idle inbox runner's wake
        self._acks = ThreadPoolExecutor(1, thread_name_prefix="dxbot-acks")
        self._mover = ThreadPoolExecutor(1, thread_name_prefix="dxbot-inbox-move")
        self._here: sqlite3.Connection | None = None  # insert_now's, on the loop's thread
        self._waiting: sqlite3.Connection | None = None  # insert's, on ``_acks``
        self._main: sqlite3.Connection | None = None  # the move's, on ``_mover``
        self._moving: asyncio.Future[int] | None = None
        self._due: asyncio.TimerHandle | None = None  # a move to start (``kick``)
        self._again = False
        self._closed = False

    # --- the acks' writes ------------------------------------------------------------------

    def _params(self, rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
        return [
            tuple(row[key] if bind is None else bind(row[key]) for key, bind in self.binds)
            for row in rows
        ]

    def insert_now(self, rows: list[dict[str, object]]) -> Stored | None:
        """The batch written at once on this thread; None, with nothing written, when the
        spool's lock is held (by the move's delete, or another process's ack)."""
        if self._here is None:
            # Not bound to the thread that opened it: ``close`` may run on another (a
            # database disposed from a test's thread); the one caller is the event loop's.
            self._here = _open(self.spool_path, check_same_thread=False)
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
            stored = _insert_all(conn, self._params(rows))
        except BaseException:
            self._here = None
            _discard(conn)
            raise
        self.kick()
        return stored

    async def insert(self, rows: list[dict[str, object]]) -> Stored:
        """The batch written on the spool's thread, which waits for a held lock."""
        params = self._params(rows)
        loop = asyncio.get_running_loop()
        stored = await loop.run_in_executor(self._acks, self._insert_waiting, params)
        self.kick()
        return stored

    def _insert_waiting(self, params: list[tuple[object, ...]]) -> Stored:
        if self._waiting is None:
            self._waiting = _open(self.spool_path)
        conn = self._waiting
        try:
            _patiently(lambda: conn.execute("BEGIN IMMEDIATE"))
            return _insert_all(conn, params)
        except BaseException:
            self._waiting = None
            _discard(conn)
            raise

    # --- the move --------------------------------------------------------------------------

    def kick(self, delay: float = MOVE_DELAY) -> None:
        """Move what the spool holds into the inbox, on the mover's thread, in ``delay``
        seconds (once more after the move under way, when one is). The delay lets the acks of
        a burst go in one move: each move costs the event loop a hand-off to the thread and
        back, as much as an ack's own write (README), and the workers look at the inbox only
        every 50 ms."""
        if self._closed:
            return
        if self._moving is not None:
            self._again = True
        elif self._due is None:
            self._due = asyncio.get_running_loop().call_later(delay, self._start)

    def _start(self) -> None:
        self._due = None
        if self._closed or self._moving is not None:
            return
        loop = asyncio.get_running_loop()
        self._moving = asyncio.ensure_future(loop.run_in_executor(self._mover, self._move))
        self._moving.add_done_callback(self._moved)

    def _moved(self, future: asyncio.Future[int]) -> None:
        self._moving = None
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            log.warning("inbox: moving the acks' spool failed (%s); trying again", exc)
            if not self._closed:
                asyncio.get_running_loop().call_later(RETRY_MOVE, self.kick)
            return
        if future.result():
            for wake in self.on_moved:
                wake()
        if self._again:
            self._again = False
            self.kick()

    def _move(self) -> int:
        """Move the spool's rows into the inbox; how many there were (0: none)."""
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
            _patiently(lambda: conn.execute("DELETE FROM acks.spool WHERE id <= ?", (last,)))
            return int(last)
        except BaseException:
            self._main = None
            _discard(conn)
            raise

    async def settled(self) -> None:
        """Until the spool is empty and no move is under way (tests; a draining runner)."""
        while True:
            if self._due is not None:  # now, not after the delay
                self._due.cancel()
                self._start()
            if self._moving is not None:
                await asyncio.wait([self._moving])
                await asyncio.sleep(0)  # its done-callback first (``_moved``), once it is done
                continue
            loop = asyncio.get_running_loop()
            if not await loop.run_in_executor(self._mover, self._spooled):
                return
            self.kick(0.0)
            await asyncio.sleep(0.005)

    def _spooled(self) -> bool:
        conn = self._main_connection()
        return conn.execute("SELECT 1 FROM acks.spool LIMIT 1").fetchone() is not None

    def _main_connection(self) -> sqlite3.Connection:
        """The mover thread's connection: the database, with the spool attached as ``acks``."""
        if self._main is None:
            self._main = _open(self.path, attach=self.spool_path)
        return self._main

    async def close(self) -> None:
        """Close the connections; a move under way gets ``CLOSE_GRACE`` seconds (a server
        stops within 10 s), and what it could not move stays in the spool for the next start."""
        self._closed = True
        if self._due is not None:
            self._due.cancel()
        if self._here is not None:
            here, self._here = self._here, None
            here.close()
        loop = asyncio.get_running_loop()
        for pool, name in ((self._acks, "_waiting"), (self._mover, "_main")):
            closing = loop.run_in_executor(pool, self._close, name)
            await asyncio.wait([closing], timeout=CLOSE_GRACE)  # after what it has in hand
            pool.shutdown(wait=False)

    def _close(self, name: str) -> None:
        conn = getattr(self, name)
        if conn is not None:
            setattr(self, name, None)
            conn.close()


def _create(path: str) -> None:
    """The spool's file and table, in write-ahead-log mode (once; then a no-op)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=10000")  # another process creating it meanwhile
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(_CREATE)
    finally:
        conn.close()


def _open(
    path: str, *, check_same_thread: bool = True, attach: str | None = None
) -> sqlite3.Connection:
    conn = sqlite3.connect(  # transactions: ours (isolation_level=None)
        path, isolation_level=None, check_same_thread=check_same_thread
    )
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
    return conn


def _insert_all(conn: sqlite3.Connection, params: list[tuple[object, ...]]) -> Stored:
    """Insert each row, and the keys of those that were new (a row count of 1: a key already
    spooled counts 0). Not ``RETURNING``: its result rows cost each ack more than they tell."""
    stored: Stored = set()
    for values in params:
        if conn.execute(_INSERT, values).rowcount == 1:
            stored.add((str(values[0]), str(values[1])))  # platform, delivery_id: _COLUMNS
    conn.execute("COMMIT")
    return stored


def _patiently(step: Callable[[], object]) -> None:
    """Run ``step`` (which takes a write lock), asking again every ``LOCK_POLL`` seconds while
    another connection holds the lock, for up to ``LOCK_PATIENCE`` seconds."""
    give_up = time.monotonic() + LOCK_PATIENCE
    while True:
        try:
            step()
            return
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
