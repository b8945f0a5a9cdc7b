"""Aggregates per track, case status, municipality and expert, over the sessions of a scope
(GROUP BY in the database; one statement each).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import (
    Case,
    Municipality,
    SessionExpert,
    SessionMunicipality,
    SupportSession,
    User,
)
from store.reporting.scoping import NOT_CANCELLED, scoped_cases, scoped_sessions
from store.scope import EVERYTHING, Scope


@dataclass(frozen=True)
class TrackCount:
    track_id: str
    held: int = 0
    planned: int = 0
    hours_held: float = 0.0
    onsite_held: int = 0


async def track_counts(
    s: AsyncSession, program_id: str, now: dt.datetime, scope: Scope = EVERYTHING
) -> dict[str, TrackCount]:
    """Held and planned sessions, held hours and held on-site sessions per track, aggregated
    from the sessions of a scope (the whole program reads ``program_tallies`` instead)."""
    ended = SupportSession.ends_at <= now
    q = (
        select(
            SupportSession.track_id,
            func.sum(case((ended, 1), else_=0)),
            func.sum(case((ended, 0), else_=1)),
            func.sum(case((ended, SupportSession.hours), else_=0.0)),
            func.sum(case((and_(ended, SupportSession.method == "onsite"), 1), else_=0)),
        )
        .where(SupportSession.program_id == program_id, NOT_CANCELLED)
        .group_by(SupportSession.track_id)
    )
    rows = (await s.execute(scoped_sessions(q, scope))).all()
    return {
        tid: TrackCount(tid, int(h or 0), int(p or 0), float(hrs or 0), int(on or 0))
        for tid, h, p, hrs, on in rows
    }


async def case_status_counts(
    s: AsyncSession, program_id: str, scope: Scope = EVERYTHING
) -> dict[str, int]:
    q = select(Case.status, func.count()).where(Case.program_id == program_id).group_by(Case.status)
    return {st: int(n) for st, n in (await s.execute(scoped_cases(q, scope))).all()}


@dataclass(frozen=True)
class MunicipalityCount:
    track_id: str
    code: str
    name: str
    sessions: int
    held: int


async def municipality_counts(
    s: AsyncSession,
    program_id: str,
    now: dt.datetime,
    track_ids: Sequence[str] | None = None,
    scope: Scope = EVERYTHING,
) -> list[MunicipalityCount]:
    """Non-cancelled sessions (and the held ones) per track and municipality of a scope."""
    ended = SupportSession.ends_at <= now
    inner = (
        select(
            SupportSession.track_id.label("track_id"),
            SessionMunicipality.municipality_code.label("code"),
            func.count().label("n"),
            func.sum(case((ended, 1), else_=0)).label("held"),
        )
        .join(SessionMunicipality, SessionMunicipality.session_id == SupportSession.id)
        .where(SupportSession.program_id == program_id, NOT_CANCELLED)
        .group_by(SupportSession.track_id, SessionMunicipality.municipality_code)
    )
    if track_ids is not None:
        inner = inner.where(SupportSession.track_id.in_(list(track_ids)))
    if scope.municipality_code is not None:
        inner = inner.where(SessionMunicipality.municipality_code == scope.municipality_code)
    sub = scoped_sessions(inner, Scope(expert_user_id=scope.expert_user_id)).subquery()
    rows = await s.execute(
        select(sub.c.track_id, sub.c.code, Municipality.name, sub.c.n, sub.c.held)
        .join(Municipality, Municipality.code == sub.c.code)
        .order_by(sub.c.track_id, sub.c.n.desc(), sub.c.code)
    )
    return [MunicipalityCount(t, c, nm, int(n), int(h or 0)) for t, c, nm, n, h in rows.all()]


@dataclass(frozen=True)
class ExpertCount:
    user_id: int
    name: str
    sessions: int
    held: int
    hours_held: float


async def expert_counts(
    s: AsyncSession,
    program_id: str,
    now: dt.datetime,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    scope: Scope = EVERYTHING,
) -> list[ExpertCount]:
    """Every active expert (zero included, for fairness) and anyone who held a session."""
    ended = SupportSession.ends_at <= now
    inner = (
        select(
            SessionExpert.user_id.label("user_id"),
            func.count().label("n"),
            func.sum(case((ended, 1), else_=0)).label("held"),
            func.sum(case((ended, SupportSession.hours), else_=0.0)).label("hours"),
        )
        .join(SupportSession, SupportSession.id == SessionExpert.session_id)
        .where(SupportSession.program_id == program_id, NOT_CANCELLED)
        .group_by(SessionExpert.user_id)
    )
    if start is not None:
        inner = inner.where(SupportSession.starts_at >= start)
    if end is not None:
        inner = inner.where(SupportSession.starts_at < end)
    sub = scoped_sessions(inner, scope).subquery()
    q = (
        select(
            User.id,
            User.name,
            User.platform_id,
            func.coalesce(sub.c.n, 0),
            func.coalesce(sub.c.held, 0),
            func.coalesce(sub.c.hours, 0.0),
        )
        .outerjoin(sub, sub.c.user_id == User.id)
        .order_by(User.id)
    )
    everyone = and_(User.role == "expert", User.active.is_(True))
    q = q.where(or_(everyone, sub.c.n > 0) if scope.everything else sub.c.n > 0)
    return [
        ExpertCount(uid, name or pid, int(n), int(h), float(hrs))
        for uid, name, pid, n, h, hrs in (await s.execute(q)).all()
    ]
