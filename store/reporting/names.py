"""Names and head counts for the exports and decks: people (for anonymising) and users per role.

Municipality names come from ``store.reference`` (re-exported by the package).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Case, User


async def people_names(s: AsyncSession) -> list[str]:
    """Every name a report text might mention (users and requesters), for anonymising."""
    users = (await s.scalars(select(User.name).where(User.name != ""))).all()
    requesters = (
        await s.scalars(select(Case.requester_name).where(Case.requester_name != "").distinct())
    ).all()
    return sorted({*users, *requesters})


async def user_role_counts(s: AsyncSession) -> dict[str, int]:
    """Active users per role (the deck's 推進体制 slide)."""
    rows = await s.execute(
        select(User.role, func.count()).where(User.active.is_(True)).group_by(User.role)
    )
    return {role: int(n) for role, n in rows.all()}
