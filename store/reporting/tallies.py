"""The whole program's figures from the tallies kept by triggers (migration 0002), and the
rebuild and check of those tallies.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, case, cast, delete, func, insert, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from reminders.clock import JST
from store.models import (
    Case,
    SessionExpert,
    SessionMunicipality,
    SessionTally,
    SupportSession,
    Survey,
    SurveyTally,
    User,
)
from store.reference import names_by_code
from store.reporting.counts import ExpertCount, MunicipalityCount, TrackCount
from store.reporting.scoping import NOT_CANCELLED


@dataclass(frozen=True)
class ProgramTallies:
    """The figures of a program's `/status`, read from ``session_tallies`` (kept by triggers)
    plus the sessions that ended today: their cost does not grow with the year's sessions."""

    tracks: dict[str, TrackCount]
    cases_by_status: dict[str, int]
    sessions_in_days: int  # non-cancelled sessions starting on the days asked for
    municipalities: list[MunicipalityCount]  # held = -1: caps count planned sessions too
    experts: list[ExpertCount]  # held = -1: fairness counts every assigned session


async def program_tallies(
    s: AsyncSession, program_id: str, now: dt.datetime, first: dt.date, last: dt.date
) -> ProgramTallies:
    """Four statements: the tallies (summed per track and dimension; per municipality, expert
    and case status), the sessions that ended today, the municipalities' names and the experts.

    A track's held sessions are those that ended before today (the 'ends' tallies) plus those
    that ended today so far; its planned sessions are the rest of its total.
    """
    today = now.astimezone(JST).date()
    keyed = SessionTally.dim.in_(("muni", "expert", "case"))
    key = case((keyed, SessionTally.key), else_=literal(""))
    tallied = await s.execute(
        select(
            SessionTally.dim,
            SessionTally.track_id,
            key,
            func.sum(SessionTally.sessions),
            func.sum(SessionTally.hours),
            func.sum(SessionTally.onsite),
        )
        .where(
            SessionTally.program_id == program_id,
            or_(
                SessionTally.dim.in_(("track", "muni", "expert", "case")),
                and_(SessionTally.dim == "ends", SessionTally.key < today.isoformat()),
                and_(
                    SessionTally.dim == "starts",
                    SessionTally.key >= first.isoformat(),
                    SessionTally.key <= last.isoformat(),
                ),
            ),
        )
        .group_by(SessionTally.dim, SessionTally.track_id, key)
    )
    by_dim: dict[str, list[tuple[str, str, int, float, int]]] = defaultdict(list)
    for dim, tid, k, n, hours, onsite in tallied.all():
        by_dim[dim].append((tid, k, int(n or 0), float(hours or 0), int(onsite or 0)))
    return ProgramTallies(
        tracks=await _tracks(s, program_id, now, by_dim),
        cases_by_status=_sum_by_key(by_dim["case"]),
        sessions_in_days=sum(n for _, _, n, _, _ in by_dim["starts"]),
        municipalities=await _named_municipalities(s, by_dim["muni"]),
        experts=await _roster(s, _sum_by_key(by_dim["expert"])),
    )


def _sum_by_key(rows: list[tuple[str, str, int, float, int]]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for _tid, k, n, _h, _o in rows:
        out[k] += n
    return {k: n for k, n in out.items() if n}


async def _tracks(
    s: AsyncSession,
    program_id: str,
    now: dt.datetime,
    by_dim: dict[str, list[tuple[str, str, int, float, int]]],
) -> dict[str, TrackCount]:
    midnight = dt.datetime.combine(now.astimezone(JST).date(), dt.time(0), tzinfo=JST)
    ended_today = await s.execute(  # an index range of a few rows (ix_sessions_program_ends)
        select(
            SupportSession.track_id,
            func.count(),
            func.coalesce(func.sum(SupportSession.hours), 0.0),
            func.sum(case((SupportSession.method == "onsite", 1), else_=0)),
        )
        .where(
            SupportSession.program_id == program_id,
            SupportSession.ends_at >= midnight,
            SupportSession.ends_at <= now,
            NOT_CANCELLED,
        )
        .group_by(SupportSession.track_id)
    )
    held: dict[str, tuple[int, float, int]] = {
        tid: (n, h, o) for tid, _k, n, h, o in by_dim["ends"]
    }
    for tid, n, hours, onsite in ended_today.all():
        hn, hh, ho = held.get(tid, (0, 0.0, 0))
        held[tid] = (hn + int(n), hh + float(hours), ho + int(onsite or 0))
    out = {}
    for tid, _k, total, _h, _o in by_dim["track"]:
        hn, hh, ho = held.get(tid, (0, 0.0, 0))
        if total:
            out[tid] = TrackCount(tid, hn, total - hn, _hours(hh), ho)
    return out


async def _named_municipalities(
    s: AsyncSession, rows: list[tuple[str, str, int, float, int]]
) -> list[MunicipalityCount]:
    live = [(tid, code, n) for tid, code, n, _h, _o in rows if n > 0]
    names = await names_by_code(s, {code for _, code, _ in live})
    out = [MunicipalityCount(tid, code, names.get(code, code), n, -1) for tid, code, n in live]
    return sorted(out, key=lambda r: (r.track_id, -r.sessions, r.code))


async def _roster(s: AsyncSession, sessions: dict[str, int]) -> list[ExpertCount]:
    """Every active expert with their count (zero included) and anyone else who has one."""
    ids = [int(k) for k in sessions]
    people = await s.execute(
        select(User.id, User.name, User.platform_id)
        .where(or_(and_(User.role == "expert", User.active.is_(True)), User.id.in_(ids)))
        .order_by(User.id)
    )
    return [
        ExpertCount(uid, name or pid, sessions.get(str(uid), 0), -1, -1.0)
        for uid, name, pid in people.all()
    ]


def _hours(value: float) -> float:
    """Differences of float sums: drop the binary noise (hours come in quarter hours)."""
    return round(value, 6) + 0.0


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
