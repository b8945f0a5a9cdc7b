"""The Slack adapter: slack-bolt ``AsyncApp`` in, Block Kit out. It only translates.

In: events (``message.im``), slash commands (/consult /status /report /deck /dx), interactivity
(buttons, selects, modal submissions) and ``app_home_opened``. Every request is stored as it came
in the inbox (store/inbox.py) and only then acknowledged (``process_before_response=True``: the
answer goes back when the listener returns); a worker (bot/workers.py) later leases it, turns it
into an ``Inbound`` for the dispatcher, and settles it — replies into the outbox, the row marked
done — in the handling's transaction. So Slack's 3-second limit holds even when the LLM or a deck
is slow, and nothing acknowledged is lost when a process dies. One person's requests are handled
in order (the inbox hands out a person's oldest unfinished row only).

Out: ``Outbound`` rendered as Block Kit (bot/adapters/slack_blocks.py: buttons, or a select
when there are many choices; label/value fields; modals for forms), files with
``files_upload_v2``, App Home re-published after each change that affects its owner (Slack never
refreshes it by itself).

In HTTP mode every request is verified with the signing secret; without one the adapter refuses
to be built (``SigningSecretMissing``), because Bolt would otherwise verify against an empty key
and accept forged requests. Socket Mode needs no signing secret (Slack's own authenticated
WebSocket carries the events), and neither do the worker processes, which receive no requests.

Duplicates (Slack's retries with ``X-Slack-Retry-Num``, the same ``event_id``) are stored once
(the inbox is unique per event id) and handled once (the dispatcher claims each event id).
Replies leave through the outbox carrying their outbox id as message metadata; a retry first
looks for that metadata in the conversation, so a message Slack took but answered late is not
posted twice.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Literal, NamedTuple

import aiohttp
from pydantic import BaseModel
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body
from slack_bolt.request.payload_utils import to_action, to_event, to_view
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack_blocks import (
    escape,
    form_values,
    home_blocks,
    plain_text,
    render_blocks,
    render_modal,
)
from bot.app import Services
from bot.core.config import Settings
from bot.core.errors import CliError
from bot.core.messages import FileOut, FileRef, Inbound, Outbound
from bot.core.notifier import DeliveryError
from bot.workers import InboxRunner, Reply, receive, settle
from store.db import Session
from store.models import InboxItem, OutboxMessage

log = logging.getLogger("dxbot.slack")

PLATFORM = "slack"
COMMANDS = re.compile(r"^/(consult|status|report|deck|dx)$")
#: Ids for deliveries Slack gives none (commands, clicks): unique across processes and restarts
#: by this process's random prefix. Not a ``uuid4`` each: its ``os.urandom`` call cost every
#: command's ack ~8 µs, 3% of it (bench/bench_ack.py, py-spy).
_RUN = uuid.uuid4().hex
_SEQUENCE = itertools.count()
WORKERS = 4  # rows handled at once in the server process when it has no worker processes
CLIENT_TIMEOUT = 10  # seconds per Web API call; a slow call holds one task, then the outbox
METADATA_EVENT = "dxbot_outbox"  # message metadata naming the outbox row a message came from


# --- sending -----------------------------------------------------------------------------------


def make_client(settings: Settings) -> AsyncWebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        proxy=settings.https_proxy,
        timeout=CLIENT_TIMEOUT,
        # Every failure — rate limit, server error, timeout, dropped connection — is retried by
        # the outbox, durably, after looking for the earlier attempt (``send_keyed``); an
        # immediate retry here could post twice what Slack had taken but not yet answered.
        retry_handlers=[],
    )


def _delivery_error(exc: SlackApiError) -> DeliveryError:
    status = exc.response.status_code
    retry_after = None
    if status == 429:
        try:
            retry_after = float(exc.response.headers.get("Retry-After", "1"))
        except (TypeError, ValueError):
            retry_after = 1.0
    # A proxy or an outage can answer with HTML instead of Slack's JSON.
    data = exc.response.data
    error = data.get("error") if isinstance(data, dict) else None
    return DeliveryError(f"slack {status} {error or ''}".strip(), retry_after=retry_after)


class SlackSender:
    """Delivers outbox messages and replies through the Web API."""

    def __init__(
        self,
        client: AsyncWebClient,
        on_user_message: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.client = client
        self.on_user_message = on_user_message
        self._dm: dict[str, str] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackSender:
        return cls(make_client(settings))

    async def channel_for(self, target_kind: str, target: str) -> str:
        if target_kind not in ("user", "dm"):
            return target
        if target not in self._dm:
            resp = await self.client.conversations_open(users=target)
            self._dm[target] = resp["channel"]["id"]
        return self._dm[target]

    async def send(self, target_kind: str, target: str, message: Outbound) -> None:
        await self.send_keyed(target_kind, target, message, key="", retry=False)

    async def send_keyed(
        self, target_kind: str, target: str, message: Outbound, *, key: str, retry: bool
    ) -> None:
        """Deliver an outbox message. Targets: ``user`` (a person's DM; their App Home is
        refreshed after), ``dm`` (a reply in a person's DM), ``channel``, and ``ephemeral``
        (``channel|user``). The message carries ``key`` as metadata; on a retry, a message
        already carrying it in the conversation means the earlier attempt was posted, and
        nothing is posted again. Ephemeral messages and files carry no metadata and are not
        looked for (README: a late-accepted upload may show twice)."""
        user = None
        if target_kind == "ephemeral":
            target, _, user = target.partition("|")
        try:
            channel = await self.channel_for(target_kind, target)
            thread = message.thread
            if retry and key and await self._posted(channel, key, thread):
                log.info("outbox %s was posted by an earlier attempt; not posted again", key)
            else:
                await self.post(channel, message, user=user, key=key)
        except SlackApiError as exc:
            raise _delivery_error(exc) from exc
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            # No answer in CLIENT_TIMEOUT, or the connection dropped: Slack may or may not have
            # taken it; the outbox's retry looks for the metadata before posting again.
            raise DeliveryError(f"slack unreachable: {type(exc).__name__}") from exc
        if target_kind == "user" and self.on_user_message is not None:
            await self.on_user_message(target)

    async def _posted(self, channel: str, key: str, thread: str | None) -> bool:
        """Whether a message carrying ``key`` is in the conversation (or the thread)."""
        try:
            if thread:
                resp = await self.client.conversations_replies(
                    channel=channel, ts=thread, include_all_metadata=True, limit=200
                )
            else:
                resp = await self.client.conversations_history(
                    channel=channel, include_all_metadata=True, limit=200
                )
        except SlackApiError as exc:
            log.warning("could not look for an earlier attempt: %s", _delivery_error(exc))
            return False
        for found in resp.get("messages") or []:
            meta = found.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == METADATA_EVENT and payload.get("outbox_id") == key:
                return True
        return False

    async def post(
        self,
        channel: str,
        message: Outbound,
        *,
        thread: str | None = None,
        user: str | None = None,
        key: str = "",
    ) -> None:
        thread = message.thread or thread
        if message.files and not message.choices and not message.ephemeral:
            # One call shares the text and every file, so a failed upload leaves nothing posted
            # and the outbox's retry shows the person nothing twice.
            await self.upload(channel, message.files, thread, comment=plain_text(message))
            return
        if message.ephemeral and user and not channel.startswith("D"):
            await self.client.chat_postEphemeral(
                channel=channel,
                user=user,
                text=escape(message.text)[:3000],
                blocks=render_blocks(message),
            )
        else:
            metadata = (
                {"event_type": METADATA_EVENT, "event_payload": {"outbox_id": key}} if key else None
            )
            await self.client.chat_postMessage(
                channel=channel,
                text=escape(message.text)[:3000],
                blocks=render_blocks(message),
                thread_ts=thread,
                metadata=metadata,
            )
        if message.files:
            await self.upload(channel, message.files, thread)

    async def upload(
        self,
        channel: str,
        files: tuple[FileOut, ...],
        thread: str | None,
        comment: str | None = None,
    ) -> None:
        await self.client.files_upload_v2(
            channel=channel,
            file_uploads=[
                {"content": f.content, "filename": f.name, "title": f.title or f.name}
                for f in files
            ],
            initial_comment=comment,
            thread_ts=thread,
        )


# --- receiving ---------------------------------------------------------------------------------

Listener = Literal["command", "message", "action", "view", "home"]


class SlackDelivery(NamedTuple):
    """A stored request as the worker reads it back: which listener took it, whose it is, the
    body as Slack sent it and when it arrived. Turning it into an ``Inbound`` waits until the
    work runs (``to_job``), off the ack path: building and serialising the models there cost a
    third of what Bolt itself spends on a request (bench/bench_ack.py).

    ``body`` is the raw HTTP body, or the payload as JSON under Socket Mode (which has none).
    """

    listener: Listener
    user_id: str
    body: str | dict[str, Any]
    received_at: dt.datetime


class SlackJob(BaseModel):
    """A delivery translated: answer an Inbound, or re-publish a user's App Home."""

    kind: Literal["dispatch", "home"]
    user_id: str
    inbound: Inbound | None = None
    channel: str | None = None
    thread: str | None = None
    reply_to: str | None = None
    trigger_id: str | None = None

    @classmethod
    def answer(cls, inbound: Inbound, **where: str | None) -> SlackJob:
        """Answer ``inbound``; ``where`` says where the reply goes (channel, thread, reply_to)
        and the trigger_id that can open a modal."""
        return cls(kind="dispatch", user_id=inbound.user_id, inbound=inbound, **where)


def to_job(delivery: SlackDelivery) -> SlackJob | None:
    """Slack's payload as a job; None for what needs no answer (a bot's or a channel's message,
    an App Home tab other than Home)."""
    body = delivery.body if isinstance(delivery.body, dict) else parse_body(delivery.body, None)
    return _TRANSLATORS[delivery.listener](body, delivery.received_at)


def _command_job(body: dict[str, Any], at: dt.datetime) -> SlackJob:
    inbound = Inbound(
        platform=PLATFORM,
        event_id=f"cmd:{body.get('trigger_id') or body.get('command_ts') or body.get('text')}",
        user_id=body.get("user_id", ""),
        kind="command",
        command=body.get("command", ""),
        supports_forms=bool(body.get("trigger_id")),
        text=body.get("text", "") or "",
        channel=body.get("channel_id", ""),
        is_direct=str(body.get("channel_id", "")).startswith("D"),
        received_at=at,
    )
    return SlackJob.answer(inbound, reply_to=inbound.user_id, trigger_id=body.get("trigger_id"))


def _message_job(body: dict[str, Any], at: dt.datetime) -> SlackJob | None:
    event = to_event(body) or {}
    if (
        event.get("channel_type") != "im"
        or event.get("bot_id")
        or event.get("subtype") not in (None, "file_share")
    ):
        return None
    files = tuple(
        FileRef(
            name=f.get("name", "file"),
            url=f.get("url_private", ""),
            content_type=f.get("mimetype", "application/octet-stream"),
        )
        for f in event.get("files") or []
    )
    inbound = Inbound(
        platform=PLATFORM,
        event_id=body.get("event_id") or f"msg:{event.get('channel')}:{event.get('ts')}",
        user_id=event.get("user", ""),
        text=event.get("text", "") or "",
        channel=event.get("channel", ""),
        thread=event.get("thread_ts"),
        files=files,
        received_at=at,
    )
    return SlackJob.answer(inbound, channel=inbound.channel, thread=inbound.thread)


def _action_job(body: dict[str, Any], at: dt.datetime) -> SlackJob:
    action = to_action(body) or {}
    value = action.get("value")
    if value is None and action.get("selected_option"):
        value = action["selected_option"].get("value")
    user = body.get("user", {}).get("id", "")
    channel = (body.get("channel") or {}).get("id") or user
    message = body.get("message") or {}
    inbound = Inbound(
        platform=PLATFORM,
        event_id=f"act:{user}:{action.get('action_ts')}:{action.get('action_id')}",
        user_id=user,
        kind="action",
        action_id=str(action.get("action_id", "")).split("#", 1)[0],
        value=value or "",
        channel=channel,
        thread=message.get("thread_ts"),
        received_at=at,
    )
    return SlackJob.answer(
        inbound, channel=channel, thread=inbound.thread, trigger_id=body.get("trigger_id")
    )


def _view_job(body: dict[str, Any], at: dt.datetime) -> SlackJob:
    view = to_view(body) or {}
    user = body.get("user", {}).get("id", "")
    inbound = Inbound(
        platform=PLATFORM,
        event_id=f"view:{view.get('id')}:{view.get('hash')}",
        user_id=user,
        kind="form",
        action_id=view.get("callback_id", ""),
        form=form_values(view),
        value="",
        channel=user,
        received_at=at,
    )
    return SlackJob.answer(inbound, reply_to=user)


def _home_job(body: dict[str, Any], _at: dt.datetime) -> SlackJob | None:
    event = to_event(body) or {}
    if event.get("tab") not in (None, "home"):
        return None
    return SlackJob(kind="home", user_id=event.get("user", ""))


_TRANSLATORS: dict[str, Callable[[dict[str, Any], dt.datetime], SlackJob | None]] = {
    "command": _command_job,
    "message": _message_job,
    "action": _action_job,
    "view": _view_job,
    "home": _home_job,
}


class SigningSecretMissing(CliError):
    """HTTP mode without a signing secret: refused, since nothing could tell Slack's requests
    from forged ones."""

    def __init__(self) -> None:
        super().__init__(
            "SLACK_SIGNING_SECRET is not set, so requests to /slack/events could not be verified; "
            "set it to the Slack app's Signing Secret (Basic Information), or use --socket-mode "
            "with SLACK_APP_TOKEN."
        )


def signing_secret(settings: Settings) -> str | None:
    """The signing secret, or None when it is unset or blank (an empty ``SLACK_SIGNING_SECRET=``
    line, as in .env.example, must not become an empty HMAC key)."""
    if settings.slack_signing_secret is None:
        return None
    value = settings.slack_signing_secret.get_secret_value()
    return value if value.strip() else None


def _bolt_logger() -> logging.Logger:
    """Bolt's logger, with its level set on it: Bolt reads ``logger.level`` (not the effective
    level) to decide whether to format a debug line for every middleware of every request, and
    an unset level (0) made it do so — a tenth of the ack path's time (bench/bench_ack.py)."""
    logger = logging.getLogger("dxbot.slack.bolt")
    logger.setLevel(logger.getEffectiveLevel())
    return logger


class SlackAdapter:
    """Builds the Bolt app whose listeners store Slack's requests in the inbox and acknowledge
    them; ``handle_item`` answers a stored one (in a worker, or here with ``inline``)."""

    platform = PLATFORM

    def __init__(
        self,
        services: Services,
        client: AsyncWebClient | None = None,
        *,
        inline: bool = True,
        receives_http: bool = True,
    ) -> None:
        """``receives_http``: Slack's requests arrive over HTTP (``POST /slack/events``), so
        they must be verified and a signing secret is required. False under Socket Mode and in
        the worker processes, which take no requests from the network. ``inline``: this
        process also answers what it stores (tests, ``--workers 0``); else worker processes do.
        """
        settings = services.settings
        secret = signing_secret(settings)
        if receives_http and secret is None:
            raise SigningSecretMissing()
        self.receives_http = receives_http
        self.services = services
        self.client = client or make_client(settings)
        self.sender = SlackSender(self.client, on_user_message=self.publish_home)
        self.runner = InboxRunner(services, self, tasks=WORKERS) if inline else None
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""

        async def authorize(**_: Any) -> AuthorizeResult:
            # One workspace, one token: no auth.test round trip on each request.
            return AuthorizeResult(enterprise_id=None, team_id=None, bot_token=token)

        self.app = AsyncApp(
            client=self.client,
            # Never None: Bolt would fall back to the process environment behind our settings.
            signing_secret=secret or "",
            authorize=authorize,
            process_before_response=True,
            # The one door to this app, bot/server.py's route, checks the signature on the raw
            # bytes before anything is parsed; Bolt checking it again cost every ack a second
            # HMAC and header parse (~3% of the ack process's CPU, bench/bench_ack.py).
            request_verification_enabled=False,
            # Built-ins whose work this app never uses, each a step of every ack: the stored
            # body is read by the worker (``to_job``), which sets aside the bot's own messages
            # itself (``authorize`` names no bot user for Bolt to compare), and the listener
            # takes neither say/respond nor a custom function's token.
            ignoring_self_events_enabled=False,
            attaching_function_token_enabled=False,
            attaching_conversation_kwargs_enabled=False,
            logger=_bolt_logger(),
        )
        self._register()

    async def drain(self) -> None:
        """Wait until every stored request is answered (tests, shutdown of ``inline``)."""
        if self.runner is not None:
            await self.runner.drain()

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.stop()

    def _register(self) -> None:
        app = self.app
        app.command(COMMANDS)(self._acker("command"))
        app.event("message")(self._acker("message"))
        app.event("app_home_opened")(self._acker("home"))
        app.action(re.compile(".*"))(self._acker("action"))
        app.view(re.compile(".*"))(self._acker("view"))
        # Any other event is acknowledged and ignored: an unanswered event (Bolt's default 404)
        # makes Slack retry it, and too many failures make Slack disable the subscription.
        app.event(re.compile(".*"))(self._on_other_event)

    def _acker(self, listener: Listener) -> Callable[..., Awaitable[None]]:
        """A listener that stores the request as it came, then acknowledges it: Bolt answers
        only once the listener returns (``process_before_response``), so Slack hears 200 only
        for what is in the database. A failed write answers 500, and Slack sends it again."""
        services = self.services

        async def store_and_ack(
            ack: Callable[..., Awaitable[None]],
            request: AsyncBoltRequest,
            context: AsyncBoltContext,
        ) -> None:
            body = request.raw_body or json.dumps(request.body, ensure_ascii=False)
            event_id = request.body.get("event_id") if listener in ("message", "home") else None
            await receive(
                services,
                platform=PLATFORM,
                # Slack's retries of an event carry its event_id; commands and clicks are not
                # retried by Slack, and the dispatcher dedupes them by their own ids.
                delivery_id=str(event_id or f"{listener}:{_RUN}:{next(_SEQUENCE)}"),
                person=context.user_id or "",
                kind=listener,
                body=body,
            )
            await ack()
            if self.runner is not None:
                self.runner.start()
                self.runner.wake()

        return store_and_ack

    async def _on_other_event(self, ack: Callable[..., Awaitable[None]]) -> None:
        await ack()

    async def handle_item(self, item: InboxItem) -> None:
        """Answer one stored request; the row is settled in the handling's transaction."""
        clock = self.services.clock
        try:
            job = to_job(SlackDelivery(item.kind, item.person, item.body, item.received_at))  # type: ignore[arg-type]  # kind is a Listener when stored here
        except Exception:
            log.exception("inbox %s: unreadable slack delivery set aside", item.id)
            job = None
        if job is None or job.kind == "home" or job.inbound is None:
            async with self.services.db.transaction() as s:
                await settle(s, item, (), clock.now())
            if job is not None and job.kind == "home":
                await self.publish_home(job.user_id)
            return
        await self._dispatch(item, job, job.inbound)

    async def _dispatch(self, item: InboxItem, job: SlackJob, inbound: Inbound) -> None:
        modals: list[Outbound] = []
        queued: list[OutboxMessage] = []
        deliverer = self.services.deliverer(self.sender, PLATFORM)

        async def settle_replies(s: Session, replies: list[Outbound]) -> None:
            stored = []
            for reply in replies:
                if reply.form is not None and job.trigger_id:
                    modals.append(reply)  # opened at once below: a trigger lives 3 seconds
                else:
                    stored.append(self._reply_to(inbound, reply, job))
            now = self.services.clock.now()
            queued.extend(await settle(s, item, stored, now, deliverer.lease))

        watch = deliverer.watch()
        await self.services.dispatcher.handle(inbound, settle_replies)
        for modal in modals:
            assert modal.form is not None and job.trigger_id is not None
            try:
                await self.client.views_open(
                    trigger_id=job.trigger_id, view=render_modal(modal.form)
                )
            except Exception as exc:  # the person can press the button again
                log.warning("views.open failed: %s", exc)
        await deliverer.deliver_handled(queued, watch)

    @staticmethod
    def _reply_to(inbound: Inbound, reply: Outbound, job: SlackJob) -> Reply:
        """Where a reply goes: the conversation it answers (ephemeral where asked, outside a
        DM), else the person's DM; in the thread it was written in."""
        message = reply.model_copy(update={"thread": reply.thread or job.thread, "form": None})
        if job.channel:
            if reply.ephemeral and not job.channel.startswith("D"):
                return Reply("ephemeral", f"{job.channel}|{inbound.user_id}", message)
            return Reply("channel", job.channel, message)
        return Reply("dm", job.reply_to or inbound.user_id, message)

    async def deliver_outbox(self) -> None:
        await self.services.deliverer(self.sender, PLATFORM).deliver_due()

    async def publish_home(self, user_id: str) -> None:
        """Re-publish a user's App Home with their own status (Slack keeps the old one)."""
        if not user_id:
            return
        inbound = Inbound(
            platform=PLATFORM,
            event_id=f"home:{user_id}:{uuid.uuid4()}",
            user_id=user_id,
            kind="command",
            command="/status",
            received_at=self.services.clock.now(),
        )
        try:
            replies = await self.services.dispatcher.handle(inbound)
            blocks: list[dict[str, Any]] = []
            for r in replies:  # /status: what waits for whom first (bot/adapters/slack_blocks.py)
                blocks.extend(home_blocks(r.model_copy(update={"choices": ()})))
            await self.client.views_publish(
                user_id=user_id, view={"type": "home", "blocks": blocks[:100]}
            )
        except SlackApiError as exc:
            log.warning("views.publish failed: %s", _delivery_error(exc))
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.warning("views.publish failed: %s", type(exc).__name__)
