"""The Notifier port and the outbox deliverer.

Handlers call the Notifier; it only writes outbox rows in the handler's transaction, so a
notification exists if and only if the change that caused it was committed. The deliverer sends
rows through the adapter's Sender afterwards and retries failures with backoff: a delivery
failure loses nothing, and the lease in ``store.outbox`` keeps two deliverers from sending twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import weakref
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from bot.core.backoff import doubling
from bot.core.config import Settings
from bot.core.messages import Outbound
from reminders.calendar import BusinessCalendar
from reminders.clock import JST, Clock
from store import conversations, outbox
from store.db import Database, Session
from store.models import OutboxMessage, User

log = logging.getLogger("dxbot.outbox")

MAX_BACKOFF = dt.timedelta(hours=1)
PROACTIVE_MENU_TTL = dt.timedelta(days=7)


class DeliveryError(Exception):
    """A send failed; ``retry_after`` (seconds) when the platform said when to come back."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Sender(Protocol):
    """Implemented by each adapter: deliver one message to a user or a channel."""

    async def send(self, target_kind: str, target: str, message: Outbound) -> None: ...


@runtime_checkable
class KeyedSender(Protocol):
    """A Sender that can tell whether an earlier attempt of the same outbox message reached the
    platform (Slack: message metadata carrying the key), so a retry never posts it twice."""

    async def send_keyed(
        self, target_kind: str, target: str, message: Outbound, *, key: str, retry: bool
    ) -> None: ...


class Notifier:
    """Proactive messages, written to the outbox of the current unit of work."""

    def __init__(self, s: Session, clock: Clock, settings: Settings, platform: str) -> None:
        self.s = s
        self.clock = clock
        self.settings = settings
        self.platform = platform

    async def to_user(
        self,
        user: User,
        message: Outbound,
        *,
        case_id: int | None = None,
        dedupe_key: str | None = None,
        not_before: dt.datetime | None = None,
    ) -> bool:
        """``not_before``: a routine notice waits until then (the next office hours)."""
        if message.choices:
            await self._remember_menu(user, message)
        row = await outbox.enqueue(
            self.s,
            target_kind="user",
            target=user.platform_id,
            platform=user.platform,
            payload=message.to_payload(),
            now=self.clock.now(),
            case_id=case_id,
            dedupe_key=dedupe_key,
        )
        _hold(row, not_before)
        return row is not None

    async def _remember_menu(self, user: User, message: Outbound) -> None:
        """Numbered choices in a proactive message must work when typed back as "1" (LoGo
        Chat, console): keep them like a reply's menu, unless the person is mid-conversation."""
        from bot.core.conversation import CHOICES_KEY, MENU, stored_choices

        state = await conversations.get(self.s, user.platform, user.platform_id, "")
        if state is not None and state.flow != MENU and state.expires_at > self.clock.now():
            return
        await conversations.save(
            self.s,
            platform=user.platform,
            user_platform_id=user.platform_id,
            thread_key="",
            channel="",
            flow=MENU,
            step=message.action_id,
            data={CHOICES_KEY: stored_choices(message.choices)},
            expires_at=self.clock.now() + PROACTIVE_MENU_TTL,
            now=self.clock.now(),
        )

    async def to_channel(
        self,
        channel: str,
        message: Outbound,
        *,
        case_id: int | None = None,
        dedupe_key: str | None = None,
        not_before: dt.datetime | None = None,
    ) -> bool:
        row = await outbox.enqueue(
            self.s,
            target_kind="channel",
            target=channel,
            # Channels live on the configured platform, whoever caused the message.
            platform=self.settings.platform,
            payload=message.to_payload(),
            now=self.clock.now(),
            case_id=case_id,
            dedupe_key=dedupe_key,
        )
        _hold(row, not_before)
        return row is not None

    async def to_staff(
        self,
        message: Outbound,
        *,
        case_id: int | None = None,
        dedupe_key: str | None = None,
        not_before: dt.datetime | None = None,
    ) -> bool:
        return await self.to_channel(
            self.settings.staff_channel,
            message,
            case_id=case_id,
            dedupe_key=dedupe_key,
            not_before=not_before,
        )

    async def to_prefecture(
        self,
        message: Outbound,
        *,
        case_id: int | None = None,
        dedupe_key: str | None = None,
        not_before: dt.datetime | None = None,
    ) -> bool:
        return await self.to_channel(
            self.settings.prefecture_channel,
            message,
            case_id=case_id,
            dedupe_key=dedupe_key,
            not_before=not_before,
        )


