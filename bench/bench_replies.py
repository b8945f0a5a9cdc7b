"""Replies per second after a burst, and the delivery time of a 10,000-ping reminder pass.

1. `dxbot serve --adapter slack` (``--workers N``) on a fresh SQLite file, with the fake Slack
   Web API (tests/fakes/slack_server.py) in this process: a burst of ``--events`` signed
   ``message.im`` events (``/dx help`` from 100 staff members), 32 at a time; the time from the
   first request to the last reply recorded at the fake gives replies per second (acks included).
2. The outbox deliverer alone (bot/core/notifier.py), in this process, against the fake Slack
   in a process of its own: ``--pings`` messages to 100 people queued, then ``deliver_due()``
   timed — the delivery half of a reminder pass that found that many pings due.

    .venv/bin/python -m bench.bench_replies [--events 10000] [--pings 10000] [--workers 1]
        [--worker-nice 19]   # the workers in the normal class at this nice, not the idle class
        [--postgres]   # both on a fresh database on DXBOT_BENCH_PG_URL's server

Goal (issue 16): 1,000 replies per second on two cores; the report says what limits it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.common import create_database, drop_database, machine
from tests.fakes.slack_server import FakeSlack, dm_event, signed_headers

SECRET = "bench-secret"
TOKEN = "xoxb-test-token"
PEOPLE = 100


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _prepare(db_url: str) -> None:
    from store import users
    from store.db import Database
    from store.migrate import upgrade
    from store.profiles import load_profile
    from store.seed import seed_program

    db = Database(db_url)
    try:
        await upgrade(db.engine)
        async with db.transaction() as s:
            import datetime as dt

            now = dt.datetime.now(dt.UTC)
            await seed_program(s, load_profile("saitama-2026"), now)
            for p in range(PEOPLE):
                await users.add(s, platform="slack", platform_id=f"UB{p}", role="staff", now=now)
    finally:
        await db.dispose()


async def burst(events: int, workers: int, postgres: bool, nice: int | None) -> None:
    fake = FakeSlack()
    await fake.start()
    with tempfile.TemporaryDirectory() as tmp:
        if postgres:
            db_url = await create_database("dxbot_bench_replies")
        else:
            db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await _prepare(db_url)
        port = _port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DXBOT_"))}
        env.update(
            DATABASE_URL=db_url,
            DXBOT_PROGRAM="saitama-2026",
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=fake.api_url,
            DXBOT_LOG_LEVEL="WARNING",
            DXBOT_WORKER_IDLE=str(nice is None).lower(),
            DXBOT_WORKER_NICE=str(nice or 0),
        )
        dxbot = str(Path(sys.executable).with_name("dxbot"))
        proc = await asyncio.create_subprocess_exec(
            dxbot, "serve", "--adapter", "slack", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), env=env, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            await _until_up(port)
            bodies = []
            for n in range(events):
                body = json.dumps(dm_event(f"UB{n % PEOPLE}", "/dx help", f"EvB{n}"))
                bodies.append((body.encode(), signed_headers(SECRET, body)))
            gate = asyncio.Semaphore(32)
            started = time.monotonic()
            async with aiohttp.ClientSession() as http:

                async def one(body: bytes, headers: dict[str, str]) -> None:
                    async with (
                        gate,
                        http.post(
                            f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers
                        ) as resp,
                    ):
                        assert resp.status == 200

                await asyncio.gather(*(one(b, h) for b, h in bodies))
            acked = time.monotonic() - started
            await fake.wait_for("chat.postMessage", events, limit=3600)
            took = time.monotonic() - started
        finally:
            proc.terminate()
            await proc.wait()
            await fake.stop()
            if postgres:
                await drop_database(db_url)
    print(
        f"burst of {events} on {'PostgreSQL' if postgres else 'SQLite'} with {workers} "
        f"worker(s) {'in the idle class' if nice is None else f'at nice {nice}'}: "
        f"acked in {acked:.1f} s "
        f"({events / acked:.0f}/s); all answered in {took:.1f} s ({events / took:.0f} replies/s)"
    )


async def _until_up(port: int) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("dxbot serve did not start")


async def pings(count: int, postgres: bool) -> None:
    """The outbox delivery of ``count`` pings to 100 people, against the fake Slack in a process
    of its own (as Slack is not in ours)."""
    import datetime as dt

    from bot.adapters.slack import CLIENT_TIMEOUT, SlackSender, make_client
    from bot.core.config import Settings
    from bot.core.messages import Outbound
    from bot.core.notifier import OutboxDeliverer
    from bot.workers import keep_session
    from reminders.clock import SystemClock
    from store import outbox
    from store.db import Database

    port = _port()
    fake = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.ack_server", "slack", str(port),
        cwd=Path(__file__).resolve().parent.parent, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert fake.stdout is not None
    await fake.stdout.readline()  # ready
    with tempfile.TemporaryDirectory() as tmp:
        if postgres:
            db_url = await create_database("dxbot_bench_pings")
        else:
            db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'pings.db'}"
        try:
            await _prepare(db_url)
            db = Database(db_url)
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None,
                DATABASE_URL=db_url,
                SLACK_BOT_TOKEN=TOKEN,
                SLACK_API_URL=f"http://127.0.0.1:{port}/api/",
            )
            now = dt.datetime.now(dt.UTC)
            async with db.transaction() as s:
                for n in range(count):
                    await outbox.enqueue(
                        s,
                        target_kind="user",
                        target=f"UB{n % PEOPLE}",
                        platform="slack",
                        payload=Outbound(text=f"ping {n}").to_payload(),
                        now=now,
                    )
            client = make_client(settings)
            close_session = keep_session(client, CLIENT_TIMEOUT)  # as `dxbot serve` does
            deliverer = OutboxDeliverer(db, SlackSender(client), SystemClock(), "slack")
            started = time.monotonic()
            report = await deliverer.deliver_due()
            took = time.monotonic() - started
            await close_session()
            await db.dispose()
        finally:
            fake.terminate()
            await fake.wait()
            if postgres:
                await drop_database(db_url)
    print(
        f"reminder delivery of {count} pings on {'PostgreSQL' if postgres else 'SQLite'}: "
        f"{report.delivered} delivered in {took:.1f} s ({report.delivered / took:.0f}/s)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--pings", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--postgres", action="store_true", help="on PostgreSQL (both parts)")
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=None,
        help="DXBOT_WORKER_IDLE=false and this DXBOT_WORKER_NICE (default: the idle class)",
    )
    args = parser.parse_args()
    print(machine())
    await burst(args.events, args.workers, args.postgres, args.worker_nice)
    await pings(args.pings, args.postgres)


if __name__ == "__main__":
    asyncio.run(main())
