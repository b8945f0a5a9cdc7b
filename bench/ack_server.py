"""A server for the ack benchmark, run in its own process: ``ours`` (dxbot's Slack route on a
seeded SQLite database, with a fake Slack Web API in the same process) or ``bare`` (a slack-bolt
AsyncApp whose listeners only ack, in the same fast mode)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult

SECRET = "bench-secret"
TOKEN = "xoxb-test-token"


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


async def our_app(tmp: Path) -> web.Application:
    from bot.app import build_services
    from bot.config import Settings
    from bot.server import build_web_app
    from store import users
    from store.migrate import upgrade
    from store.profiles import load_profile
    from store.seed import seed_program
    from tests.fakes.slack_server import FakeSlack

    fake = FakeSlack()
    await fake.start()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp}/bench.db",
        DXBOT_PROGRAM="saitama-2026",
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.api_url,
        DXBOT_LOG_LEVEL="WARNING",
    )
    services = build_services(settings)
    await upgrade(services.db.engine)
    async with services.db.transaction() as s:
        await seed_program(s, load_profile("saitama-2026"), services.clock.now(), demo=True)
        await users.add(
            s,
            platform="slack",
            platform_id="USTAFF",
            role="staff",
            now=services.clock.now(),
            name="佐藤",
        )
    app, _, _ = build_web_app(services, "slack")
    return app


async def main(kind: str, port: int) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        app = await (bare_app() if kind == "bare" else our_app(Path(tmp)))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