def _hold(row: OutboxMessage | None, not_before: dt.datetime | None) -> None:
    """Let a queued routine notice wait (the deliverer takes rows whose time has come)."""
    if row is not None and not_before is not None and not_before > row.next_attempt_at:
        row.next_attempt_at = not_before


def office_time(
    now: dt.datetime, calendar: BusinessCalendar, start: dt.time, end: dt.time
) -> dt.datetime:
    """When a routine notice may go: now within office hours on a 開庁日, otherwise the start
    of the next office hours (not on a Sunday night, not during 年末年始)."""
    local = now.astimezone(JST)
    if calendar.is_open(local.date()) and local.time() < end:
        if local.time() >= start:
            return now
        return dt.datetime.combine(local.date(), start, tzinfo=JST)
    return dt.datetime.combine(calendar.next_open_day(local.date()), start, tzinfo=JST)


URGENT_OPEN_DAYS = 2  # a notice about a session this close goes at once (issue 19)


def session_notice_time(
    now: dt.datetime,
    calendar: BusinessCalendar,
    start: dt.time,
    end: dt.time,
    session_starts: list[dt.datetime],
) -> dt.datetime | None:
    """When a notice about a session (a cancellation, a move) may go: at once (None) if any of
    the session's times falls within the next two 開庁日, since people may be about to travel
    or prepare; otherwise it is routine and waits for office hours like a status change."""
    today = now.astimezone(JST).date()
    horizon = calendar.add_open_days(today, URGENT_OPEN_DAYS)
    if any(s.astimezone(JST).date() <= horizon for s in session_starts):
        return None
    return office_time(now, calendar, start, end)


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0


def backoff(attempts: int, retry_after: float | None) -> dt.timedelta:
    if retry_after is not None:
        return dt.timedelta(seconds=max(retry_after, 1.0))
    return dt.timedelta(seconds=doubling(5, attempts - 1, MAX_BACKOFF.total_seconds()))


CLAIM_CHUNK = 16  # messages claimed (and marked delivered) per transaction
SEND_CONCURRENCY = 16  # people sent to at once; one person's messages stay in order


@dataclass
class _PassState:
    """Single flight of ``deliver_due`` per database, platform and sender in one process."""

    loop: asyncio.AbstractEventLoop
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    requested: int = 0
    covered: int = 0


_passes: weakref.WeakKeyDictionary[Database, dict[tuple[str | None, int], _PassState]] = (
    weakref.WeakKeyDictionary()
)


