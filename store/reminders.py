"""Queries behind the reminder pass: sessions that ended, reports still out, the ledger.

The pending-report scan reads only unsubmitted sessions through the partial index
``ix_sessions_report_pending``, so its cost follows the number of reports still out, not the
number of sessions ever held.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import (
    Case,
    ReminderLedger,
    SessionExpert,
    SupportSession,
    Survey,
)

SNOOZE = "snooze"


@dataclass(frozen=True)
class PendingReport:
    session_id: int
    case_id: int
    case_no: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    report_due: dt.date
    expert_user_ids: tuple[int, ...]


async def ended_unmarked(
    s: AsyncSession, program_id: str, now: dt.datetime, limit: int = 500
) -> list[SupportSession]:
    """Sessions whose end has passed but are still 'scheduled'."""
    return list(
        (
            await s.scalars(
                select(SupportSession)
                .where(
                    SupportSession.program_id == program_id,
                    SupportSession.status == "scheduled",
                    SupportSession.ends_at <= now,
                )
                .order_by(SupportSession.ends_at)
                .limit(limit)
            )
        ).all()
    )


async def pending_reports(
    s: AsyncSession, program_id: str, now: dt.datetime, expert_user_id: int | None = None
) -> list[PendingReport]:
    q = (
        select(
            SupportSession.id,
            SupportSession.case_id,
            Case.case_no,
            SupportSession.starts_at,
            SupportSession.ends_at,
            SupportSession.report_due,
            SessionExpert.user_id,
        )
        .join(Case, Case.id == SupportSession.case_id)
        .join(SessionExpert, SessionExpert.session_id == SupportSession.id)
        .where(
            SupportSession.report_submitted_at.is_(None),
            SupportSession.status != "cancelled",
            SupportSession.program_id == program_id,
            SupportSession.ends_at <= now,
        )
        .order_by(SupportSession.report_due, SupportSession.id)
    )
    if expert_user_id is not None:
        q = q.where(SessionExpert.user_id == expert_user_id)
    by_session: dict[int, list[object]] = {}
    experts: dict[int, list[int]] = defaultdict(list)
    for sid, cid, cno, starts, ends, due, uid in (await s.execute(q)).all():
        by_session.setdefault(sid, [sid, cid, cno, starts, ends, due])
        experts[sid].append(uid)
    return [
        PendingReport(*row, expert_user_ids=tuple(experts[sid]))  # type: ignore[arg-type]
        for sid, row in by_session.items()
    ]


async def ledger_steps(s: AsyncSession, session_ids: Sequence[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = defaultdict(set)
    for chunk in _chunks(list(session_ids), 1000):
        rows = await s.execute(
            select(ReminderLedger.session_id, ReminderLedger.step).where(
                ReminderLedger.session_id.in_(chunk)
            )
        )
        for sid, step in rows.all():
            out[int(sid)].add(step)
    return out


async def last_snoozes(s: AsyncSession, session_ids: Sequence[int]) -> dict[int, dt.datetime]:
    out: dict[int, dt.datetime] = {}
    for chunk in _chunks(list(session_ids), 1000):
        rows = await s.execute(
            select(ReminderLedger.session_id, func.max(ReminderLedger.created_at))
            .where(ReminderLedger.session_id.in_(chunk), ReminderLedger.step.like(f"{SNOOZE}%"))
            .group_by(ReminderLedger.session_id)
        )
        out.update({int(sid): at for sid, at in rows.all()})
    return out


async def claim_step(
    s: AsyncSession,
    *,
    key: str,
    session_id: int | None,
    step: str,
    recipient: str,
    now: dt.datetime,
) -> ReminderLedger | None:
    """Record a step under its unique key; None when it is already recorded (by anyone).

    On PostgreSQL a concurrent pass inserting the same key waits for ours to commit and then
    fails on the unique key, so exactly one of them sends the ping.
    """
    row = ReminderLedger(
        key=key, session_id=session_id, step=step, recipient=recipient, created_at=now
    )
    try:
        async with s.begin_nested():
            s.add(row)
            await s.flush()
    except IntegrityError:
        return None
    return row


async def has_step(s: AsyncSession, key: str) -> bool:
    return (await s.scalar(select(ReminderLedger.id).where(ReminderLedger.key == key))) is not None


async def reported_without_survey(
    s: AsyncSession, program_id: str
) -> list[tuple[int, int, dt.datetime]]:
    """(session id, case id, report time) of reported sessions with no survey answer yet."""
    # Only cases still in 報告済 can be waiting for a survey: a small set, found by index.
    rows = await s.execute(
        select(SupportSession.id, SupportSession.case_id, SupportSession.report_submitted_at)
        .join(Case, Case.id == SupportSession.case_id)
        .outerjoin(Survey, Survey.session_id == SupportSession.id)
        .where(
            Case.program_id == program_id,
            Case.status == "reported",
            SupportSession.report_submitted_at.is_not(None),
            Survey.answered_at.is_(None),
        )
    )
    return [(int(a), int(b), c) for a, b, c in rows.all()]


def _chunks(items: list[int], n: int) -> list[list[int]]:
    return [items[i : i + n] for i in range(0, len(items), n)] or []
