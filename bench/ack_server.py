"""Servers for the ack benchmark, each run in its own process:

- ``bare``: a slack-bolt AsyncApp whose listeners only ack, in the same fast mode;
- ``ours``: dxbot's Slack route as `dxbot serve --adapter slack` runs it — the ack process plus
  one worker process that does the work — on a seeded SQLite database, or on the PostgreSQL
  database whose URL follows the worker count (bench/bench_ack.py ``--postgres``);
- ``fake``: the fake Slack Web API that ``ours`` answers through, in a process of its own so
  that the far end of the wire does not share a CPU with the server under test (at our workers'
  lower CPU priority); ``slack``: the same at normal priority (bench/bench_replies.py).

``ours`` prints ``ready DB_URL``: the benchmark counts the events handled in that database to
wait for the backlog of one measurement before it starts the next.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult

if TYPE_CHECKING:
    from bot.workers import WorkerPool

SECRET = "bench-secret"
TOKEN = "xoxb-test-token"
STAFF = 64


async def bare_app() -> web.Application:
    async def authorize(**_: object) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=None, team_id=None, bot_token=TOKEN)

    app = AsyncApp(signing_secret=SECRET, authorize=authorize, process_before_response=True)

    @app.command("/status")
    async def status(ack):  # type: ignore[no-untyped-def]
        await ack()

    @app.event("message")
    async def message(ack):  # type: ignore[no-untyped-def]
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    return web_app


async def our_app(
    db_url: str, api_url: str, workers: int
) -> tuple[web.Application, WorkerPool | None]:
    from bot.app import build_services
    from bot.core.config import Settings
    from bot.demo import seed_with_demo
    from bot.server import build_web_app
    from bot.workers import WorkerPool, freeze_startup_heap
    from store import users
    from store.migrate import upgrade
    from store.profiles import load_profile

    settings = Settings(
        _env_file=None,
        DATABASE_URL=db_url,
        DXBOT_PROGRAM="saitama-2026",
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api_url,
        DXBOT_LOG_LEVEL="WARNING",
    )
    services = build_services(settings)
    await upgrade(services.db.engine)
    async with services.db.transaction() as s:
        await seed_with_demo(s, load_profile("saitama-2026"), services.clock.now())
        for p in range(STAFF):  # many people: one person's messages are handled in turn
            await users.add(
                s,
                platform="slack",
                platform_id=f"USTAFF{p}",
                role="staff",
                now=services.clock.now(),
                name="佐藤",
            )
    pool = WorkerPool(settings, workers, "slack") if workers else None
    if pool is not None:
        pool.supervise(asyncio.get_running_loop())
    app, _, adapter = build_web_app(services, "slack", inline=pool is None)
    if adapter is not None and adapter.runner is not None:
        adapter.runner.start()
    freeze_startup_heap()  # as `dxbot serve` does before it serves
    return app, pool


async def main(kind: str, port: int, extra: list[str]) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    if kind in ("fake", "slack"):
        from bot.workers import yield_to_acks
        from tests.fakes.slack_server import FakeSlack

        if kind == "fake":
            # Slack's servers are not on our machine: the fake must not take CPU from the
            # server under test more than it has to: our workers' lower priority.
            yield_to_acks()
        fake = FakeSlack()
        await fake.start(port)
        print("ready", flush=True)
        await asyncio.Event().wait()
    with tempfile.TemporaryDirectory() as tmp:
        db_url = extra[2] if len(extra) > 2 else f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        pool = None
        if kind == "bare":
            app = await bare_app()
        else:
            app, pool = await our_app(db_url, extra[0], int(extra[1]))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        print(f"ready {db_url}", flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        if pool is not None:
            # the workers first: the benchmark drops a PostgreSQL database once this exits
            pool.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3:]))
