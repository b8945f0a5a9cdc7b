"""The LoGo Chat adapter: webhook in, REST out, ``Outbound`` rendered as numbered text.

LoGo Chat's bot API is not publicly documented, so everything that depends on its wire format
lives in this one module (the constants and the three small models below) and is described
here. When the vendor's documentation is in hand, adjust this module and its tests
(``tests/fakes/logo_server.py`` is the far end of the wire); nothing else in the bot knows.

Assumed wire format
===================

Settings: ``LOGO_BASE_URL`` (REST base, e.g. ``https://logo.example.lg.jp/api/v1``),
``LOGO_BOT_TOKEN`` (bearer token), ``LOGO_WEBHOOK_SECRET`` (shared secret for the webhook),
``LOGO_MAX_TEXT_CHARS`` (longest text sent in one message, default 10000), ``HTTPS_PROXY``.

In — ``POST /logo/events`` (JSON)::

    {"event_id": "ev-123", "type": "message",
     "user": {"id": "u-42", "is_bot": false},
     "room": {"id": "r-9", "type": "direct"},          # or "group"
     "text": "相談したい", "thread_id": null,
     "attachments": [{"name": "memo.pdf", "url": "https://…", "content_type": "application/pdf"}],
     "timestamp": "2026-11-16T10:00:00+09:00"}

Ids may be strings or numbers. Headers::

    X-LoGo-Timestamp: <UNIX seconds>
    X-LoGo-Signature: v1=<hex HMAC-SHA256(LOGO_WEBHOOK_SECRET, "<timestamp>." + raw body)>

(several comma-separated ``v1=`` values are accepted, for secret rotation).

Answers: 401 for a missing or wrong signature or a timestamp more than 5 minutes away from now;
400 for a body that is not a JSON object or a ``message`` event missing its ids; 200
``{"ok": true}`` for a verified ``message`` event once it is stored in the inbox, which is
processed after the acknowledgement (one person's messages in the order they arrived); 200
``{"ok": true, "ignored": …}`` for other event types and for messages written by bots
(``user.is_bot``, so the bot never answers itself). Redeliveries and replays of the same
``event_id`` are answered 200 and handled once (the dispatcher claims the id in the database).
Replies are posted to the room the message came from (in its thread, if any). Group rooms are
assumed to deliver only messages addressed to the bot, with the bot's own mention already
removed from ``text``.

Out — REST calls to ``LOGO_BASE_URL`` with ``Authorization: Bearer <LOGO_BOT_TOKEN>``:

- ``POST {base}/messages`` JSON ``{"room_id": …, "text": …, "thread_id": …}`` — or ``"user_id"``
  instead of ``"room_id"`` for a direct message to a person (LoGo opens the DM room);
  ``thread_id`` only when posting into a thread of a room (never with ``user_id``).
- ``POST {base}/files`` multipart: ``room_id`` or ``user_id``, optional ``thread_id``, optional
  ``text`` (the message the file belongs to; sent with the first file so a message and its file
  arrive as one post) and ``file`` (UTF-8 filename, as browsers send it, and content type).

Any 2xx is success. 429 with ``Retry-After: <seconds>``, 5xx, other 4xx, timeouts and network
errors all raise ``DeliveryError``; the outbox retries (honouring ``Retry-After``), so nothing is
lost. The API is assumed to have no idempotency key: a call LoGo Chat took but whose answer was
lost (a timeout, a crash in between) is posted again by the retry — at most the replies in flight
at such a moment show twice.

Text rendering: the message text, then ``label: value`` lines for fields, then choices as
``1. label`` lines (the user answers with the number; the core maps it back). Mention syntax in
any text (``@all``, ``@here``, ``@name``, ``<@U123>``, ``<!channel>``) is defused with a
zero-width space after ``@``/``<`` so a user's words are never echoed as a live mention; e-mail
addresses are left alone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Any, Literal

import aiohttp
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.adapters.http_body import read_body
from bot.app import Services
from bot.core.catalog import t
from bot.core.config import Settings
from bot.core.errors import CliError
from bot.core.messages import FileOut, FileRef, Inbound, Outbound
from bot.core.notifier import DeliveryError
from bot.workers import InboxBusy, InboxRunner, Reply, receive, settle
from store.db import Session
from store.models import InboxItem, OutboxMessage

log = logging.getLogger("dxbot.logo")

# --- the wire format (the things to adjust once the vendor's documentation is in hand) --------

PLATFORM = "logo"
EVENTS_PATH = "/logo/events"
MESSAGE_EVENT = "message"
TIMESTAMP_HEADER = "X-LoGo-Timestamp"
SIGNATURE_HEADER = "X-LoGo-Signature"
SIGNATURE_VERSION = "v1"
MAX_CLOCK_SKEW_SECONDS = 5 * 60
MESSAGES_PATH = "/messages"
FILES_PATH = "/files"
# A slow call holds one task for at most this long; the message then waits in the outbox.
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=10, sock_connect=5)
WORKERS = 8  # events handled at once in the server without worker processes
ZWSP = "\u200b"


class LogoUser(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    # Lengths follow the store's columns, so an oversized id is refused at the door (400).
    id: str = Field(min_length=1, max_length=64)
    is_bot: bool = False


class LogoRoom(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    id: str = Field(min_length=1, max_length=120)
    type: Literal["direct", "group"] = "direct"


class LogoAttachment(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(default="file", max_length=255)
    url: str = Field(default="", max_length=2000)
    content_type: str = Field(default="application/octet-stream", max_length=255)


class LogoEvent(BaseModel):
    """A ``message`` webhook event, validated; anything else about it is ignored."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    event_id: str = Field(min_length=1, max_length=200)
    type: str
    user: LogoUser
    room: LogoRoom
    text: str | None = None  # null when a message is only attachments
    thread_id: str | None = Field(default=None, max_length=120)
    attachments: list[LogoAttachment] = Field(default_factory=list, max_length=50)
    timestamp: str | None = None

    def to_inbound(self, received_at: dt.datetime) -> Inbound:
        return Inbound(
            platform=PLATFORM,
            event_id=self.event_id,
            user_id=self.user.id,
            text=self.text or "",
            channel=self.room.id,
            thread=self.thread_id or None,
            is_direct=self.room.type == "direct",
            files=tuple(
                FileRef(name=a.name, url=a.url, content_type=a.content_type)
                for a in self.attachments
            ),
            received_at=received_at,
        )


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The ``X-LoGo-Signature`` value for a body sent at ``timestamp``."""
    digest = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={digest.hexdigest()}"


def verify(secret: bytes, timestamp: str | None, sig: str | None, body: bytes, now: float) -> bool:
    """True when the request is fresh and signed with the shared secret.

    Freshness bounds how long a captured request can be replayed; a replay inside the window
    carries an event id the dispatcher has already claimed, so it changes nothing.
    """
    if not timestamp or not sig or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, given.strip()) for given in sig.split(","))


# --- rendering ---------------------------------------------------------------------------------

# An @ that starts a word (not inside an e-mail address), or < opening <@…>/<!…>/<#…> markup.
_MENTION = re.compile(r"(?<![A-Za-z0-9._%+\-])([@＠])|(<)(?=[@!#＠])")


def defuse_mentions(text: str) -> str:
    """Keep every character visible but break mention syntax with a zero-width space."""
    return _MENTION.sub(lambda m: (m.group(1) or m.group(2)) + ZWSP, text)


def render_text(message: Outbound, limit: int) -> str:
    """Outbound as plain text: fields as ``label: value`` lines, choices numbered from 1."""
    lines = [message.text] if message.text else []
    lines.extend(f"{label}: {value}" for label, value in message.fields)
    if message.form is not None:
        lines.append(f"[{message.form.title}]")
        lines.extend(f"- {f.label}" for f in message.form.fields)
    lines.extend(f"{i}. {c.label}" for i, c in enumerate(message.choices, start=1))
    return _fit(defuse_mentions("\n".join(lines)), limit)


def _fit(text: str, limit: int) -> str:
    """Cut a text the platform would refuse, saying so, rather than let it fail for ever."""
    if len(text) <= limit:
        return text
    note = "\n" + t("logo_text_truncated")
    return text[: max(limit - len(note), 0)] + note


# --- sending -----------------------------------------------------------------------------------


def _address(target_kind: str, target: str) -> dict[str, str]:
    """Outbox targets: a person by user id (LoGo opens the DM) or a room by room id."""
    return {"user_id": target} if target_kind == "user" else {"room_id": target}


def _filename(name: str) -> str:
    """A file name safe inside a multipart header: no path, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in base if c.isprintable()) or "file"


