"""A worker's SQLite database runs each call on its event loop's thread (store/sqlite_inline.py):
what it writes is what the server reads, a unique clash is the same ``Conflict`` and undoes the
whole transaction, another process's lock is waited for rather than failed on, and no
connection thread is started."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import threading
import time

import pytest

from bot.core.config import Settings
from bot.workers import worker_services
from store import events, inbox, users
from store.db import Conflict, Database
from store.models import ProcessedEvent
from tests.conftest import DEFAULT_NOW

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _connection_threads() -> list[str]:
    """aiosqlite's connection threads (their target is ``_connection_worker_thread``)."""
    return [t.name for t in threading.enumerate() if "connection_worker" in t.name]


async def test_a_worker_s_writes_are_read_by_the_server_and_start_no_thread(db_url: str) -> None:
    settings = Settings(_env_file=None, DATABASE_URL=db_url, DXBOT_PROGRAM="saitama-2026")  # type: ignore[call-arg]
    worker, server = worker_services(settings), Database(db_url)
    before = _connection_threads()
    try:
        async with worker.db.transaction() as s:
            await users.add(s, platform="slack", platform_id="UW1", role="staff", now=DEFAULT_NOW)
            assert await events.claim(s, "slack", "Ev1", DEFAULT_NOW)
            assert not await events.claim(s, "slack", "Ev1", DEFAULT_NOW)  # a duplicate
        assert _connection_threads() == before
        async with server.transaction() as s:
            user = await users.get_by_platform_id(s, "slack", "UW1")
            assert user is not None and user.created_at == DEFAULT_NOW
            assert await events.seen(s, "slack", "Ev1")
    finally:
        await worker.db.dispose()
        await server.dispose()


async def test_a_unique_clash_is_a_conflict_and_undoes_the_whole_transaction(
    db_url: str,
) -> None:
    db = Database(db_url, inline=True)
    try:
        async with db.transaction() as s:
            assert await events.claim(s, "slack", "Ev1", DEFAULT_NOW)
        with pytest.raises(Conflict):
            async with db.transaction() as s:
                assert await events.claim(s, "slack", "Ev2", DEFAULT_NOW)
                # a second row under Ev1's key, as two deliveries racing for it would write
                s.add(ProcessedEvent(platform="slack", event_id="Ev1", received_at=DEFAULT_NOW))
        async with db.transaction() as s:
            assert not await events.seen(s, "slack", "Ev2")  # rolled back with the clash
            assert await events.seen(s, "slack", "Ev1")
    finally:
        await db.dispose()


async def test_a_write_waits_for_another_process_s_lock_and_then_succeeds(db_url: str) -> None:
    """Another process (here a plain connection on a thread) holds the write lock for 0.3 s:
    the worker's write waits for it and is not refused, and the worker's other tasks (a reply
    on its way out) go on meanwhile."""
    path = db_url.split(":///", 1)[1]
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        release.wait(5)
        conn.execute("COMMIT")
        conn.close()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    threading.Timer(0.3, release.set).start()
    db = Database(db_url, inline=True)
    ticks = 0

    async def other_task() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.ensure_future(other_task())
    try:
        started = time.monotonic()
        async with db.transaction() as s:
            stored = await inbox.add(
                s,
                platform="slack",
                delivery_id="Ev3",
                person="U1",
                kind="message",
                body="{}",
                now=DEFAULT_NOW,
            )
        assert stored and time.monotonic() - started >= 0.25
        assert ticks >= 10  # about 30 in the 0.3 s; none if the loop were held
        async with db.transaction() as s:
            item = await inbox.claim(s, DEFAULT_NOW, dt.timedelta(seconds=60), "slack")
            assert item is not None and item.delivery_id == "Ev3"
    finally:
        ticker.cancel()
        holder.join()
        await db.dispose()


async def test_a_statement_in_autocommit_runs_on_the_inline_connection(db_url: str) -> None:
    """SQLAlchemy sets an isolation level through the driver's call queue; the inline one runs
    the call at once (a VACUUM, which SQLite refuses inside a transaction, then succeeds)."""
    db = Database(db_url, inline=True)
    try:
        async with db.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.exec_driver_sql("VACUUM")
    finally:
        await db.dispose()
