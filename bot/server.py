"""The HTTP server: one aiohttp app with a route per chat platform and ``GET /healthz``.

``dxbot serve --adapter slack`` mounts Bolt on ``POST /slack/events`` (events, slash commands and
interactivity); ``--socket-mode`` connects out to Slack instead, for networks that cannot expose
a public URL (honouring HTTPS_PROXY). ``--adapter logo`` mounts ``POST /logo/events``. The
scheduler (reminders, outbox delivery, conversation expiry) runs in the same process.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import signal
from typing import TYPE_CHECKING, Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.adapters.http_body import MAX_BODY, read_body, refuse
from bot.app import Services, build_services, ensure_program, ensure_schema
from bot.core.config import Settings
from bot.core.errors import CliError
from bot.core.notifier import Sender
from bot.workers import (
    InboxBusy,
    freeze_startup_heap,
    inbox_writer,
    keep_session,
    serve_clock,
)

if TYPE_CHECKING:  # imported where used: LoGo and the CLI need not load Bolt
    from bot.adapters.slack import SlackAdapter

log = logging.getLogger("dxbot.server")

SHUTDOWN_GRACE = 1.0  # seconds open requests get at SIGTERM (the whole stop stays under 10 s)


def healthz_route(services: Services) -> web.RouteDef:
    async def healthz(_request: web.Request) -> web.Response:
        try:
            await services.db.check()
        except Exception:
            return web.json_response({"ok": False, "database": "unreachable"}, status=503)
        return web.json_response({"ok": True, "program": services.profile.id})

    return web.get("/healthz", healthz)


def slack_route(adapter: SlackAdapter, secret: str) -> web.RouteDef:
    verifier = SignatureVerifier(secret)
    unhandled: set[str] = set()

    async def events(request: web.Request) -> web.Response:
        # The raw bytes are read (bounded in size and time) and their signature checked before
        # anything parses them: an unsigned body never reaches a JSON or form parser. This is
        # the only check: the adapter's Bolt app does not verify again (bot/adapters/slack.py).
        raw = await read_body(request, log)
        if isinstance(raw, web.Response):
            return raw
        headers = request.headers
        if not verifier.is_valid(
            raw, headers.get("X-Slack-Request-Timestamp"), headers.get("X-Slack-Signature")
        ):
            return refuse(log, 401, "invalid signature", logging.WARNING)
        # Slack sends JSON (events) or a form (commands; interactivity with a JSON payload).
        # Bolt parses the body once, here; what it cannot parse, or parses to nothing, is 400.
        if request.content_type not in ("application/json", "application/x-www-form-urlencoded"):
            return refuse(log, 400, "malformed body")
        try:
            bolt_request = await to_bolt_request(request)
        except (ValueError, TypeError, AttributeError, RecursionError):
            return refuse(log, 400, "malformed body")
        body = bolt_request.body
        if not isinstance(body, dict) or not body:
            return refuse(log, 400, "malformed body")
        if request.content_type != "application/json" and not FORM_KEYS & body.keys():
            # a form that is neither a command, a payload nor an SSL check
            return refuse(log, 400, "malformed body")
        response = await adapter.app.async_dispatch(bolt_request)
        if response.status == 404:
            # A delivery no listener takes (app_rate_limited, view_closed, a shortcut of
            # another callback): acknowledged, or Slack would report errors and retry it.
            kind = _delivery_kind(body)
            if kind not in unhandled:
                unhandled.add(kind)
                log.info("slack delivery %s not handled; acknowledged", kind)
            return web.Response(status=200)
        return await to_aiohttp_response(response)

    return web.post("/slack/events", events)


def _delivery_kind(body: dict[str, Any]) -> str:
    """A short name for a delivery, for the log: its type, and the event's type within."""
    kind = str(body.get("type") or body.get("command") or "unknown")[:40]
    event = body.get("event")
    if isinstance(event, dict) and event.get("type"):
        kind += f"/{str(event['type'])[:40]}"
    return kind


async def _listener_error(error: Exception) -> BoltResponse | None:
    """A delivery the inbox could not store in time is answered 503 (Slack sends it again);
    any other listener failure stays Bolt's 500, logged with its traceback."""
    if isinstance(error, InboxBusy):
        return BoltResponse(status=503, body="", headers={"Retry-After": "1"})
    log.error("slack listener failed", exc_info=error)
    return None


# A command, interactivity ("payload", already decoded by Bolt: "type"), or Slack's SSL check.
FORM_KEYS = frozenset({"command", "type", "ssl_check"})


