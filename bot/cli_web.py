"""`dxbot web [--port N]` (the web view alone, for a first look: on the embedded default
database it migrates and seeds the demo program like `make run`) and `dxbot web link --as ID`
(a one-time sign-in link for an operator)."""

from __future__ import annotations

import argparse

from aiohttp import web

from bot.app import ensure_program
from bot.cli_common import cli_services
from bot.core.catalog import t
from bot.core.config import Settings
from bot.core.errors import CliError
from bot.server import stop_on_signals
from store import audit, users, web_auth


async def cmd_web_link(args: argparse.Namespace, settings: Settings) -> int:
    async with cli_services(settings, args, program_loaded=True) as services:
        now = services.clock.now()
        async with services.db.transaction() as s:
            found = await users.find_by_platform_id(s, args.as_user)
            if not found:
                raise CliError(f"No active user {args.as_user!r}; add one with `dxbot users add`.")
            if len(found) > 1:
                raise CliError(
                    f"{args.as_user!r} is a user on several platforms; remove the duplicates."
                )
            user = found[0]
            token = await web_auth.create_link(
                s, user_id=user.id, program_id=services.profile.id, now=now
            )
            await audit.record(
                s,
                at=now,
                actor="CLI",
                action="web_link_issued",
                object_type="user",
                object_id=str(user.id),
                program_id=services.profile.id,
            )
    minutes = int(web_auth.LINK_TTL.total_seconds() // 60)
    print(t("web_cli_link", lang="en", who=user.name or user.platform_id, minutes=minutes))
    print(settings.web_sign_in_url(token))
    return 0


async def cmd_web(args: argparse.Namespace, settings: Settings) -> int:
    from bot.web import web_app

    async with cli_services(settings, args) as services:
        await ensure_program(services, demo=True)
        root = web.Application()
        root.add_subapp("/web", web_app(services))

        async def home(_request: web.Request) -> web.Response:
            return web.Response(status=302, headers={"Location": "/web/"})

        root.router.add_get("/", home)
        runner = web.AppRunner(root, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, args.host, args.port).start()
        except OSError as exc:
            await runner.cleanup()
            raise CliError(f"Cannot listen on {args.host}:{args.port}: {exc.strerror}.") from exc
        print(
            t(
                "web_cli_serving",
                lang="en",
                host=args.host,
                port=args.port,
                program=services.profile.id,
            ),
            flush=True,
        )
        await stop_on_signals().wait()
        await runner.cleanup()
    return 0
