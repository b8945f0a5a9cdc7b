"""The inbox: a stored delivery is leased by one claimer at a time, a lease left by a dead
process is taken over when it runs out, and one person's deliveries are handed out in order —
on SQLite and on PostgreSQL, with concurrent claimers on separate connections."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.exc import OperationalError

from bot.adapters.logo import signature
from bot.app import Services, build_services
from bot.core.config import Settings
from bot.server import build_web_app
from bot.workers import (
    FAILING_PAUSE_MAX,
    InboxBusy,
    InboxRunner,
    inbox_writer,
    receive,
    worker_services,
)
from reminders.clock import FixedClock
from store import ack_spool, inbox
from store.db import Database
from store.migrate import upgrade
from tests.conftest import DEFAULT_NOW
from tests.fakes.slack_server import FakeSlack, dm_event, signed_headers

LEASE = dt.timedelta(seconds=60)


async def _add(db: Database, person: str, n: int) -> bool:
    async with db.transaction() as s:
        return await inbox.add(
            s,
            platform="slack",
            delivery_id=f"Ev{n}",
            person=person,
            kind="message",
            body=f'{{"n": {n}}}',
            now=DEFAULT_NOW,
        )


async def _claim(db: Database, now: dt.datetime = DEFAULT_NOW) -> tuple[int, str, int] | None:
    async with db.transaction() as s:
        item = await inbox.claim(s, now, LEASE, "slack")
        return None if item is None else (item.id, item.person, item.attempts)


async def _finish(db: Database, item_id: int) -> None:
    async with db.transaction() as s:
        await inbox.finish(s, item_id, DEFAULT_NOW)


async def test_a_retried_delivery_is_stored_once(db: Database) -> None:
    assert await _add(db, "U1", 1)
    assert not await _add(db, "U1", 1)  # Slack's retry of the same event_id
    async with db.transaction() as s:
        assert await inbox.unfinished(s) == 1


async def test_one_row_is_taken_by_one_of_two_concurrent_claimers(db_url: str) -> None:
    first, second = Database(db_url), Database(db_url)
    try:
        await _add(first, "U1", 1)
        got = await asyncio.gather(_claim(first), _claim(second))
        assert sorted(g is not None for g in got) == [False, True]
    finally:
        await first.dispose()
        await second.dispose()


async def test_concurrent_claimers_take_every_row_once_and_each_person_in_order(
    db_url: str,
) -> None:
    """Six claimers on their own connections drain 60 rows of 6 people: every row handled
    once, each person's rows in the order they arrived, never two of one person at once."""
    people = [f"U{p}" for p in range(6)]
    dbs = [Database(db_url) for _ in range(6)]
    try:
        for n in range(60):
            await _add(dbs[0], people[n % 6], n)
        handled: list[tuple[int, str]] = []
        in_hand: set[str] = set()
        overlaps: list[str] = []

        async def claimer(db: Database) -> None:
            idle = 0
            while idle < 20:
                got = await _claim(db)
                if got is None:
                    idle += 1
                    await asyncio.sleep(0.005)
                    continue
                idle = 0
                item_id, person, _attempts = got
                if person in in_hand:
                    overlaps.append(person)
                in_hand.add(person)
                await asyncio.sleep(0.002)  # the handling
                handled.append((item_id, person))
                in_hand.discard(person)
                await _finish(db, item_id)

        await asyncio.gather(*(claimer(db) for db in dbs))
        ids = [i for i, _ in handled]
        assert sorted(ids) == sorted(set(ids)) and len(ids) == 60
        for person in people:
            mine = [i for i, p in handled if p == person]
            assert mine == sorted(mine) and len(mine) == 10
        assert overlaps == []
    finally:
        for db in dbs:
            await db.dispose()


