"""The rebuild and check of the tallies kept by triggers (migration 0002); the figures read
from them are ``store.reporting.counting``'s.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, case, cast, delete, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import (
    Case,
    SessionExpert,
    SessionMunicipality,
    SessionTally,
    SupportSession,
    Survey,
    SurveyTally,
)
from store.reporting.scoping import NOT_CANCELLED


def _jst_day(s: AsyncSession, column: Any) -> Any:
    """The JST calendar day (YYYY-MM-DD) of a stored time, as migration 0002's triggers key it."""
    if s.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Tokyo", column), "YYYY-MM-DD")
    return func.date(column, "+9 hours")


async def rebuild_tallies(s: AsyncSession) -> None:
    """Recompute the tallies from the rows (what migration 0002 does once).

    The triggers keep them right on every change; this is for repair and for bulk loads that
    bypass the triggers (e.g. `COPY` with triggers disabled)."""
    await s.execute(delete(SessionTally))
    await s.execute(delete(SurveyTally))
    onsite = func.sum(case((SupportSession.method == "onsite", 1), else_=0))
    hours = func.coalesce(func.sum(SupportSession.hours), 0.0)
    columns = ["program_id", "track_id", "dim", "key", "sessions", "hours", "onsite"]
    per_session: list[tuple[str, Any]] = [
        ("track", None),
        ("ends", _jst_day(s, SupportSession.ends_at)),
        ("starts", _jst_day(s, SupportSession.starts_at)),
    ]
    for dim, key in per_session:
        group = [SupportSession.program_id, SupportSession.track_id]
        q = select(
            SupportSession.program_id,
            SupportSession.track_id,
            literal(dim),
            key if key is not None else literal(""),
            func.count(),
            hours,
            onsite,
        ).where(NOT_CANCELLED)
        q = q.group_by(*group, *([key] if key is not None else []))
        await s.execute(insert(SessionTally).from_select(columns, q))
    for table, dim, child_key in (
        (SessionMunicipality, "muni", SessionMunicipality.municipality_code),
        (SessionExpert, "expert", cast(SessionExpert.user_id, String(64))),
    ):
        per_child = (
            select(
                SupportSession.program_id,
                SupportSession.track_id,
                literal(dim),
                child_key,
                func.count(),
                hours,
                onsite,
            )
            .join(table, table.session_id == SupportSession.id)
            .where(NOT_CANCELLED)
            .group_by(SupportSession.program_id, SupportSession.track_id, child_key)
        )
        await s.execute(insert(SessionTally).from_select(columns, per_child))
    per_case = select(
        Case.program_id,
        Case.track_id,
        literal("case"),
        Case.status,
        func.count(),
        literal(0.0),
        literal(0),
    ).group_by(Case.program_id, Case.track_id, Case.status)
    await s.execute(insert(SessionTally).from_select(columns, per_case))
    answered = case((Survey.answered_at.is_(None), 0), else_=1)
    sat, res = func.coalesce(Survey.satisfaction, 0), func.coalesce(Survey.resolved, "")
    surveys = (
        select(SupportSession.program_id, sat, res, answered, func.count())
        .join(SupportSession, SupportSession.id == Survey.session_id)
        .group_by(SupportSession.program_id, sat, res, answered)
    )
    await s.execute(
        insert(SurveyTally).from_select(
            ["program_id", "satisfaction", "resolved", "answered", "n"], surveys
        )
    )


async def tally_rows(s: AsyncSession) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """The non-zero tally rows (for checks that the triggers and a rebuild agree)."""
    sessions = await s.execute(select(SessionTally).where(SessionTally.sessions != 0))
    surveys = await s.execute(select(SurveyTally).where(SurveyTally.n != 0))
    return (
        {
            (t.program_id, t.track_id, t.dim, t.key, t.sessions, round(t.hours, 6), t.onsite)
            for t in sessions.scalars()
        },
        {(t.program_id, t.satisfaction, t.resolved, t.answered, t.n) for t in surveys.scalars()},
    )
