"""The Slack adapter: slack-bolt ``AsyncApp`` in, Block Kit out. It only translates.

In: events (``message.im``), slash commands (/consult /status /report /deck /dx), interactivity
(buttons, selects, modal submissions) and ``app_home_opened``. Every request is acknowledged at
once (``process_before_response=True``) and handed on as it came, a ``SlackDelivery`` — to tasks
in this process, or to worker processes under `dxbot serve` (bot/workers.py) — where it becomes
an ``Inbound`` for the dispatcher. So Slack's 3-second limit holds even when the LLM or a deck
is slow, and the ack path does no more than Bolt's own checks. One person's deliveries always go
to the same worker, so their messages are handled in order.

Out: ``Outbound`` rendered as Block Kit (bot/adapters/slack_blocks.py: buttons, or a select
when there are many choices; label/value fields; modals for forms), files with
``files_upload_v2``, App Home re-published after each change that affects its owner (Slack never
refreshes it by itself).

In HTTP mode every request is verified with the signing secret; without one the adapter refuses
to be built (``SigningSecretMissing``), because Bolt would otherwise verify against an empty key
and accept forged requests. Socket Mode needs no signing secret (Slack's own authenticated
WebSocket carries the events), and neither do the worker processes, which receive no requests.

Duplicates (Slack's retries with ``X-Slack-Retry-Num``, the same ``event_id``) are absorbed by
the dispatcher, which claims each event id in the database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import uuid
import zlib
from collections.abc import Awaitable, Callable
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body
from slack_bolt.request.payload_utils import to_action, to_event, to_view
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack_blocks import escape, form_values, plain_text, render_blocks, render_modal
from bot.app import Services
from bot.core.config import Settings
from bot.core.errors import CliError
from bot.core.messages import FileOut, FileRef, Inbound, Outbound
from bot.core.notifier import DeliveryError, queue_failed_reply

log = logging.getLogger("dxbot.slack")

PLATFORM = "slack"
COMMANDS = re.compile(r"^/(consult|status|report|deck|dx)$")
WORKERS = 4


# --- sending -----------------------------------------------------------------------------------


def make_client(settings: Settings) -> AsyncWebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        proxy=settings.https_proxy,
        # Rate limits and server errors are retried by the outbox, durably and without holding
        # the delivery loop; only a dropped connection is retried here at once.
        retry_handlers=[AsyncConnectionErrorRetryHandler()],
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
        if target_kind != "user":
            return target
        if target not in self._dm:
            resp = await self.client.conversations_open(users=target)
            self._dm[target] = resp["channel"]["id"]
        return self._dm[target]

    async def send(self, target_kind: str, target: str, message: Outbound) -> None:
        try:
            channel = await self.channel_for(target_kind, target)
            await self.post(channel, message)
        except SlackApiError as exc:
            raise _delivery_error(exc) from exc
        if target_kind == "user" and self.on_user_message is not None:
            await self.on_user_message(target)

    async def post(
        self, channel: str, message: Outbound, *, thread: str | None = None, user: str | None = None
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
            await self.client.chat_postMessage(
                channel=channel,
                text=escape(message.text)[:3000],
                blocks=render_blocks(message),
                thread_ts=thread,
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
    """What an ack hands on: Slack's request as it came, which listener took it, whose it is and
    when it arrived. Turning it into an ``Inbound`` waits until the work runs (``to_job``), off
    the ack path: building and serialising the models there cost a third of what Bolt itself
    spends on a request (bench/bench_ack.py). A plain tuple, so that it crosses to a worker
    process as cheaply as it can; ``Inbound``, a pydantic model, is the checked boundary.

    ``body`` is the raw HTTP body, or the parsed payload under Socket Mode (which has none).
    """

    listener: Listener
    user_id: str
    body: str | dict[str, Any]
    received_at: dt.datetime

    def shard(self, n: int) -> int:
        """The worker for this delivery: always the same one for the same person (stable hash),
        so one person's messages are handled in order."""
        return zlib.crc32(self.user_id.encode()) % n


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
    """Builds the Bolt app whose listeners acknowledge Slack's requests and hand them on."""

    def __init__(
        self,
        services: Services,
        client: AsyncWebClient | None = None,
        *,
        handoff: Callable[[SlackDelivery], None] | None = None,
        receives_http: bool = True,
    ) -> None:
        """``receives_http``: Slack's requests arrive over HTTP (``POST /slack/events``), so
        they must be verified and a signing secret is required. False under Socket Mode and in
        the worker processes, which take no requests from the network."""
        settings = services.settings
        secret = signing_secret(settings)
        if receives_http and secret is None:
            raise SigningSecretMissing()
        self.receives_http = receives_http
        self.services = services
        self.client = client or make_client(settings)
        self.sender = SlackSender(self.client, on_user_message=self.publish_home)
        self.handoff = handoff
        self.tasks: set[asyncio.Task[None]] = set()
        self.queues: list[asyncio.Queue[SlackDelivery]] = [asyncio.Queue() for _ in range(WORKERS)]
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
            logger=_bolt_logger(),
        )
        self._register()

    # Work runs after the ack. With a handoff (`dxbot serve`), deliveries go to worker
    # processes, so the work never shares a CPU with the acks; otherwise to a few tasks of this
    # process, each fed by its own queue so one person's deliveries run in order. Tests and
    # shutdown wait for the queues with drain().
    def submit(self, delivery: SlackDelivery) -> None:
        if self.handoff is not None:
            self.handoff(delivery)
            return
        if not self.tasks:
            for q in self.queues:
                task = asyncio.ensure_future(self._worker(q))
                self.tasks.add(task)
        self.queues[delivery.shard(len(self.queues))].put_nowait(delivery)

    async def _worker(self, queue: asyncio.Queue[SlackDelivery]) -> None:
        while True:
            delivery = await queue.get()
            try:
                await self.run(delivery)
            except Exception:
                log.exception("slack job failed")
            finally:
                queue.task_done()

    async def run(self, delivery: SlackDelivery) -> None:
        job = to_job(delivery)
        if job is None:
            return
        if job.kind == "home":
            await self.publish_home(job.user_id)
        elif job.inbound is not None:
            await self._dispatch(
                job.inbound,
                channel=job.channel,
                thread=job.thread,
                reply_to=job.reply_to,
                trigger_id=job.trigger_id,
            )

    async def drain(self) -> None:
        for q in self.queues:
            await q.join()

    async def close(self) -> None:
        await self.drain()
        for task in self.tasks:
            task.cancel()
        self.tasks.clear()

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
        """A listener that acknowledges at once and hands the request on, untranslated."""
        clock = self.services.clock

        async def ack_and_hand_on(
            ack: Callable[..., Awaitable[None]],
            request: AsyncBoltRequest,
            context: AsyncBoltContext,
        ) -> None:
            await ack()
            body = request.raw_body or request.body
            delivery = SlackDelivery(listener, context.user_id or "", body, clock.now())
            asyncio.get_running_loop().call_soon(self.submit, delivery)

        return ack_and_hand_on

    async def _on_other_event(self, ack: Callable[..., Awaitable[None]]) -> None:
        await ack()

    async def _dispatch(
        self,
        inbound: Inbound,
        *,
        channel: str | None = None,
        thread: str | None = None,
        reply_to: str | None = None,
        trigger_id: str | None = None,
    ) -> None:
        try:
            replies = await self.services.dispatcher.handle(inbound)
            for reply in replies:
                await self._reply(
                    inbound,
                    reply,
                    channel=channel,
                    thread=thread,
                    reply_to=reply_to,
                    trigger_id=trigger_id,
                )
            await self.deliver_outbox()
        except Exception:
            log.exception("slack handling failed")

    async def _reply(
        self,
        inbound: Inbound,
        reply: Outbound,
        *,
        channel: str | None,
        thread: str | None,
        reply_to: str | None,
        trigger_id: str | None,
    ) -> None:
        try:
            if reply.form is not None and trigger_id:
                await self.client.views_open(trigger_id=trigger_id, view=render_modal(reply.form))
                return  # the modal is the answer; its text is only for text platforms
            target = channel or await self.sender.channel_for("user", reply_to or inbound.user_id)
            await self.sender.post(target, reply, thread=thread, user=inbound.user_id)
        except SlackApiError as exc:
            log.warning("slack reply failed (%s); queued for retry", exc.response.get("error"))
            kind, target = (
                ("channel", channel) if channel else ("user", reply_to or inbound.user_id)
            )
            await queue_failed_reply(
                self.services.db,
                self.services.clock,
                target_kind=kind,
                target=target,
                platform=PLATFORM,
                message=reply.model_copy(update={"thread": thread, "form": None}),
            )

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
            for r in replies:
                blocks.extend(render_blocks(r.model_copy(update={"choices": ()})))
            await self.client.views_publish(
                user_id=user_id, view={"type": "home", "blocks": blocks[:100]}
            )
        except SlackApiError as exc:
            log.warning("views.publish failed: %s", exc.response.get("error"))