async def test_a_lease_left_by_a_dead_worker_is_taken_over_when_it_runs_out(
    db: Database,
) -> None:
    await _add(db, "U1", 1)
    first = await _claim(db)
    assert first is not None and first[2] == 1
    # The claimer dies without finishing: nobody else takes the row while its lease holds.
    assert await _claim(db, DEFAULT_NOW + dt.timedelta(seconds=59)) is None
    again = await _claim(db, DEFAULT_NOW + dt.timedelta(seconds=61))
    assert again is not None and (again[0], again[2]) == (first[0], 2)


async def test_a_person_s_later_message_waits_for_the_earlier_one(db: Database) -> None:
    await _add(db, "UA", 1)
    await _add(db, "UA", 2)
    await _add(db, "UB", 3)
    a1 = await _claim(db)
    b = await _claim(db)
    assert a1 is not None and b is not None
    assert (a1[1], b[1]) == ("UA", "UB")  # UA's second row waits behind the first, in hand
    assert await _claim(db) is None
    await _finish(db, a1[0])
    a2 = await _claim(db)
    assert a2 is not None and a2[1] == "UA" and a2[0] > a1[0]
    # A lease that ran out keeps the order too: the expired first row comes back first.
    await _add(db, "UC", 4)
    await _add(db, "UC", 5)
    c1 = await _claim(db)
    assert c1 is not None and c1[1] == "UC"
    later = DEFAULT_NOW + dt.timedelta(seconds=61)
    taken = [await _claim(db, later) for _ in range(3)]
    assert [t[0] for t in taken if t is not None and t[1] == "UC"] == [c1[0]]


async def test_handled_rows_are_forgotten_after_a_week(db: Database) -> None:
    await _add(db, "U1", 1)
    got = await _claim(db)
    assert got is not None
    await _finish(db, got[0])
    async with db.transaction() as s:
        assert await inbox.purge(s, DEFAULT_NOW - dt.timedelta(days=7)) == 0
        assert await inbox.purge(s, DEFAULT_NOW + dt.timedelta(seconds=1)) == 1


# --- the acknowledgement's group commit -------------------------------------------------------


def _services(db_url: str, clock: FixedClock | None, **extra: str) -> Services:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, DATABASE_URL=db_url, DXBOT_PROGRAM="saitama-2026", **extra
    )
    return build_services(settings, clock=clock)


async def test_concurrent_deliveries_are_stored_in_one_commit_and_retries_recognised(
    db_url: str, clock: FixedClock
) -> None:
    """Fifty deliveries arriving together (and two copies of one of them) are stored by one
    transaction, the second copy told so; a later retry reaches the inbox only once."""
    services = _services(db_url, clock)
    try:

        async def deliver(n: int) -> bool:
            return await receive(
                services,
                platform="slack",
                delivery_id=f"Ev{n}",
                person=f"U{n % 5}",
                kind="message",
                body=f'{{"n": {n}}}',
            )

        firsts = await asyncio.gather(*(deliver(n) for n in (*range(50), 7)))
        assert firsts == [True] * 50 + [False]
        assert inbox_writer(services).batches == 1
        # A retry later (recognised at once while the first is still in the acks' spool, on
        # SQLite, else when it is moved) and a new delivery: the inbox holds each once.
        assert (await asyncio.gather(deliver(3), deliver(50)))[1] is True
        await inbox_writer(services).settled()
        async with services.db.transaction() as s:
            items = await inbox.all_items(s)
        assert sorted(i.delivery_id for i in items) == sorted(f"Ev{n}" for n in range(51))
    finally:
        await services.db.dispose()


async def test_deliveries_whose_listeners_run_a_turn_apart_share_one_commit(
    db_url: str, clock: FixedClock
) -> None:
    """A server reads requests in one turn of its loop and runs their listeners two turns
    later: deliveries from two consecutive reads (listeners a turn apart) are stored by one
    commit, and a third, arriving after that commit, by the next."""
    services = _services(db_url, clock)
    try:
        first = asyncio.ensure_future(_deliver(services, 0))
        await asyncio.sleep(0)  # one turn: the first listener has run
        second = asyncio.ensure_future(_deliver(services, 1))
        assert await asyncio.gather(first, second) == [True, True]
        assert inbox_writer(services).batches == 1
        assert await _deliver(services, 2) is True
        assert (inbox_writer(services).batches, inbox_writer(services).stored) == (2, 3)
    finally:
        await services.db.dispose()