def _retry_after(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


async def _delivery_error(path: str, resp: aiohttp.ClientResponse) -> DeliveryError:
    """A refused call as DeliveryError: the status and the API's error code, never the text."""
    code = ""
    with contextlib.suppress(Exception):
        body = await resp.json(content_type=None)
        if isinstance(body, dict):
            code = str(body.get("error") or body.get("code") or "")[:80]
    retry_after = _retry_after(resp.headers.get("Retry-After")) if resp.status == 429 else None
    return DeliveryError(f"logo {resp.status} on {path} {code}".strip(), retry_after=retry_after)


class LogoSender:
    """Delivers replies and outbox messages through LoGo Chat's REST API.

    Without ``start()`` each ``send`` opens and closes its own HTTP session: senders are made in
    several places (the server, the scheduler, ``dxbot remind``) that have no shutdown hook, and
    a help desk's volume does not need connection reuse. The web app starts a shared session.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        proxy: str | None = None,
        max_text_chars: int = 10_000,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.proxy = proxy or None
        self.max_text_chars = max_text_chars
        self._headers = {"Authorization": f"Bearer {token}"}
        self._shared: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> LogoSender:
        if not settings.logo_base_url or settings.logo_bot_token is None:
            raise CliError("Set LOGO_BASE_URL and LOGO_BOT_TOKEN to send through LoGo Chat.")
        return cls(
            settings.logo_base_url,
            settings.logo_bot_token.get_secret_value(),
            proxy=settings.https_proxy,
            max_text_chars=settings.logo_max_text_chars,
        )

    async def start(self) -> None:
        if self._shared is None:
            self._shared = self._new_session()

    async def close(self) -> None:
        if self._shared is not None:
            await self._shared.close()
            self._shared = None

    async def __aenter__(self) -> LogoSender:
        await self.start()
        return self

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.close()

    @staticmethod
    def _new_session() -> aiohttp.ClientSession:
        # trust_env: HTTPS_PROXY/NO_PROXY from the environment when no proxy setting is given.
        return aiohttp.ClientSession(timeout=HTTP_TIMEOUT, trust_env=True)

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[aiohttp.ClientSession]:
        if self._shared is not None:
            yield self._shared
            return
        async with self._new_session() as session:
            yield session

    async def send(self, target_kind: str, target: str, message: Outbound) -> None:
        """One Outbound: a text message, or its files with the text on the first of them."""
        address = _address(target_kind, target)
        text = render_text(message, self.max_text_chars)
        # A thread belongs to a room; a message to a person by user id opens their DM afresh.
        thread = message.thread if target_kind != "user" else None
        async with self._session() as http:
            if not message.files:
                if text.strip():
                    await self._post_message(http, address, text, thread)
                return
            for i, f in enumerate(message.files):
                await self._post_file(http, address, f, text if i == 0 else "", thread)

    async def _post_message(
        self,
        http: aiohttp.ClientSession,
        address: dict[str, str],
        text: str,
        thread: str | None,
    ) -> None:
        payload: dict[str, str] = {**address, "text": text}
        if thread:
            payload["thread_id"] = thread
        await self._call(http, MESSAGES_PATH, json=payload)

    async def _post_file(
        self,
        http: aiohttp.ClientSession,
        address: dict[str, str],
        f: FileOut,
        text: str,
        thread: str | None,
    ) -> None:
        # UTF-8 file names as browsers send them: percent-encoding (aiohttp's default) would show
        # Japanese names as "%E5%AE…" on a server that does not decode them.
        form = aiohttp.FormData(quote_fields=False)
        for key, value in address.items():
            form.add_field(key, value)
        if thread:
            form.add_field("thread_id", thread)
        if text.strip():
            form.add_field("text", text)
        form.add_field("file", f.content, filename=_filename(f.name), content_type=f.content_type)
        await self._call(http, FILES_PATH, data=form)

    async def _call(self, http: aiohttp.ClientSession, path: str, **kw: Any) -> None:
        try:
            async with http.post(
                self.base_url + path, headers=self._headers, proxy=self.proxy, **kw
            ) as resp:
                if resp.status >= 300:
                    raise await _delivery_error(path, resp)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise DeliveryError(f"logo {path} unreachable: {type(exc).__name__}") from exc


# --- receiving ---------------------------------------------------------------------------------


def _reply(status: int, **body: Any) -> web.Response:
    return web.json_response(body, status=status)


class LogoAdapter:
    """Verifies webhooks, stores them in the inbox and acknowledges them; ``handle_item`` turns
    a stored one into an Inbound for the dispatcher and queues the replies; no business rule
    lives here."""

    platform = PLATFORM

    def __init__(
        self, services: Services, sender: LogoSender | None = None, *, inline: bool = True
    ) -> None:
        secret = services.settings.logo_webhook_secret
        if secret is None or not secret.get_secret_value():
            # An unverified webhook would let anyone act as any officer: refuse to start.
            raise CliError("Set LOGO_WEBHOOK_SECRET to receive LoGo Chat webhooks.")
        self.services = services
        self.sender = sender or LogoSender.from_settings(services.settings)
        self._secret = secret.get_secret_value().encode()
        # Without worker processes this process answers what it stores, a few at a time; the
        # inbox's claim keeps one person's messages in order.
        self.runner = InboxRunner(services, self, tasks=WORKERS) if inline else None

    async def drain(self) -> None:
        """Wait until every acknowledged event has been handled (tests, shutdown)."""
        if self.runner is not None:
            await self.runner.drain()

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.stop()
        await self.sender.close()

    async def events(self, request: web.Request) -> web.Response:
        """``POST /logo/events``: verify, validate, store, acknowledge; the work runs after."""
        body = await read_body(request, log)
        if isinstance(body, web.Response):
            return body
        now = self.services.clock.now().timestamp()
        headers = request.headers
        if not verify(
            self._secret, headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER), body, now
        ):
            log.warning("logo webhook refused: bad signature or stale timestamp")
            return _reply(401, ok=False, error="invalid signature")
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            log.info("logo webhook refused: malformed JSON")
            return _reply(400, ok=False, error="malformed JSON")
        if not isinstance(payload, dict):
            return _reply(400, ok=False, error="malformed JSON")
        if payload.get("type") != MESSAGE_EVENT:
            log.info("logo event type %.40r ignored", payload.get("type"))
            return _reply(200, ok=True, ignored="event type")
        try:
            event = LogoEvent.model_validate(payload)
        except ValidationError:
            return _reply(400, ok=False, error="invalid message event")
        if event.user.is_bot:
            return _reply(200, ok=True, ignored="bot message")
        # Stored before the 200: what LoGo Chat hears acknowledged survives any crash; what
        # could not be stored in time is answered 503, and LoGo Chat sends it again.
        try:
            await self._store(event)
        except InboxBusy:
            return web.Response(status=503, headers={"Retry-After": "1"})
        if self.runner is not None:
            self.runner.start()
            self.runner.wake()
        return _reply(200, ok=True)

    async def handle_item(self, item: InboxItem) -> None:
        """Answer one stored event; the row is settled in the handling's transaction."""
        try:
            event = LogoEvent.model_validate_json(item.body)
        except ValidationError:
            log.exception("inbox %s: unreadable logo event set aside", item.id)
            async with self.services.db.transaction() as s:
                await settle(s, item, (), self.services.clock.now())
            return
        inbound = event.to_inbound(item.received_at)
        queued: list[OutboxMessage] = []
        deliverer = self.services.deliverer(self.sender, PLATFORM)

        async def settle_replies(s: Session, replies: list[Outbound]) -> None:
            stored = [
                Reply(
                    "channel",
                    inbound.channel,
                    r.model_copy(update={"thread": r.thread or inbound.thread, "form": None}),
                )
                for r in replies
            ]
            now = self.services.clock.now()
            queued.extend(await settle(s, item, stored, now, deliverer.lease))

        watch = deliverer.watch()
        await self.services.dispatcher.handle(inbound, settle_replies)
        await deliverer.deliver_handled(queued, watch)

    async def handle_event(self, payload: LogoEvent | Mapping[str, Any]) -> None:
        """Dispatch one message event and post its replies where it was written (a caller
        holding an event rather than a stored row: it is stored, then handled)."""
        event = payload if isinstance(payload, LogoEvent) else LogoEvent.model_validate(payload)
        if event.user.is_bot:
            return
        await self._store(event)
        await self.drain()

    async def _store(self, event: LogoEvent) -> None:
        """Into the inbox, under LoGo Chat's event id (a redelivery is recognised there)."""
        await receive(
            self.services,
            platform=PLATFORM,
            delivery_id=event.event_id,
            person=event.user.id,
            kind=MESSAGE_EVENT,
            body=event.model_dump_json(),
        )

    async def deliver_outbox(self) -> None:
        """Send what is due now rather than at the next tick."""
        await self.services.deliverer(self.sender, PLATFORM).deliver_due()


LOGO_ADAPTER = web.AppKey("logo_adapter", LogoAdapter)


def add_routes(app: web.Application, services: Services, *, inline: bool = True) -> None:
    """Mount ``POST /logo/events`` on the shared aiohttp app (``GET /healthz`` is the server's);
    ``inline``: this process also answers what it stores (no worker processes)."""
    adapter = LogoAdapter(services, inline=inline)
    app[LOGO_ADAPTER] = adapter
    app.router.add_post(EVENTS_PATH, adapter.events)

    async def on_startup(_app: web.Application) -> None:
        await adapter.sender.start()
        if adapter.runner is not None:
            adapter.runner.start()  # the backlog a previous run left, at once

    async def on_shutdown(_app: web.Application) -> None:
        await adapter.close()  # what is unfinished stays in the inbox for the next start

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
