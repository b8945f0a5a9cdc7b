"""The notification outbox. Messages are written in the transaction of the change that caused
them and delivered afterwards, with retries; a lease makes each row go out exactly once even
with two delivering processes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import rowcount
from store.models import OutboxMessage

LEASE = dt.timedelta(seconds=120)


@dataclass
class Watch:
    """Whether this task has queued a message for a delivery pass (not already claimed by its
    sender) since ``watch()``: a handling that queued only its own claimed replies need not
    look for due messages after sending them (a transaction and a query per reply)."""

    queued: bool = False


_watch: ContextVar[Watch | None] = ContextVar("outbox_watch", default=None)


def watch() -> Watch:
    """From now on, what this task queues for a delivery pass marks the returned ``Watch``."""
    current = Watch()
    _watch.set(current)
    return current


def _queued_for_a_pass() -> None:
    current = _watch.get()
    if current is not None:
        current.queued = True


async def enqueue(
    s: AsyncSession,
    *,
    target_kind: str,
    target: str,
    payload: dict[str, Any],
    now: dt.datetime,
    platform: str = "",
    case_id: int | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Add a message; with ``dedupe_key`` a second enqueue of the same message is a no-op."""
    if dedupe_key is not None:
        existing = await s.scalar(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
        )
        if existing is not None:
            return None
    msg = OutboxMessage(
        target_kind=target_kind,
        target=target,
        platform=platform,
        payload=payload,
        case_id=case_id,
        dedupe_key=dedupe_key,
        created_at=now,
        next_attempt_at=now,
    )
    try:
        async with s.begin_nested():
            s.add(msg)
            await s.flush()
    except IntegrityError:
        return None
    _queued_for_a_pass()
    return msg


@dataclass(frozen=True)
class Keyed:
    """A message queued under a key of its own (``enqueue_keyed``)."""

    target_kind: str
    target: str
    platform: str
    payload: dict[str, Any]
    dedupe_key: str


async def enqueue_keyed(
    s: AsyncSession,
    messages: Sequence[Keyed],
    now: dt.datetime,
    lease: dt.timedelta | None = None,
) -> list[OutboxMessage]:
    """``enqueue`` with a ``dedupe_key`` for several messages, as one ``INSERT … ON CONFLICT DO
    NOTHING RETURNING``: those not queued before, in order. One statement where ``enqueue``
    takes four (a look, a savepoint, the insert, its release) — a handling's replies are queued
    while it holds SQLite's write lock, which every ack waits for.

    With ``lease`` the rows are queued already claimed by the caller (as ``claim_many`` would
    leave them), who sends them right after the commit: no claim transaction, and no other
    deliverer's pass taking them meanwhile. Should the caller die first, the lease runs out
    and any deliverer sends them, as after a claim."""
    if not messages:
        return []
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    rows = [
        {
            "target_kind": m.target_kind,
            "target": m.target,
            "platform": m.platform,
            "payload": m.payload,
            "dedupe_key": m.dedupe_key,
            "created_at": now,
            "next_attempt_at": now,
            "attempts": 0 if lease is None else 1,
            "lease_until": None if lease is None else now + lease,
            "last_error": "",
        }
        for m in messages
    ]
    stmt = insert(OutboxMessage).on_conflict_do_nothing().returning(OutboxMessage)
    queued = {row.dedupe_key: row for row in await s.scalars(stmt, rows)}
    if queued and lease is None:
        _queued_for_a_pass()
    return [queued[m.dedupe_key] for m in messages if m.dedupe_key in queued]


async def due_ids(
    s: AsyncSession, now: dt.datetime, limit: int = 50, platform: str | None = None
) -> list[int]:
    """Messages due now, those to a person ahead of channel notices (an expert's ping must not
    wait behind a pass's escalations), each kind oldest first; with ``platform``, only those
    addressed on that platform."""
    q = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now),
        )
        .order_by(case((OutboxMessage.target_kind == "channel", 1), else_=0), OutboxMessage.id)
        .limit(limit)
    )
    if platform is not None:
        q = q.where(OutboxMessage.platform == platform)
    return list((await s.scalars(q)).all())


async def claim(
    s: AsyncSession, msg_id: int, now: dt.datetime, lease: dt.timedelta = LEASE
) -> OutboxMessage | None:
    """Take a lease on one message; None when another deliverer holds it or it went out.
    ``attempts`` counts the claims: above 1, an earlier attempt may have reached the platform."""
    result = await s.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == msg_id,
            OutboxMessage.delivered_at.is_(None),
            or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now),
        )
        .values(lease_until=now + lease, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if not rowcount(result):
        return None
    return await s.get(OutboxMessage, msg_id, populate_existing=True)


async def claim_many(
    s: AsyncSession, ids: Sequence[int], now: dt.datetime, lease: dt.timedelta = LEASE
) -> list[OutboxMessage]:
    """``claim`` for several messages in one statement: those whose lease this call took, in
    the order of ``ids``."""
    if not ids:
        return []
    # The rows come back with the UPDATE: one statement while SQLite's write lock is held.
    rows = await s.scalars(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.delivered_at.is_(None),
            or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now),
        )
        .values(lease_until=now + lease, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    by_id = {row.id: row for row in rows}
    return [by_id[i] for i in ids if i in by_id]


async def mark_delivered_many(s: AsyncSession, ids: Sequence[int], now: dt.datetime) -> None:
    if ids:
        await s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(delivered_at=now, lease_until=None, last_error="")
            .execution_options(synchronize_session=False)
        )


async def mark_delivered(s: AsyncSession, msg_id: int, now: dt.datetime) -> None:
    await s.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == msg_id)
        .values(delivered_at=now, lease_until=None, last_error="")
        .execution_options(synchronize_session=False)
    )


async def mark_failed(
    s: AsyncSession, msg_id: int, now: dt.datetime, retry_at: dt.datetime, error: str
) -> None:
    await s.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == msg_id)
        .values(next_attempt_at=retry_at, lease_until=None, last_error=error[:500])
        .execution_options(synchronize_session=False)
    )


async def pending(s: AsyncSession) -> list[OutboxMessage]:
    return list(
        (
            await s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.delivered_at.is_(None))
                .order_by(OutboxMessage.id)
            )
        ).all()
    )


async def all_messages(s: AsyncSession) -> list[OutboxMessage]:
    return list((await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())