def _inbox_ids(db_url: str) -> list[str]:
    """The inbox table's delivery ids, read as another process would."""
    with contextlib.closing(sqlite3.connect(db_url.split(":///", 1)[1])) as conn:
        return [d for (d,) in conn.execute("SELECT delivery_id FROM inbox ORDER BY id")]


def _deliver(services: Services, n: int, person: str = "U1") -> Awaitable[bool]:
    return receive(
        services, platform="slack", delivery_id=f"Ev{n}", person=person, kind="message", body="{}"
    )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_an_ack_is_stored_while_a_handling_holds_the_database_and_reaches_the_inbox_after(
    db_url: str,
) -> None:
    """On a SQLite file an ack does not wait for a worker's handling holding the database's
    write lock: it is stored in the acks' spool at once, and reaches the inbox (in order, each
    once) as soon as the handling commits."""
    services = _services(db_url, None)
    handling = sqlite3.connect(db_url.split(":///", 1)[1], isolation_level=None)
    try:
        handling.execute("BEGIN IMMEDIATE")
        acks = [await asyncio.wait_for(_deliver(services, n), 0.5) for n in range(3)]
        assert acks == [True, True, True]
        assert _inbox_ids(db_url) == []
        handling.execute("COMMIT")
        await inbox_writer(services).settled()
        assert _inbox_ids(db_url) == ["Ev0", "Ev1", "Ev2"]
    finally:
        handling.close()
        await services.db.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_an_ack_waits_for_the_spool_held_elsewhere_without_blocking_the_loop(
    db_url: str,
) -> None:
    """An ack finding the spool's lock held (another process's ack) waits for it — neither
    failing at once nor blocking the event loop — and past its deadline is answered 503."""
    services = _services(db_url, None)
    try:
        assert await _deliver(services, 0)  # the spool exists; its lock is free
        other = sqlite3.connect(db_url.split(":///", 1)[1] + ack_spool.SUFFIX)
        other.isolation_level = None
        other.execute("BEGIN IMMEDIATE")
        waiting = asyncio.create_task(_deliver(services, 1))
        ticks = 0
        for _ in range(10):  # the loop keeps turning while the ack waits
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 10 and not waiting.done()
        other.execute("COMMIT")
        assert await asyncio.wait_for(waiting, 2.0) is True

        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(InboxBusy):
            await inbox_writer(services).add(
                inbox.Delivery("slack", "Ev2", "U1", "message", "{}"), deadline=0.1
            )
        other.execute("ROLLBACK")
        other.close()
        await inbox_writer(services).settled()
        assert _inbox_ids(db_url)[:2] == ["Ev0", "Ev1"]
    finally:
        await services.db.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_an_ack_whose_first_look_at_the_spool_finds_it_locked_waits_for_it(
    db_url: str,
) -> None:
    """The ack process's first write finds the spool's file locked outright (as while another
    connection sets up or removes its write-ahead log): the ack waits for the lock — no 503 —
    and is stored once the file is free."""
    services = _services(db_url, None)
    path = db_url.split(":///", 1)[1] + ack_spool.SUFFIX
    inbox_writer(services)  # the spool's file is there; the ack has not opened it yet
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("PRAGMA locking_mode=EXCLUSIVE")
        other.execute("BEGIN EXCLUSIVE")
        other.execute("COMMIT")  # the exclusive lock stays with ``other`` until it closes
        waiting = asyncio.create_task(_deliver(services, 0))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        other.close()
        assert await asyncio.wait_for(waiting, 2.0) is True
        await inbox_writer(services).settled()
        assert _inbox_ids(db_url) == ["Ev0"]
    finally:
        other.close()
        await services.db.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_what_a_killed_server_left_in_the_spool_reaches_the_inbox_once_at_restart(
    db_url: str,
) -> None:
    """Acks left in the spool by a server killed before they were moved — one of them
    already in the inbox too (a move killed between its commit and its delete) — reach the
    inbox when the restarted server's rows are moved, each once and in their order."""
    first = _services(db_url, None)
    try:
        await _deliver(first, 0)
        await inbox_writer(first).settled()
    finally:
        await first.db.dispose()
    spool = sqlite3.connect(db_url.split(":///", 1)[1] + ack_spool.SUFFIX, isolation_level=None)
    with contextlib.closing(spool):
        for n in (0, 1, 2):  # Ev0: moved, not yet deleted; Ev1, Ev2: not moved
            spool.execute(
                "INSERT INTO spool (platform, delivery_id, person, kind, body, received_at) "
                "VALUES ('slack', ?, 'U1', 'message', '{}', '2026-06-01 10:00:00.000000')",
                (f"Ev{n}",),
            )
    assert _inbox_ids(db_url) == ["Ev0"]
    restarted = _services(db_url, None)
    try:
        await inbox_writer(restarted).settled()
        assert _inbox_ids(db_url) == ["Ev0", "Ev1", "Ev2"]
        async with restarted.db.transaction() as s:
            moved = {i.delivery_id: i for i in await inbox.all_items(s)}
        assert moved["Ev1"].received_at == dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
        assert moved["Ev1"].attempts == 0 and moved["Ev1"].done_at is None
    finally:
        await restarted.db.dispose()


