"""Survey summaries: answered surveys by satisfaction and resolution, and the average."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import SupportSession, Survey, SurveyTally
from store.reporting.scoping import scoped_sessions
from store.scope import EVERYTHING, Scope


@dataclass(frozen=True)
class SurveySummary:
    answered: int
    average: float | None
    by_satisfaction: dict[int, int]
    by_resolved: dict[str, int]
    requested_unanswered: int = 0


async def survey_summary(
    s: AsyncSession,
    program_id: str,
    scope: Scope = EVERYTHING,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> SurveySummary:
    """Answered surveys grouped by (satisfaction, resolved); the average is exact from them.
    The whole program's figures come from the survey tallies."""
    if scope.everything and start is None and end is None:
        rows = await s.execute(
            select(
                SurveyTally.satisfaction, SurveyTally.resolved, SurveyTally.answered, SurveyTally.n
            ).where(SurveyTally.program_id == program_id, SurveyTally.n != 0)
        )
        return _survey_summary(
            (sat or None, res or None, ans, n) for sat, res, ans, n in rows.all()
        )
    q = (
        select(
            Survey.satisfaction,
            Survey.resolved,
            case((Survey.answered_at.is_(None), 0), else_=1).label("answered"),
            func.count(),
        )
        .join(SupportSession, SupportSession.id == Survey.session_id)
        .where(SupportSession.program_id == program_id)
        .group_by(Survey.satisfaction, Survey.resolved, literal_column("answered"))
    )
    if start is not None:
        q = q.where(SupportSession.starts_at >= start)
    if end is not None:
        q = q.where(SupportSession.starts_at < end)
    return _survey_summary((await s.execute(scoped_sessions(q, scope))).all())


def _survey_summary(rows: Iterable[Sequence[Any]]) -> SurveySummary:
    by_sat: dict[int, int] = defaultdict(int)
    by_res: dict[str, int] = defaultdict(int)
    answered = unanswered = 0
    for sat, res, was_answered, n in rows:
        if not was_answered:
            unanswered += int(n)
            continue
        answered += int(n)
        if sat is not None:
            by_sat[int(sat)] += int(n)
        if res:
            by_res[str(res)] += int(n)
    rated = sum(by_sat.values())
    average = sum(k * v for k, v in by_sat.items()) / rated if rated else None
    return SurveySummary(answered, average, dict(by_sat), dict(by_res), unanswered)
