"""Changing sessions after they were booked: cancelling and moving them, and what a case's
remaining sessions say (kept apart from store.sessions, which books and reports them).

A cancelled session keeps its row (status 'cancelled'); who cancelled it, when and why go to the
audit log, as do a move's old and new start. Every count and reminder query skips 'cancelled'.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import rowcount
from store.models import AuditEntry, SessionExpert, SessionMunicipality, SupportSession, User

CANCELLED = "cancelled"


async def get(s: AsyncSession, session_id: int) -> SupportSession | None:
    return await s.get(SupportSession, session_id)


async def expert_ids(s: AsyncSession, session_id: int) -> list[int]:
    """The session's experts' user ids, in a stable order."""
    rows = await s.scalars(
        select(SessionExpert.user_id)
        .where(SessionExpert.session_id == session_id)
        .order_by(SessionExpert.user_id)
    )
    return list(rows.all())


async def municipality_codes(s: AsyncSession, session_id: int) -> list[str]:
    rows = await s.scalars(
        select(SessionMunicipality.municipality_code)
        .where(SessionMunicipality.session_id == session_id)
        .order_by(SessionMunicipality.municipality_code)
    )
    return list(rows.all())


@dataclass(frozen=True)
class FutureSession:
    """A session of a case still to be held, as a person confirming its cancellation sees it."""

    session: SupportSession
    expert_names: list[str]


async def future_of_case(s: AsyncSession, case_id: int, now: dt.datetime) -> list[FutureSession]:
    """The case's sessions not cancelled whose end is still ahead, by start, with their experts'
    names (two statements)."""
    sessions = list(
        (
            await s.scalars(
                select(SupportSession)
                .where(
                    SupportSession.case_id == case_id,
                    SupportSession.status != CANCELLED,
                    SupportSession.ends_at > now,
                )
                .order_by(SupportSession.starts_at, SupportSession.id)
            )
        ).all()
    )
    names: dict[int, list[str]] = {x.id: [] for x in sessions}
    if sessions:
        rows = await s.execute(
            select(SessionExpert.session_id, User.name, User.platform_id)
            .join(User, User.id == SessionExpert.user_id)
            .where(SessionExpert.session_id.in_(list(names)))
            .order_by(SessionExpert.session_id, User.id)
        )
        for sid, name, pid in rows.all():
            names[int(sid)].append(name or pid)
    return [FutureSession(x, names[x.id]) for x in sessions]


async def cancel(
    s: AsyncSession,
    session: SupportSession,
    *,
    now: dt.datetime,
    actor: str,
    reason: str,
) -> bool:
    """Cancel a session once: a conditional UPDATE (two cancellations racing: one wins), and an
    audit entry saying who, when and why. The row stays (the history keeps it); the tallies of
    migration 0002 drop it, and every count and reminder query skips status 'cancelled'."""
    won = await s.execute(
        update(SupportSession)
        .where(SupportSession.id == session.id, SupportSession.status != CANCELLED)
        .values(status=CANCELLED)
        .execution_options(synchronize_session=False)
    )
    if not rowcount(won):
        return False
    previous = session.status
    session.status = CANCELLED
    s.add(
        AuditEntry(
            at=now,
            actor=actor,
            action="session_cancelled",
            object_type="session",
            object_id=str(session.id),
            detail={
                "reason": reason,
                "previous_status": previous,
                "starts_at": session.starts_at.isoformat(),
            },
            program_id=session.program_id,
        )
    )
    await s.flush()
    return True


async def move(
    s: AsyncSession,
    session: SupportSession,
    *,
    starts_at: dt.datetime,
    report_due: dt.date,
    now: dt.datetime,
    actor: str,
) -> None:
    """Give a session a new start (same length) and the due date that follows from it; the
    reminder pass reads the end and due date, so its pings follow. Audited with both times."""
    before = session.starts_at
    session.starts_at = starts_at
    session.ends_at = starts_at + dt.timedelta(hours=session.hours)
    session.report_due = report_due
    s.add(
        AuditEntry(
            at=now,
            actor=actor,
            action="session_moved",
            object_type="session",
            object_id=str(session.id),
            detail={"from": before.isoformat(), "to": starts_at.isoformat()},
            program_id=session.program_id,
        )
    )
    await s.flush()


async def history(s: AsyncSession, session_id: int) -> list[AuditEntry]:
    """What was done to a session (cancelled, moved), oldest first."""
    rows = await s.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.object_type == "session",
            AuditEntry.object_id == str(session_id),
            AuditEntry.action.in_(("session_cancelled", "session_moved")),
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return list(rows.all())


async def case_session_states(s: AsyncSession, case_id: int, now: dt.datetime) -> set[str]:
    """Which kinds of non-cancelled sessions a case has: 'future' (its end ahead), 'unreported'
    (ended, no report) and 'reported' — what the case's status settles to after a cancellation."""
    rows = await s.execute(
        select(SupportSession.ends_at, SupportSession.report_submitted_at).where(
            SupportSession.case_id == case_id, SupportSession.status != CANCELLED
        )
    )
    out: set[str] = set()
    for ends_at, reported_at in rows.all():
        if reported_at is not None:
            out.add("reported")
        elif ends_at > now:
            out.add("future")
        else:
            out.add("unreported")
    return out