def _spool_rows(db_url: str) -> list[tuple[int, str]]:
    spool = sqlite3.connect(db_url.split(":///", 1)[1] + ack_spool.SUFFIX)
    with contextlib.closing(spool):
        return list(spool.execute("SELECT id, delivery_id FROM spool ORDER BY id"))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_an_ack_given_a_used_id_again_survives_a_racing_movers_delete(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers move the spool at once. While the first is between its move and its
    delete, the second moves and deletes the same rows, and a new ack takes the emptied
    spool's first id again: the first worker's delete leaves that ack, and it reaches the
    inbox once, after the others."""
    services = _services(db_url, None)
    path = db_url.split(":///", 1)[1]
    first, second = ack_spool.SpoolMover(path), ack_spool.SpoolMover(path)
    real = ack_spool._patiently
    steps: list[str] = []

    def interleaved(step: Callable[[], object]) -> object:
        steps.append("step")
        if len(steps) == 3:  # after its connection and its move, the first mover's delete
            second._move()  # is next: the second moves first (its own steps count past 3)
            assert _spool_rows(db_url) == []
            asyncio.run_coroutine_threadsafe(_deliver(services, 2), loop).result(5)
            assert _spool_rows(db_url) == [(1, "Ev2")]  # the id Ev0 had
        return real(step)

    loop = asyncio.get_running_loop()
    try:
        assert [await _deliver(services, n) for n in (0, 1)] == [True, True]
        assert _spool_rows(db_url) == [(1, "Ev0"), (2, "Ev1")]
        monkeypatch.setattr(ack_spool, "_patiently", interleaved)
        assert await first.move() == 2
        monkeypatch.setattr(ack_spool, "_patiently", real)
        assert _spool_rows(db_url) == [(1, "Ev2")]
        assert await first.move() == 1
        assert _inbox_ids(db_url) == ["Ev0", "Ev1", "Ev2"]
        assert _spool_rows(db_url) == []
    finally:
        await first.close()
        await second.close()
        await services.db.dispose()


_EARLIER_SPOOL = (  # the spool's table as versions before 2026-12-04 created it
    "CREATE TABLE spool (id INTEGER PRIMARY KEY AUTOINCREMENT, platform TEXT NOT NULL, "
    "delivery_id TEXT NOT NULL, person TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL, "
    "received_at TEXT NOT NULL, UNIQUE (platform, delivery_id))"
)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_spool_of_the_earlier_shape_is_moved_then_rebuilt(db_url: str) -> None:
    """A spool file left by an earlier version, with acks in it: they reach the inbox, a retry
    spooled meanwhile once; the table is rebuilt in the new shape only once it is empty."""
    path = db_url.split(":///", 1)[1] + ack_spool.SUFFIX
    spool = sqlite3.connect(path, isolation_level=None)
    with contextlib.closing(spool):
        spool.execute("PRAGMA journal_mode=WAL")
        spool.execute(_EARLIER_SPOOL)
        spool.execute(
            "INSERT INTO spool (platform, delivery_id, person, kind, body, received_at) "
            "VALUES ('slack', 'Ev0', 'U1', 'message', '{}', '2026-06-01 10:00:00.000000')"
        )

    def shape() -> str:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            return str(
                conn.execute("SELECT sql FROM sqlite_master WHERE name = 'spool'").fetchone()[0]
            )

    first = _services(db_url, None)
    try:
        assert await _deliver(first, 1) is True
        assert await _deliver(first, 0) is True  # a retry of what the spool already holds
        assert "AUTOINCREMENT" in shape()  # it held rows: kept as it was
        await inbox_writer(first).settled()
        assert _inbox_ids(db_url) == ["Ev0", "Ev1"]
    finally:
        await first.db.dispose()
    restarted = _services(db_url, None)
    try:
        assert await _deliver(restarted, 2) is True
        assert "AUTOINCREMENT" not in shape() and "UNIQUE" not in shape()
        await inbox_writer(restarted).settled()
        assert _inbox_ids(db_url) == ["Ev0", "Ev1", "Ev2"]
    finally:
        await restarted.db.dispose()


class _Recorder:
    """The far end of a runner: what it was handed, in order."""

    platform = "slack"

    def __init__(self, services: Services) -> None:
        self.services = services
        self.handled: list[str] = []

    async def handle_item(self, item: inbox.InboxItem) -> None:
        self.handled.append(item.delivery_id)
        async with self.services.db.transaction() as s:
            await inbox.finish(s, item.id, self.services.clock.now())


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_worker_moves_the_acks_of_the_server_into_the_inbox_and_handles_them(
    db_url: str,
) -> None:
    """The server's process only acknowledges (its acks stay in the spool); a worker — another
    process's runner, which stored nothing itself — moves them into the inbox within a poll
    and handles each once, in order."""
    server = _services(db_url, None)
    worker = worker_services(server.settings)  # as a worker process builds them
    recorder = _Recorder(worker)
    runner = InboxRunner(worker, recorder, tasks=2)
    try:
        for n in range(5):
            assert await _deliver(server, n)
        await asyncio.sleep(0.2)
        assert _inbox_ids(db_url) == []  # the server moves nothing
        runner.start()
        for _ in range(100):
            if len(recorder.handled) == 5:
                break
            await asyncio.sleep(0.02)
        assert recorder.handled == [f"Ev{n}" for n in range(5)]
        assert _inbox_ids(db_url) == [f"Ev{n}" for n in range(5)]
        spool = sqlite3.connect(db_url.split(":///", 1)[1] + ack_spool.SUFFIX)
        with contextlib.closing(spool):
            assert spool.execute("SELECT count(*) FROM spool").fetchone() == (0,)
    finally:
        await runner.stop()
        await worker.db.dispose()
        await server.db.dispose()


async def test_a_runner_whose_database_fails_backs_off_logs_one_traceback_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """While every step fails (here: a database without its tables yet, as a database being
    restored is), the runner's loops try less and less often and log the first failure's
    traceback only, then a line at each doubling — not 20 tracebacks a second a loop; once
    the database answers, they handle what waits within the longest pause."""
    worker = _services(f"sqlite+aiosqlite:///{tmp_path / 'down.db'}", None)
    recorder = _Recorder(worker)
    runner = InboxRunner(worker, recorder, tasks=2)
    caplog.set_level(logging.INFO, logger="dxbot.workers")
    try:
        runner.start()
        await asyncio.sleep(2.0)
        failed = [
            r
            for r in caplog.records
            if r.name == "dxbot.workers" and r.getMessage().startswith("inbox step failed")
        ]
        assert [r.exc_info is not None for r in failed][:1] == [True]
        assert sum(r.exc_info is not None for r in failed) == 1
        assert 2 <= len(failed) <= 5, [r.getMessage() for r in failed]
        await upgrade(worker.db.engine)
        assert await _add(worker.db, "U1", 1)
        started = time.monotonic()
        while recorder.handled != ["Ev1"]:
            assert time.monotonic() - started < FAILING_PAUSE_MAX + 2
            await asyncio.sleep(0.05)
        assert "inbox steps succeed again after" in caplog.text
    finally:
        await runner.stop()
        await worker.db.dispose()


async def test_a_delivery_that_cannot_be_stored_is_answered_503_and_its_retry_200(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database refusing the write (locked past its timeout, gone) gives Slack and LoGo
    Chat a retryable 503 — never a 2xx for what is not stored — and their retry is stored."""
    fake = FakeSlack()
    await fake.start()
    services = _services(
        db_url,
        None,  # LoGo's signature carries a timestamp checked against the bot's clock
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET="inbox-secret",
        SLACK_API_URL=fake.api_url,
        LOGO_BASE_URL="http://127.0.0.1:9/api/v1",
        LOGO_BOT_TOKEN="t",
        LOGO_WEBHOOK_SECRET="inbox-logo-secret",
    )
    slack_app, _, _ = build_web_app(services, "slack", inline=False)
    logo_app, _, _ = build_web_app(services, "logo", inline=False)
    slack_client, logo_client = TestClient(TestServer(slack_app)), TestClient(TestServer(logo_app))
    await slack_client.start_server()
    await logo_client.start_server()
    slack_body = json.dumps(dm_event("U1", "/dx help", "EvBusy")).encode()
    logo_body = json.dumps(
        {
            "event_id": "ev-busy",
            "type": "message",
            "user": {"id": "L1"},
            "room": {"id": "dm-L1", "type": "direct"},
            "text": "/dx help",
        }
    ).encode()

    async def post_both() -> tuple[int, int, str | None]:
        ts = str(int(time.time()))
        slack = await slack_client.post(
            "/slack/events",
            data=slack_body,
            headers=signed_headers("inbox-secret", slack_body.decode()),
        )
        logo = await logo_client.post(
            "/logo/events",
            data=logo_body,
            headers={
                "X-LoGo-Timestamp": ts,
                "X-LoGo-Signature": signature(b"inbox-logo-secret", ts, logo_body),
                "Content-Type": "application/json",
            },
        )
        return slack.status, logo.status, slack.headers.get("Retry-After")

    async def locked(*_: object) -> list[bool]:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    try:
        with monkeypatch.context() as patch:
            patch.setattr(inbox.Appender, "add_now", lambda *_: None)  # not at once: it waits
            patch.setattr(inbox.Appender, "add_many", locked)
            assert await post_both() == (503, 503, "1")
        async with services.db.transaction() as s:
            assert await inbox.all_items(s) == []
        assert (await post_both())[:2] == (200, 200)
        await inbox_writer(services).settled()
        async with services.db.transaction() as s:
            stored = sorted(i.delivery_id for i in await inbox.all_items(s))
        assert stored == ["EvBusy", "ev-busy"]
    finally:
        await slack_client.close()
        await logo_client.close()
        await services.db.dispose()
        await fake.stop()
