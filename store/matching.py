"""Queries behind matching and scheduling: expert load, bookings, per-municipality counts, and
the facts the program rules (store/rules.py) are checked against."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import (
    ExpertProfile,
    SessionExpert,
    SessionMunicipality,
    SupportSession,
    User,
)
from store.rules import ExpertFacts


@dataclass(frozen=True)
class ExpertLoad:
    user: User
    profile: ExpertProfile
    dispatches: int


async def experts_with_load(s: AsyncSession, program_id: str) -> list[ExpertLoad]:
    """Every active expert with the number of this program's sessions they hold."""
    counts = (
        select(SessionExpert.user_id, func.count().label("n"))
        .join(SupportSession, SupportSession.id == SessionExpert.session_id)
        .where(SupportSession.program_id == program_id, SupportSession.status != "cancelled")
        .group_by(SessionExpert.user_id)
        .subquery()
    )
    rows = await s.execute(
        select(User, ExpertProfile, func.coalesce(counts.c.n, 0))
        .join(ExpertProfile, ExpertProfile.user_id == User.id)
        .outerjoin(counts, counts.c.user_id == User.id)
        .where(User.active.is_(True), User.role == "expert")
        .order_by(User.id)
    )
    return [ExpertLoad(u, p, int(n)) for u, p, n in rows.all()]


async def busy_experts(
    s: AsyncSession,
    user_ids: list[int],
    start: dt.datetime,
    end: dt.datetime,
    *,
    exclude_session_id: int | None = None,
) -> set[int]:
    """Experts with a session overlapping [start, end), in any program (other than
    ``exclude_session_id``: a session being moved does not clash with itself)."""
    if not user_ids:
        return set()
    q = (
        select(SessionExpert.user_id)
        .join(SupportSession, SupportSession.id == SessionExpert.session_id)
        .where(
            SessionExpert.user_id.in_(user_ids),
            SupportSession.status != "cancelled",
            SupportSession.starts_at < end,
            SupportSession.ends_at > start,
        )
    )
    if exclude_session_id is not None:
        q = q.where(SupportSession.id != exclude_session_id)
    rows = await s.scalars(q)
    return set(rows.all())


async def municipality_session_counts(
    s: AsyncSession, program_id: str, track_id: str, codes: list[str]
) -> dict[str, int]:
    """Sessions per municipality in a track: a joint session counts once for each."""
    if not codes:
        return {}
    rows = await s.execute(
        select(SessionMunicipality.municipality_code, func.count())
        .join(SupportSession, SupportSession.id == SessionMunicipality.session_id)
        .where(
            SupportSession.program_id == program_id,
            SupportSession.track_id == track_id,
            SupportSession.status != "cancelled",
            SessionMunicipality.municipality_code.in_(codes),
        )
        .group_by(SessionMunicipality.municipality_code)
    )
    counts = {code: 0 for code in codes}
    counts.update({code: int(n) for code, n in rows.all()})
    return counts


def facts_of(user: User, profile: ExpertProfile | None) -> ExpertFacts:
    """An expert as the rules see them; no roster entry means neither on-site nor consent."""
    return ExpertFacts(
        name=user.name or user.platform_id,
        onsite=bool(profile and profile.onsite),
        consent_listed=bool(profile and profile.consent_listed),
    )


async def expert_facts(s: AsyncSession, user_ids: list[int]) -> dict[int, ExpertFacts]:
    """The rule facts of these experts (one statement), keyed by user id."""
    if not user_ids:
        return {}
    rows = await s.execute(
        select(User, ExpertProfile)
        .outerjoin(ExpertProfile, ExpertProfile.user_id == User.id)
        .where(User.id.in_(user_ids))
    )
    return {u.id: facts_of(u, p) for u, p in rows.all()}
