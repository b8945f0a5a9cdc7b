"""Queries behind the reminder pass: sessions that ended, reports still out, the ledger.

Both session scans read only unreported sessions through the partial index
``ix_sessions_report_pending`` (report_submitted_at IS NULL AND status <> 'cancelled'), so their
cost follows the number of reports still out and sessions still to be held, not the number of
sessions ever held. Two details make that hold on PostgreSQL:

- the index's predicate must appear in the query *as literals*: the asyncpg driver prepares
  every statement, and a generic plan of ``status <> $1`` cannot prove the partial index
  applies (it falls back to a sequential scan of every session);
- a session still 'scheduled' has no report yet, so the sweep for ended sessions can say so and
  use the same index (``sessions`` has no index on ``status``; without this the sweep read all
  sessions on every pass — see bench/bench_reminders.py).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import (
    Case,
    ReminderLedger,
    SessionExpert,
    SupportSession,
    Survey,
)
from store.sessions import REVIEW

SNOOZE = "snooze"


def _unreported() -> tuple[ColumnElement[bool], ...]:
    """The predicate of ``ix_sessions_report_pending``, rendered with literal values."""
    return (
        SupportSession.report_submitted_at.is_(None),
        SupportSession.status != literal("cancelled", literal_execute=True),
    )


@dataclass(frozen=True)
class PendingReport:
    session_id: int
    case_id: int
    case_no: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    report_due: dt.date
    expert_user_ids: tuple[int, ...]
    # store.sessions.REPORT_STAGES: 'review' waits for the staff (they are reminded, not the
    # expert); 'returned' was sent back (the expert is chased again).
    stage: str = "open"
    handed_in_at: dt.datetime | None = None


async def ended_unmarked(
    s: AsyncSession, program_id: str, now: dt.datetime, limit: int = 500
) -> list[SupportSession]:
    """Sessions whose end has passed but are still 'scheduled' (so not reported either: the
    report flow marks a session held when it is reported before the pass saw it end)."""
    return list(
        (
            await s.scalars(
                select(SupportSession)
                .where(
                    *_unreported(),
                    SupportSession.program_id == program_id,
                    SupportSession.status == literal("scheduled", literal_execute=True),
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
    """Ended sessions whose report is not in, by due date, with their case number and experts.

    Three statements rather than one join: the session scan alone is served by the partial
    index whatever the planner guesses, and the case numbers and experts are then fetched by
    key for exactly those sessions. As one join, the prepared statement's generic plan (the
    driver prepares every statement) misjudged ``ends_at <= $n`` and hashed or merged the whole
    cases table with parallel workers — ~15 ms on an idle desk of 100,000 cases.
    """
    q = (
        select(
            SupportSession.id,
            SupportSession.case_id,
            SupportSession.starts_at,
            SupportSession.ends_at,
            SupportSession.report_due,
            SupportSession.report_stage,
            SupportSession.report_handed_in_at,
        )
        .where(
            *_unreported(),
            SupportSession.program_id == program_id,
            SupportSession.ends_at <= now,
        )
        .order_by(SupportSession.report_due, SupportSession.id)
    )
    if expert_user_id is not None:
        # An expert's own list: a report waiting for the staff's review is not theirs to write.
        q = q.where(SupportSession.report_stage != REVIEW)
        q = q.where(
            SupportSession.id.in_(
                select(SessionExpert.session_id).where(SessionExpert.user_id == expert_user_id)
            )
        )
    rows = (await s.execute(q)).all()
    if not rows:
        return []
    case_nos: dict[int, str] = {}
    for chunk in _chunks(sorted({int(r.case_id) for r in rows}), 1000):
        found = await s.execute(select(Case.id, Case.case_no).where(Case.id.in_(chunk)))
        case_nos.update({int(cid): cno for cid, cno in found.all()})
    experts: dict[int, list[int]] = defaultdict(list)
    for chunk in _chunks([int(r.id) for r in rows], 1000):
        found = await s.execute(
            select(SessionExpert.session_id, SessionExpert.user_id)
            .where(SessionExpert.session_id.in_(chunk))
            .order_by(SessionExpert.session_id, SessionExpert.user_id)
        )
        for sid, uid in found.all():
            experts[int(sid)].append(int(uid))
    return [
        PendingReport(
            session_id=int(r.id),
            case_id=int(r.case_id),
            case_no=case_nos.get(int(r.case_id), ""),
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            report_due=r.report_due,
            expert_user_ids=tuple(experts[int(r.id)]),
            stage=str(r.report_stage),
            handed_in_at=r.report_handed_in_at,
        )
        for r in rows
        if experts[int(r.id)]  # as the join did: a session without an expert has no one to ask
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
            if sid is not None:  # never, by the IN list: for the type checker
                out[sid].add(step)
    return out


async def last_snoozes(s: AsyncSession, session_ids: Sequence[int]) -> dict[int, dt.datetime]:
    out: dict[int, dt.datetime] = {}
    for chunk in _chunks(list(session_ids), 1000):
        rows = await s.execute(
            select(ReminderLedger.session_id, func.max(ReminderLedger.created_at))
            .where(ReminderLedger.session_id.in_(chunk), ReminderLedger.step.like(f"{SNOOZE}%"))
            .group_by(ReminderLedger.session_id)
        )
        out.update({sid: at for sid, at in rows.all() if sid is not None})
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


@dataclass(frozen=True)
class Claim:
    """One ledger row the pass wants to write; see :func:`claim_steps`."""

    key: str
    session_id: int | None
    step: str
    recipient: str


async def claim_steps(s: AsyncSession, claims: Sequence[Claim], now: dt.datetime) -> set[str]:
    """Record many steps at once; returns the keys this call recorded (the others were there).

    One ``INSERT … ON CONFLICT (key) DO NOTHING RETURNING key`` per chunk instead of a savepoint
    per ping: a pass with 10,000 due pings costs a few statements, not 30,000 round trips. On
    PostgreSQL a concurrent pass inserting the same key waits for ours to commit and then skips
    it, so exactly one of them sends the ping (the same guarantee as :func:`claim_step`).
    """
    if not claims:
        return set()
    dialect = s.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    won: set[str] = set()
    # SQLite allows 32,766 bound parameters per statement; five per row.
    for start in range(0, len(claims), 5000):
        chunk = claims[start : start + 5000]
        stmt = (
            insert(ReminderLedger)
            .values(
                [
                    {
                        "key": c.key,
                        "session_id": c.session_id,
                        "step": c.step,
                        "recipient": c.recipient,
                        "created_at": now,
                    }
                    for c in chunk
                ]
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(ReminderLedger.key)
        )
        won.update((await s.scalars(stmt)).all())
    return won


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
    return [(int(a), int(b), c) for a, b, c in rows.all() if c is not None]


def _chunks(items: list[int], n: int) -> list[list[int]]:
    return [items[i : i + n] for i in range(0, len(items), n)] or []