class OutboxDeliverer:
    """Delivers due outbox rows through one Sender. With ``platform`` it takes only the rows
    addressed on that platform, so a console session never 'delivers' a Slack user's message.

    Rows are claimed and marked delivered ``CLAIM_CHUNK`` at a time (one transaction each),
    and sent to up to ``SEND_CONCURRENCY`` people at once — each person's (each conversation's)
    messages one after another, in order; people before channel notices."""

    def __init__(
        self,
        db: Database,
        sender: Sender,
        clock: Clock,
        platform: str | None = None,
        *,
        lease: dt.timedelta = outbox.LEASE,
    ) -> None:
        self.db = db
        self.sender = sender
        self.clock = clock
        self.platform = platform
        self.lease = lease

    def _pass_state(self) -> _PassState:
        loop = asyncio.get_running_loop()
        states = _passes.setdefault(self.db, {})
        key = (self.platform, id(self.sender))
        state = states.get(key)
        if state is None or state.loop is not loop:
            state = states[key] = _PassState(loop)
        return state

    async def deliver_due(self, limit: int = 200) -> DeliveryReport:
        """Everything due now, in batches of ``limit`` (people first, then channels): a pass
        that queued 10,000 pings delivers all of them, not a first thousand. Calls that arrive
        while a pass runs (every handled message asks for one) share the next pass: each
        returns once a pass that started after it was called has finished."""
        state = self._pass_state()
        state.requested += 1
        wanted = state.requested
        async with state.lock:
            if state.covered >= wanted:
                return DeliveryReport()  # a pass that began after this call has run
            state.covered = state.requested
            return await self._deliver_due(limit)

    async def _deliver_due(self, limit: int) -> DeliveryReport:
        report = DeliveryReport()
        tried: set[int] = set()
        while True:
            async with self.db.transaction() as s:
                ids = await outbox.due_ids(s, self.clock.now(), limit, self.platform)
            fresh = [i for i in ids if i not in tried]
            if not fresh:
                return report
            tried.update(fresh)
            await self.deliver_ids(fresh, report)

    async def deliver_ids(
        self, ids: list[int], report: DeliveryReport | None = None
    ) -> DeliveryReport:
        """These messages, in this order (a reply's parts right after it was handled)."""
        report = report if report is not None else DeliveryReport()
        for start in range(0, len(ids), CLAIM_CHUNK):
            await self._deliver_chunk(ids[start : start + CLAIM_CHUNK], report)
        return report

    async def deliver_claimed(self, msgs: list[OutboxMessage]) -> DeliveryReport:
        """Messages already claimed for this deliverer (a handling's replies, queued leased
        with ``self.lease``), in this order."""
        report = DeliveryReport()
        for start in range(0, len(msgs), CLAIM_CHUNK):
            await self._send_claimed(msgs[start : start + CLAIM_CHUNK], report)
        return report

    @staticmethod
    def watch() -> outbox.Watch:
        """Called before a handling: marks whether it (or its background work) queues anything
        beyond its own claimed replies — a notice to staff, a file to post (``deliver_handled``)."""
        return outbox.watch()

    async def deliver_handled(self, claimed: list[OutboxMessage], watch: outbox.Watch) -> None:
        """After a handling's commit: its replies, then a pass for due messages only if it
        queued others; retries and what other processes left are the scheduler's pass's."""
        await self.deliver_claimed(claimed)
        if watch.queued:
            await self.deliver_due()

    async def _deliver_chunk(self, ids: list[int], report: DeliveryReport) -> None:
        async with self.db.transaction() as s:
            msgs = await outbox.claim_many(s, ids, self.clock.now(), self.lease)
        if msgs:
            await self._send_claimed(msgs, report)

    async def _send_claimed(self, msgs: list[OutboxMessage], report: DeliveryReport) -> None:
        conversations: dict[tuple[str, str], list[OutboxMessage]] = {}
        for msg in msgs:
            conversations.setdefault((msg.target_kind, msg.target), []).append(msg)
        people = [m for (kind, _), m in conversations.items() if kind != "channel"]
        channels = [m for (kind, _), m in conversations.items() if kind == "channel"]
        delivered: list[int] = []
        gate = asyncio.Semaphore(SEND_CONCURRENCY)

        async def in_order(conversation: list[OutboxMessage]) -> None:
            async with gate:
                for msg in conversation:
                    if await self._send(msg):
                        delivered.append(msg.id)
                        report.delivered += 1
                    else:
                        report.failed += 1

        try:
            for group in (people, channels):  # every person's ping ahead of any notice
                await asyncio.gather(*(in_order(c) for c in group))
        finally:
            # Marked even when cancelled midway: what went out is not sent again.
            if delivered:
                async with self.db.transaction() as s:
                    await outbox.mark_delivered_many(s, delivered, self.clock.now())
                for msg_id in delivered:
                    log.debug("outbox %s delivered", msg_id)

    async def _send(self, msg: OutboxMessage) -> bool:
        """One claimed message; False (and its retry scheduled) when it failed."""
        try:
            message = Outbound.from_payload(msg.payload)
            if isinstance(self.sender, KeyedSender):
                await self.sender.send_keyed(
                    msg.target_kind,
                    msg.target,
                    message,
                    key=f"{msg.id}",
                    retry=msg.attempts > 1,
                )
            else:
                await self.sender.send(msg.target_kind, msg.target, message)
        except DeliveryError as exc:
            retry_at = self.clock.now() + backoff(msg.attempts, exc.retry_after)
            async with self.db.transaction() as s:
                await outbox.mark_failed(s, msg.id, self.clock.now(), retry_at, str(exc))
            log.warning(
                "outbox %s to %s failed (attempt %s): %s",
                msg.id,
                msg.target_kind,
                msg.attempts,
                exc,
            )
            return False
        except Exception as exc:  # an adapter bug must not stop the other messages
            retry_at = self.clock.now() + backoff(msg.attempts, None)
            async with self.db.transaction() as s:
                await outbox.mark_failed(s, msg.id, self.clock.now(), retry_at, repr(exc))
            log.exception("outbox %s delivery crashed", msg.id)
            return False
        return True
