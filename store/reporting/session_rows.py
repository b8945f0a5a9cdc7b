"""Lists of sessions with their people, reports and surveys (a few statements per list,
whatever its length), and the pending reports.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from reminders.clock import JST
from store.models import (
    Case,
    Municipality,
    SessionExpert,
    SessionMunicipality,
    SessionReport,
    SupportSession,
    Survey,
    User,
)
from store.reporting.scoping import NOT_CANCELLED, scoped_sessions
from store.scope import EVERYTHING, Scope


@dataclass
class SessionRow:
    """One session with what every list shows of it (people filled by ``attach_people_for``)."""

    id: int
    case_id: int
    case_no: str
    case_municipality_code: str
    track_id: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    hours: float
    method: str
    place: str
    status: str
    report_due: dt.date
    report_submitted_at: dt.datetime | None
    municipalities: list[tuple[str, str]] = field(default_factory=list)
    experts: list[tuple[int, str]] = field(default_factory=list)
    report: dict[str, Any] | None = None
    report_version: int | None = None
    satisfaction: int | None = None
    resolved: str | None = None
    survey_comment: str = ""
    survey_answered: bool = False

    @property
    def municipality_names(self) -> list[str]:
        return [n for _, n in self.municipalities]

    @property
    def expert_names(self) -> list[str]:
        return [n for _, n in self.experts]


SESSION_COLUMNS = (
    SupportSession.id,
    SupportSession.case_id,
    Case.case_no,
    Case.municipality_code,
    SupportSession.track_id,
    SupportSession.starts_at,
    SupportSession.ends_at,
    SupportSession.hours,
    SupportSession.method,
    SupportSession.place,
    SupportSession.status,
    SupportSession.report_due,
    SupportSession.report_submitted_at,
)


def session_row(r: Sequence[Any]) -> SessionRow:
    return SessionRow(*r[: len(SESSION_COLUMNS)])


def _by_id(rows: list[SessionRow]) -> dict[int, list[SessionRow]]:
    """Rows by session id; one session may be in a list twice (pending and this week)."""
    out: dict[int, list[SessionRow]] = defaultdict(list)
    for r in rows:
        out[r.id].append(r)
    return out


async def attach_people_for(s: AsyncSession, rows: list[SessionRow], ids: Select[Any]) -> None:
    """Municipalities and experts of many sessions: two statements whatever their number.

    ``ids`` selects the same session ids as ``rows`` (a subquery, so a long list never turns
    into thousands of bound parameters).
    """
    if not rows:
        return
    by_id = _by_id(rows)
    munis = await s.execute(
        select(SessionMunicipality.session_id, Municipality.code, Municipality.name)
        .join(Municipality, Municipality.code == SessionMunicipality.municipality_code)
        .where(SessionMunicipality.session_id.in_(ids))
        .order_by(SessionMunicipality.session_id, Municipality.code)
    )
    for sid, code, name in munis.all():
        for r in by_id.get(sid, ()):
            r.municipalities.append((code, name))
    for r in rows:
        # The case's own municipality first, then the others of a joint session.
        own = [m for m in r.municipalities if m[0] == r.case_municipality_code]
        others = [m for m in r.municipalities if m[0] != r.case_municipality_code]
        r.municipalities[:] = own + sorted(others)
    experts = await s.execute(
        select(SessionExpert.session_id, User.id, User.name, User.platform_id)
        .join(User, User.id == SessionExpert.user_id)
        .where(SessionExpert.session_id.in_(ids))
        .order_by(SessionExpert.session_id, User.id)
    )
    for sid, uid, name, pid in experts.all():
        for r in by_id.get(sid, ()):
            r.experts.append((uid, name or pid))


async def attach_reports_and_surveys(
    s: AsyncSession, rows: list[SessionRow], ids: Select[Any]
) -> None:
    if not rows:
        return
    by_id = _by_id(rows)
    reports = await s.execute(
        select(SessionReport.session_id, SessionReport.version, SessionReport.fields).where(
            SessionReport.session_id.in_(ids), SessionReport.is_current.is_(True)
        )
    )
    for sid, version, fields in reports.all():
        for r in by_id.get(sid, ()):
            r.report = dict(fields or {})
            r.report_version = int(version)
    surveys = await s.execute(
        select(
            Survey.session_id,
            Survey.satisfaction,
            Survey.resolved,
            Survey.comment,
            Survey.answered_at,
        ).where(Survey.session_id.in_(ids))
    )
    for sid, sat, res, comment, answered_at in surveys.all():
        for row in by_id.get(sid, ()):
            row.satisfaction, row.resolved = sat, res
            row.survey_comment = comment or ""
            row.survey_answered = answered_at is not None


def _sessions_query(
    program_id: str,
    scope: Scope,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    include_cancelled: bool = True,
) -> Select[*tuple[Any, ...]]:
    q = (
        select(*SESSION_COLUMNS)
        .join(Case, Case.id == SupportSession.case_id)
        .where(SupportSession.program_id == program_id)
    )
    if start is not None:
        q = q.where(SupportSession.starts_at >= start)
    if end is not None:
        q = q.where(SupportSession.starts_at < end)
    if not include_cancelled:
        q = q.where(NOT_CANCELLED)
    return scoped_sessions(q, scope)


async def sessions_between(
    s: AsyncSession,
    program_id: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
    scope: Scope = EVERYTHING,
    *,
    include_cancelled: bool = False,
    with_reports: bool = False,
    limit: int | None = None,
) -> list[SessionRow]:
    """Sessions starting in [start, end) in start order, with their people (and reports)."""
    q = _sessions_query(program_id, scope, start, end, include_cancelled).order_by(
        SupportSession.starts_at, SupportSession.id
    )
    if limit is not None:
        q = q.limit(limit)
    rows = [session_row(r) for r in (await s.execute(q)).all()]
    if limit is not None:
        ids: Select[Any] = select(SupportSession.id).where(
            SupportSession.id.in_([r.id for r in rows])
        )
    else:
        ids = _sessions_query(program_id, scope, start, end, include_cancelled).with_only_columns(
            SupportSession.id
        )
    await attach_people_for(s, rows, ids)
    if with_reports:
        await attach_reports_and_surveys(s, rows, ids)
    return rows


async def first_sessions(
    s: AsyncSession, program_id: str, first: dt.date, last: dt.date, limit: int
) -> list[SessionRow]:
    """The first ``limit`` non-cancelled sessions starting on the JST days first..last; people
    are attached by the caller (``attach_people``)."""
    start = dt.datetime.combine(first, dt.time(0), tzinfo=JST)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=JST)
    q = (
        _sessions_query(program_id, EVERYTHING, start, end, include_cancelled=False)
        # The order of ix_sessions_program_starts_status, so only ``limit`` entries are read
        # (a tie-breaker column would make PostgreSQL sort the whole week first).
        .order_by(SupportSession.program_id, SupportSession.starts_at)
        .limit(limit)
    )
    return [session_row(r) for r in (await s.execute(q)).all()]


async def attach_people(s: AsyncSession, rows: list[SessionRow]) -> None:
    """Municipalities and experts of a short list of sessions (two statements)."""
    ids = select(SupportSession.id).where(SupportSession.id.in_([r.id for r in rows]))
    await attach_people_for(s, rows, ids)


@dataclass(frozen=True)
class PendingReports:
    overdue: int
    due_soon: int
    rows: list[SessionRow]


async def pending_reports(
    s: AsyncSession,
    program_id: str,
    now: dt.datetime,
    today: dt.date,
    due_until: dt.date,
    scope: Scope = EVERYTHING,
    limit: int = 10,
    *,
    people: bool = True,
) -> PendingReports:
    """Held sessions without a report and due by ``due_until``: how many (overdue, and due
    from today on), read from the partial index on the program's pending reports alone, and
    the worst rows (oldest due day first)."""
    pending = and_(
        SupportSession.program_id == program_id,
        SupportSession.report_submitted_at.is_(None),
        NOT_CANCELLED,
        SupportSession.report_due <= due_until,
        SupportSession.ends_at <= now,
    )
    counts_q = select(
        func.coalesce(func.sum(case((SupportSession.report_due < today, 1), else_=0)), 0),
        func.count(),
    ).where(pending)
    overdue, total = (await s.execute(scoped_sessions(counts_q, scope))).one()
    overdue, total = int(overdue), int(total)
    rows_q = (
        select(*SESSION_COLUMNS)
        .join(Case, Case.id == SupportSession.case_id)
        .where(pending)
        # Exactly the order of ix_sessions_program_pending, so the planner reads five index
        # entries; a tie-breaker column makes PostgreSQL scan every program's pending reports.
        .order_by(SupportSession.program_id, SupportSession.report_due, SupportSession.ends_at)
        .limit(limit)
    )
    rows = [session_row(r) for r in (await s.execute(scoped_sessions(rows_q, scope))).all()]
    if people:
        await attach_people(s, rows)
    return PendingReports(overdue, total - overdue, rows)