def build_web_app(
    services: Services,
    adapter_name: str,
    *,
    inline: bool = True,
    socket_mode: bool = False,
) -> tuple[web.Application, Sender, SlackAdapter | None]:
    """The aiohttp app for one adapter. Deliveries are stored in the inbox before they are
    acknowledged; ``inline``: this process also answers them (else worker processes do).
    Under Socket Mode without a signing secret, ``POST /slack/events`` is not mounted at all:
    nothing could verify what arrived there."""
    # No app-wide middleware: aiohttp would wrap every ack in it (each route answers its own
    # 503 when the inbox cannot store a delivery in time).
    app = web.Application(client_max_size=MAX_BODY)
    routes = [healthz_route(services)]
    adapter: SlackAdapter | None
    if adapter_name == "slack":
        from bot.adapters.slack import SlackAdapter, signing_secret

        adapter = SlackAdapter(services, inline=inline, receives_http=not socket_mode)
        adapter.app.error(_listener_error)
        secret = signing_secret(services.settings)
        if secret is not None:
            routes.append(slack_route(adapter, secret))
        sender: Sender = adapter.sender
    else:
        from bot.adapters import logo

        logo.add_routes(app, services, inline=inline)
        adapter = None
        sender = logo.LogoSender.from_settings(services.settings)
    app.add_routes(routes)
    from bot.web import mount

    mount(app, services)  # the read-only web view under /web/ (issue 18)
    return app, sender, adapter


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM, for a server to wait on before shutting down. Event
    loops without signal support (Windows's) raise NotImplementedError: there Ctrl-C still
    ends the process through KeyboardInterrupt, so the handler is simply not installed."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def serve(
    settings: Settings,
    *,
    adapter: str,
    host: str,
    port: int,
    socket_mode: bool,
    workers: int = 1,
    stop: asyncio.Event | None = None,
) -> int:
    """Serve until SIGINT/SIGTERM (or until ``stop`` is set, when the caller passes one and so
    owns the shutdown: no signal handlers are installed then)."""
    from bot.runtime import start_scheduler

    if adapter == "slack":
        from bot.adapters.slack import SigningSecretMissing, signing_secret

        if settings.slack_bot_token is None:
            raise CliError(
                "Set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN with "
                "--socket-mode) to serve Slack."
            )
        if signing_secret(settings) is None and not socket_mode:
            raise SigningSecretMissing()
    if socket_mode and settings.slack_app_token is None:
        raise CliError("--socket-mode needs SLACK_APP_TOKEN (an xapp- app-level token).")
    if adapter == "logo" and not settings.logo_base_url:
        raise CliError(
            "Set LOGO_BASE_URL, LOGO_BOT_TOKEN and LOGO_WEBHOOK_SECRET to serve LoGo Chat."
        )
    services = build_services(settings, clock=serve_clock(settings))
    pool = None
    try:
        await ensure_schema(services.db, auto=False)
        await ensure_program(services, demo=False)
        if workers > 0:
            from bot.workers import WorkerPool

            pool = WorkerPool(settings, workers, adapter)
            pool.supervise(asyncio.get_running_loop())
        app, sender, slack_adapter = build_web_app(
            services, adapter, inline=pool is None, socket_mode=socket_mode
        )
        inbox_writer(services)  # on SQLite, moves what a previous run left in the acks' spool
        if slack_adapter is not None:  # one HTTP session for the outbox's Web API calls
            from bot.adapters.slack import CLIENT_TIMEOUT

            close_session = keep_session(slack_adapter.client, CLIENT_TIMEOUT)
        scheduler = start_scheduler(services, sender)
        # The reminder pass also runs at once: a restart catches up on what fell due meanwhile
        # (idempotent, so several replicas starting together send each ping once).
        scheduler.modify_job("remind", next_run_time=dt.datetime.now(dt.UTC))
        if stop is None:
            stop = stop_on_signals()
        # A request still open at shutdown gets this long; what it stored stays in the inbox.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE)
        await runner.setup()
        freeze_startup_heap()
        await web.TCPSite(runner, host, port).start()
        if slack_adapter is not None and slack_adapter.runner is not None:
            slack_adapter.runner.start()  # the backlog a previous run left, at once
        log.info("serving %s on %s:%s", adapter, host, port)
        socket_handler = None
        if socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            assert settings.slack_app_token is not None and slack_adapter is not None
            socket_handler = AsyncSocketModeHandler(
                slack_adapter.app,
                settings.slack_app_token.get_secret_value(),
                proxy=settings.https_proxy,
            )
            # slack_bolt leaves these two coroutines unannotated.
            await socket_handler.connect_async()  # type: ignore[no-untyped-call]  # unannotated in Bolt
        await stop.wait()
        log.info("stopping")
        scheduler.shutdown(wait=False)
        if socket_handler is not None:
            await socket_handler.close_async()  # type: ignore[no-untyped-call]  # unannotated in Bolt
        if slack_adapter is not None:
            await slack_adapter.close()
            await close_session()
        await runner.cleanup()
    finally:
        gc.unfreeze()  # a caller that goes on (a test calling serve in its own process)
        if pool is not None:
            await asyncio.to_thread(pool.close)
        await services.db.dispose()
    return 0
