"""Cases per status over a scope (one GROUP BY statement). Session figures are counted by
``store.reporting.counting``, the one rule every view shares.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Case
from store.reporting.scoping import scoped_cases
from store.scope import EVERYTHING, Scope


async def case_status_counts(
    s: AsyncSession, program_id: str, scope: Scope = EVERYTHING
) -> dict[str, int]:
    q = select(Case.status, func.count()).where(Case.program_id == program_id).group_by(Case.status)
    return {st: int(n) for st, n in (await s.execute(scoped_cases(q, scope))).all()}
