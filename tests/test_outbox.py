"""The Notifier port and the outbox: a notification exists exactly when the change that caused it
was committed, and it is delivered once — after failures, after a crash, with two deliverers."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from bot.core.config import Settings
from bot.core.messages import Outbound
from bot.core.notifier import MAX_BACKOFF, DeliveryError, Notifier, OutboxDeliverer, backoff
from reminders.clock import FixedClock
from store import outbox, users
from store.db import Database
from store.models import OutboxMessage, User
from tests.conftest import RecordingSender


class Boom(Exception):
    pass


async def _rows(db: Database) -> list[OutboxMessage]:
    async with db.transaction() as s:
        return await outbox.all_messages(s)


async def _notify(
    db: Database, clock: FixedClock, settings: Settings, *texts: str, dedupe: str | None = None
) -> list[bool]:
    async with db.transaction() as s:
        n = Notifier(s, clock, settings, "console")
        return [await n.to_staff(Outbound(text=x), dedupe_key=dedupe) for x in texts]


@dataclass
class SlowSender:
    """A far end that takes a moment per message, so two deliverers really interleave."""

    log: list[str]
    name: str

    async def send(self, target_kind: str, target: str, message: Outbound) -> None:
        await asyncio.sleep(0.002)
        self.log.append(message.text)


@dataclass
class ScriptedSender:
    """Fails the listed messages the given number of times, with the given exception."""

    failures: dict[str, list[Exception]] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)

    async def send(self, target_kind: str, target: str, message: Outbound) -> None:
        pending = self.failures.get(message.text)
        if pending:
            raise pending.pop(0)
        self.sent.append(message.text)


# --- written with the change, or not at all --------------------------------------------------------


async def test_notification_rolls_back_with_the_change(
    db: Database, clock: FixedClock, settings: Settings
) -> None:
    with pytest.raises(Boom):
        async with db.transaction() as s:
            user = await users.add(
                s, platform="console", platform_id="E1", role="expert", now=clock.now()
            )
            await Notifier(s, clock, settings, "console").to_user(
                user, Outbound(text="ご登録ありがとうございます")
            )
            assert len(await outbox.pending(s)) == 1  # visible inside the unit of work
            raise Boom

    assert await _rows(db) == []
    async with db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 0
    sender = RecordingSender()
    report = await OutboxDeliverer(db, sender, clock).deliver_due()
    assert (report.delivered, sender.sent) == (0, [])


async def test_notification_committed_with_the_change(
    db: Database, clock: FixedClock, settings: Settings
) -> None:
    async with db.transaction() as s:
        user = await users.add(
            s, platform="slack", platform_id="U1", role="expert", now=clock.now()
        )
        await Notifier(s, clock, settings, "console").to_user(user, Outbound(text="ようこそ"))
    sender = RecordingSender()
    await OutboxDeliverer(db, sender, clock).deliver_due()
    assert [(k, tgt, m.text) for k, tgt, m in sender.sent] == [("user", "U1", "ようこそ")]
    (row,) = await _rows(db)
    assert row.platform == "slack"  # delivered on the user's own platform
    assert row.delivered_at == clock.now()


# --- retries -------------------------------------------------------------------------------------------


async def test_failed_delivery_is_retried_with_backoff_and_sent_once(
    db: Database, clock: FixedClock, settings: Settings
) -> None:
    await _notify(db, clock, settings, "報告をお願いします")
    sender = RecordingSender(fail_times=2)
    deliverer = OutboxDeliverer(db, sender, clock)

    first = await deliverer.deliver_due()
    assert (first.delivered, first.failed) == (0, 1)
    (row,) = await _rows(db)
    assert row.attempts == 1 and row.last_error == "platform unavailable"
    assert row.delivered_at is None and row.next_attempt_at == clock.now() + backoff(1, None)

    # Not due again until the backoff has passed.
    assert (await deliverer.deliver_due()).failed == 0
    clock.advance(seconds=5)
    assert (await deliverer.deliver_due()).failed == 1  # second failure; the wait doubles
    clock.advance(seconds=9)
    nothing = await deliverer.deliver_due()
    assert (nothing.delivered, nothing.failed) == (0, 0)
    clock.advance(seconds=1)
    done = await deliverer.deliver_due()
    assert (done.delivered, done.failed) == (1, 0)

    for _ in range(3):
        clock.advance(hours=2)
        await deliverer.deliver_due()
    assert sender.texts() == ["報告をお願いします"]
    (row,) = await _rows(db)
    assert row.attempts == 3 and row.delivered_at is not None and row.last_error == ""


async def test_retry_after_from_the_platform_is_honoured(
    db: Database, clock: FixedClock, settings: Settings
) -> None:
    await _notify(db, clock, settings, "rate limited")
    sender = ScriptedSender({"rate limited": [DeliveryError("429", retry_after=30)]})
    deliverer = OutboxDeliverer(db, sender, clock)

    assert (await deliverer.deliver_due()).failed == 1
    clock.advance(seconds=29)
    assert (await deliverer.deliver_due()).delivered == 0
    clock.advance(seconds=1)
    assert (await deliverer.deliver_due()).delivered == 1
    assert sender.sent == ["rate limited"]


@pytest.mark.parametrize(
    ("attempts", "retry_after", "expected"),
    [
        (1, None, dt.timedelta(seconds=5)),
        (2, None, dt.timedelta(seconds=10)),
        (3, None, dt.timedelta(seconds=20)),
        (30, None, MAX_BACKOFF),
        (1, 30.0, dt.timedelta(seconds=30)),
        (9, 30.0, dt.timedelta(seconds=30)),  # the platform's word beats our schedule
        (1, 0.0, dt.timedelta(seconds=1)),  # never a busy loop
    ],
)
def test_backoff(attempts: int, retry_after: float | None, expected: dt.timedelta) -> None:
    assert backoff(attempts, retry_after) == expected


async def test_a_crashing_sender_does_not_block_the_others(
    db: Database, clock: FixedClock, settings: Settings
) -> None:
    await _notify(db, clock, settings, "first", "second", "third")
    sender = ScriptedSender({"first": [ValueError("adapter bug")]})
    report = await OutboxDeliverer(db, sender, clock).deliver_due()
    assert (report.delivered, report.failed) == (2, 1)
    assert sender.sent == ["second", "third"]
    clock.advance(minutes=1)
    await OutboxDeliverer(db, sender, clock).deliver_due()
    assert sender.sent == ["second", "third", "first"]


async def test_message_claimed_by_a_dead_deliverer_goes_out_after_the_lease(
    db: Database, clock: FixedClock, settings: Settings
) -> None:
    await _notify(db, clock, settings, "orphan")
    (row,) = await _rows(db)
    async with db.transaction() as s:  # a process claims it, then dies before sending
        assert await outbox.claim(s, row.id, clock.now()) is not None
    sender = RecordingSender()
    deliverer = OutboxDeliverer(db, sender, clock)

    assert (await deliverer.deliver_due()).delivered == 0
    clock.advance(seconds=outbox.LEASE.total_seconds() + 1)
    assert (await deliverer.deliver_due()).delivered == 1
    assert sender.texts() == ["orphan"]


async def test_replies_queued_claimed_go_out_once_by_their_worker_or_after_the_lease(
    db: Database, clock: FixedClock
) -> None:
    """A handling's replies are queued already claimed by its worker: another deliverer's pass
    leaves them alone while the lease holds; the worker sends them; had it died first, they go
    out once the lease ran out — each once, and a second settlement queues nothing."""
    lease = dt.timedelta(seconds=60)

    def reply(n: int) -> outbox.Keyed:
        payload = Outbound(text=f"返信{n}").to_payload()
        return outbox.Keyed("dm", "U1", "slack", payload, f"reply:slack:1:{n}")

    async with db.transaction() as s:
        queued = await outbox.enqueue_keyed(s, [reply(0), reply(1)], clock.now(), lease)
    assert [m.payload["text"] for m in queued] == ["返信0", "返信1"]
    async with db.transaction() as s:  # the same row settled again: nothing more queued
        assert await outbox.enqueue_keyed(s, [reply(0), reply(1)], clock.now(), lease) == []

    other, worker = RecordingSender(), RecordingSender()
    assert (await OutboxDeliverer(db, other, clock, lease=lease).deliver_due()).delivered == 0
    report = await OutboxDeliverer(db, worker, clock, lease=lease).deliver_claimed(queued[:1])
    assert report.delivered == 1 and worker.texts() == ["返信0"]

    # the worker died before sending the second: it goes out after the lease, once
    assert (await OutboxDeliverer(db, other, clock, lease=lease).deliver_due()).delivered == 0
    clock.advance(seconds=61)
    assert (await OutboxDeliverer(db, other, clock, lease=lease).deliver_due()).delivered == 1
    assert other.texts() == ["返信1"]
    assert (await OutboxDeliverer(db, other, clock, lease=lease).deliver_due()).delivered == 0


async def test_people_first_and_every_due_message_in_one_delivery(
    db: Database, clock: FixedClock, settings: Settings
) -> None:
    """A pass that queued 30 channel notices, then 450 pings to people: one delivery sends all
    480 (no ceiling per run), every ping before any notice."""
    await _notify(db, clock, settings, *(f"notice {n}" for n in range(30)))
    async with db.transaction() as s:
        for n in range(450):
            await outbox.enqueue(
                s,
                target_kind="user",
                target=f"U{n % 9}",
                payload=Outbound(text=f"ping {n}").to_payload(),
                now=clock.now(),
            )
    sender = RecordingSender()
    report = await OutboxDeliverer(db, sender, clock).deliver_due(limit=100)
    assert report.delivered == 480
    kinds = [kind for kind, _target, _message in sender.sent]
    assert kinds == ["user"] * 450 + ["channel"] * 30
    # Each person's pings oldest first (people are sent to concurrently); notices likewise.
    for person in range(9):
        mine = [int(t.split()[1]) for k, tgt, t in _sent_texts(sender) if tgt == f"U{person}"]
        assert mine == sorted(mine) and len(mine) == 50
    notices = [t for k, _tgt, t in _sent_texts(sender) if k == "channel"]
    assert notices == [f"notice {n}" for n in range(30)]


def _sent_texts(sender: RecordingSender) -> list[tuple[str, str, str]]:
    return [(kind, target, message.text) for kind, target, message in sender.sent]


# --- two deliverers --------------------------------------------------------------------------------


async def test_two_deliverers_deliver_each_message_exactly_once(
    db_url: str, clock: FixedClock, settings: Settings
) -> None:
    texts = [f"お知らせ{i:02d}" for i in range(20)]
    one, two = Database(db_url), Database(db_url)  # two processes, two connection pools
    try:
        await _notify(one, clock, settings, *texts)
        delivered: list[str] = []
        reports = await asyncio.gather(
            OutboxDeliverer(one, SlowSender(delivered, "a"), clock).deliver_due(),
            OutboxDeliverer(two, SlowSender(delivered, "b"), clock).deliver_due(),
        )
        assert sorted(delivered) == texts
        assert sum(r.delivered for r in reports) == 20
        assert all(r.delivered > 0 for r in reports), "the two deliverers did not overlap"
        assert sum(r.failed for r in reports) == 0
        rows = await _rows(one)
        assert all(r.delivered_at is not None and r.attempts == 1 for r in rows)
        # Later passes find nothing left.
        clock.advance(hours=1)
        await asyncio.gather(
            OutboxDeliverer(one, SlowSender(delivered, "a"), clock).deliver_due(),
            OutboxDeliverer(two, SlowSender(delivered, "b"), clock).deliver_due(),
        )
        assert len(delivered) == 20
    finally:
        await one.dispose()
        await two.dispose()


# --- dedupe ----------------------------------------------------------------------------------------


async def test_dedupe_key_makes_a_second_enqueue_a_no_op(
    db: Database, clock: FixedClock, settings: Settings
) -> None:
    assert await _notify(db, clock, settings, "督促1回目", "督促1回目", dedupe="remind:7:d1") == [
        True,
        False,
    ]
    assert await _notify(db, clock, settings, "督促1回目", dedupe="remind:7:d1") == [False]
    assert await _notify(db, clock, settings, "督促2回目", dedupe="remind:7:d2") == [True]
    sender = RecordingSender()
    await OutboxDeliverer(db, sender, clock).deliver_due()
    assert sender.texts() == ["督促1回目", "督促2回目"]
    # Delivered messages still block a repeat: a restart does not send the ping again.
    assert await _notify(db, clock, settings, "督促1回目", dedupe="remind:7:d1") == [False]
    assert len(await _rows(db)) == 2


async def test_dedupe_holds_between_two_concurrent_transactions(
    db_url: str, clock: FixedClock, settings: Settings
) -> None:
    """Two replicas enqueue the same ping at once: one row; the loser's other work commits."""
    one, two = Database(db_url), Database(db_url)
    first_written = asyncio.Event()
    try:

        async def replica_one() -> bool:
            async with one.transaction() as s:
                ok = await Notifier(s, clock, settings, "console").to_staff(
                    Outbound(text="ping"), dedupe_key="same"
                )
                first_written.set()
                await asyncio.sleep(0.2)  # still uncommitted while replica two tries
                return ok

        async def replica_two() -> bool:
            await first_written.wait()
            async with two.transaction() as s:
                ok = await Notifier(s, clock, settings, "console").to_staff(
                    Outbound(text="ping"), dedupe_key="same"
                )
                await users.add(
                    s, platform="console", platform_id="after", role="staff", now=clock.now()
                )
                return ok

        results = await asyncio.gather(replica_one(), replica_two())
        assert sorted(results) == [False, True]
        assert [r.dedupe_key for r in await _rows(one)] == ["same"]
        async with one.transaction() as s:
            assert await users.get_by_platform_id(s, "console", "after") is not None
    finally:
        await one.dispose()
        await two.dispose()
