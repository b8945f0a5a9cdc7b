"""The queries behind `/status`, the exports and the decks: the only SQL of the reporting views.

Every view is a handful of set-based statements (GROUP BY in the database, people and
municipalities of many sessions fetched in one statement each), never one query per row, so
the cost of `/status` does not grow with the number of rows it lists.

Counting rules, shared by every view so the chat, the exports and the decks agree:

- A session is *held* when it is not cancelled and its end time has passed; *planned* when it
  is not cancelled and has not ended. A joint session for several municipalities is one row in
  ``sessions``, so it counts once toward its track's total (Kumamoto §2.4), and once toward
  each participating municipality's count (the same rule as the per-municipality cap in
  ``store.matching``).
- A report is *pending* for a held session with no report yet; it is *overdue* once its due
  day has passed.
- Survey averages use the answered surveys only.

Rows are returned as plain dataclasses (never ORM objects), so nothing can lazy-load later.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Select,
    String,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from reminders.clock import JST
from store.models import (
    Case,
    Municipality,
    SessionExpert,
    SessionMunicipality,
    SessionReport,
    SessionTally,
    StatusChange,
    SupportSession,
    Survey,
    SurveyTally,
    User,
)
from store.scope import EVERYTHING, Scope

# A literal (not a bound parameter), so SQLite and PostgreSQL can match it against the
# predicate of the partial index ``ix_sessions_report_pending``.
NOT_CANCELLED = SupportSession.status != literal_column("'cancelled'")


def _scoped_sessions(q: Select[Any], scope: Scope) -> Select[Any]:
    """Restrict a query over ``sessions`` to the sessions a scope may see."""
    if scope.municipality_code is not None:
        q = q.where(
            SupportSession.id.in_(
                select(SessionMunicipality.session_id).where(
                    SessionMunicipality.municipality_code == scope.municipality_code
                )
            )
        )
    if scope.expert_user_id is not None:
        q = q.where(
            SupportSession.id.in_(
                select(SessionExpert.session_id).where(
                    SessionExpert.user_id == scope.expert_user_id
                )
            )
        )
    return q


def _scoped_cases(q: Select[Any], scope: Scope) -> Select[Any]:
    """Restrict a query over ``cases``: a municipality sees its own cases and the cases whose
    sessions it joined; an expert the cases assigned to them or whose sessions they hold."""
    if scope.municipality_code is not None:
        code = scope.municipality_code
        q = q.where(
            or_(
                Case.municipality_code == code,
                Case.id.in_(
                    select(SupportSession.case_id)
                    .join(SessionMunicipality, SessionMunicipality.session_id == SupportSession.id)
                    .where(SessionMunicipality.municipality_code == code)
                ),
            )
        )
    if scope.expert_user_id is not None:
        uid = scope.expert_user_id
        q = q.where(
            or_(
                Case.approved_expert_user_id == uid,
                Case.id.in_(
                    select(SupportSession.case_id)
                    .join(SessionExpert, SessionExpert.session_id == SupportSession.id)
                    .where(SessionExpert.user_id == uid)
                ),
            )
        )
    return q


# --- tracks, cases, surveys: aggregates ----------------------------------------------------------


@dataclass(frozen=True)
class TrackCount:
    track_id: str
    held: int = 0
    planned: int = 0
    hours_held: float = 0.0
    onsite_held: int = 0


def _hours(value: float) -> float:
    """Differences of float sums: drop the binary noise (hours come in quarter hours)."""
    return round(value, 6) + 0.0


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
    rows = (await s.execute(_scoped_sessions(q, scope))).all()
    return {
        tid: TrackCount(tid, int(h or 0), int(p or 0), float(hrs or 0), int(on or 0))
        for tid, h, p, hrs, on in rows
    }


async def case_status_counts(
    s: AsyncSession, program_id: str, scope: Scope = EVERYTHING
) -> dict[str, int]:
    q = select(Case.status, func.count()).where(Case.program_id == program_id).group_by(Case.status)
    return {st: int(n) for st, n in (await s.execute(_scoped_cases(q, scope))).all()}


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
    return _survey_summary((await s.execute(_scoped_sessions(q, scope))).all())


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


# --- municipalities and experts -------------------------------------------------------------------


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
    sub = _scoped_sessions(inner, Scope(expert_user_id=scope.expert_user_id)).subquery()
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
    sub = _scoped_sessions(inner, scope).subquery()
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


# --- the whole program, from the tallies ----------------------------------------------------------


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
    names = dict(
        (
            await s.execute(
                select(Municipality.code, Municipality.name).where(
                    Municipality.code.in_({code for _, code, _ in live})
                )
            )
        ).all()
    )
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


# --- lists of sessions ----------------------------------------------------------------------------


@dataclass
class SessionRow:
    """One session with what every list shows of it (people filled by ``_attach_people``)."""

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


_SESSION_COLUMNS = (
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


def _session_row(r: Sequence[Any]) -> SessionRow:
    return SessionRow(*r[: len(_SESSION_COLUMNS)])


def _by_id(rows: list[SessionRow]) -> dict[int, list[SessionRow]]:
    """Rows by session id; one session may be in a list twice (pending and this week)."""
    out: dict[int, list[SessionRow]] = defaultdict(list)
    for r in rows:
        out[r.id].append(r)
    return out


async def _attach_people(s: AsyncSession, rows: list[SessionRow], ids: Select[Any]) -> None:
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
        r.municipalities.sort(key=lambda m, r=r: (m[0] != r.case_municipality_code, m[0]))
    experts = await s.execute(
        select(SessionExpert.session_id, User.id, User.name, User.platform_id)
        .join(User, User.id == SessionExpert.user_id)
        .where(SessionExpert.session_id.in_(ids))
        .order_by(SessionExpert.session_id, User.id)
    )
    for sid, uid, name, pid in experts.all():
        for r in by_id.get(sid, ()):
            r.experts.append((uid, name or pid))


async def _attach_reports_and_surveys(
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
) -> Select[Any]:
    q = (
        select(*_SESSION_COLUMNS)
        .join(Case, Case.id == SupportSession.case_id)
        .where(SupportSession.program_id == program_id)
    )
    if start is not None:
        q = q.where(SupportSession.starts_at >= start)
    if end is not None:
        q = q.where(SupportSession.starts_at < end)
    if not include_cancelled:
        q = q.where(NOT_CANCELLED)
    return _scoped_sessions(q, scope)


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
    rows = [_session_row(r) for r in (await s.execute(q)).all()]
    if limit is not None:
        ids: Select[Any] = select(SupportSession.id).where(
            SupportSession.id.in_([r.id for r in rows])
        )
    else:
        ids = _sessions_query(program_id, scope, start, end, include_cancelled).with_only_columns(
            SupportSession.id
        )
    await _attach_people(s, rows, ids)
    if with_reports:
        await _attach_reports_and_surveys(s, rows, ids)
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
    return [_session_row(r) for r in (await s.execute(q)).all()]


async def attach_people(s: AsyncSession, rows: list[SessionRow]) -> None:
    """Municipalities and experts of a short list of sessions (two statements)."""
    ids = select(SupportSession.id).where(SupportSession.id.in_([r.id for r in rows]))
    await _attach_people(s, rows, ids)


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
    overdue, total = (await s.execute(_scoped_sessions(counts_q, scope))).one()
    overdue, total = int(overdue), int(total)
    rows_q = (
        select(*_SESSION_COLUMNS)
        .join(Case, Case.id == SupportSession.case_id)
        .where(pending)
        # Exactly the order of ix_sessions_program_pending, so the planner reads five index
        # entries; a tie-breaker column makes PostgreSQL scan every program's pending reports.
        .order_by(SupportSession.program_id, SupportSession.report_due, SupportSession.ends_at)
        .limit(limit)
    )
    rows = [_session_row(r) for r in (await s.execute(_scoped_sessions(rows_q, scope))).all()]
    if people:
        await attach_people(s, rows)
    return PendingReports(overdue, total - overdue, rows)


# --- cases ----------------------------------------------------------------------------------------


@dataclass
class CaseRow:
    id: int
    case_no: str
    track_id: str
    municipality_code: str
    municipality_name: str
    status: str
    domains: list[str]
    description: str
    department: str
    requester_name: str
    requester_title: str
    preferred_method: str
    opened_at: dt.datetime
    updated_at: dt.datetime
    approved_expert: str = ""
    sessions: int = 0
    held: int = 0
    hours_held: float = 0.0
    next_session_at: dt.datetime | None = None
    last_session_at: dt.datetime | None = None


async def case_rows(
    s: AsyncSession,
    program_id: str,
    now: dt.datetime,
    scope: Scope = EVERYTHING,
    *,
    open_only: bool = False,
    limit: int | None = None,
    case_id: int | None = None,
) -> list[CaseRow]:
    """Cases with their municipality, expert and session totals, in case-number order."""
    ended = SupportSession.ends_at <= now
    per_case_q = (
        select(
            SupportSession.case_id.label("case_id"),
            func.count().label("n"),
            func.sum(case((ended, 1), else_=0)).label("held"),
            func.sum(case((ended, SupportSession.hours), else_=0.0)).label("hours"),
            func.min(case((ended, None), else_=SupportSession.starts_at)).label("next_at"),
            func.max(case((ended, SupportSession.starts_at), else_=None)).label("last_at"),
        )
        .where(SupportSession.program_id == program_id, NOT_CANCELLED)
        .group_by(SupportSession.case_id)
    )
    if case_id is not None or not scope.everything:
        # Aggregate only the sessions of the cases listed, not the whole program's.
        wanted = select(Case.id).where(Case.program_id == program_id)
        if case_id is not None:
            wanted = wanted.where(Case.id == case_id)
        per_case_q = per_case_q.where(SupportSession.case_id.in_(_scoped_cases(wanted, scope)))
    per_case = per_case_q.subquery()
    expert = select(User.id, User.name, User.platform_id).subquery()
    q = (
        select(
            Case.id,
            Case.case_no,
            Case.track_id,
            Case.municipality_code,
            Municipality.name,
            Case.status,
            Case.domains,
            Case.description,
            Case.department,
            Case.requester_name,
            Case.requester_title,
            Case.preferred_method,
            Case.opened_at,
            Case.updated_at,
            func.coalesce(expert.c.name, ""),
            func.coalesce(per_case.c.n, 0),
            func.coalesce(per_case.c.held, 0),
            func.coalesce(per_case.c.hours, 0.0),
            per_case.c.next_at,
            per_case.c.last_at,
        )
        .join(Municipality, Municipality.code == Case.municipality_code)
        .outerjoin(per_case, per_case.c.case_id == Case.id)
        .outerjoin(expert, expert.c.id == Case.approved_expert_user_id)
        .where(Case.program_id == program_id)
        .order_by(Case.year, Case.seq)
    )
    if open_only:
        q = q.where(Case.status.not_in(("closed", "withdrawn")))
    if case_id is not None:
        q = q.where(Case.id == case_id)
    if limit is not None:
        q = q.limit(limit)
    out = []
    for r in (await s.execute(_scoped_cases(q, scope))).all():
        row = CaseRow(*r[:14], approved_expert=r[14], sessions=int(r[15]), held=int(r[16]))
        row.hours_held = float(r[17] or 0)
        row.next_session_at = _aware(r[18])
        row.last_session_at = _aware(r[19])
        row.domains = list(row.domains or [])
        out.append(row)
    return out


def _aware(value: Any) -> dt.datetime | None:
    """min()/max() over a CASE lose the column type on SQLite: parse and attach UTC again."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


@dataclass(frozen=True)
class HistoryRow:
    at: dt.datetime
    from_status: str | None
    to_status: str
    actor_label: str
    reason: str


@dataclass
class CaseDetail:
    case: CaseRow
    sessions: list[SessionRow]
    history: list[HistoryRow]


async def case_detail(
    s: AsyncSession, program_id: str, case_id: int, now: dt.datetime
) -> CaseDetail | None:
    """One case with its sessions (people, report, survey) and its status history."""
    found = await case_rows(s, program_id, now, case_id=case_id)
    if not found:
        return None
    q = (
        select(*_SESSION_COLUMNS)
        .join(Case, Case.id == SupportSession.case_id)
        .where(SupportSession.case_id == case_id)
        .order_by(SupportSession.starts_at, SupportSession.id)
    )
    rows = [_session_row(r) for r in (await s.execute(q)).all()]
    ids = select(SupportSession.id).where(SupportSession.case_id == case_id)
    await _attach_people(s, rows, ids)
    await _attach_reports_and_surveys(s, rows, ids)
    history = await s.execute(
        select(
            StatusChange.at,
            StatusChange.from_status,
            StatusChange.to_status,
            StatusChange.actor_label,
            StatusChange.reason,
        )
        .where(StatusChange.case_id == case_id)
        .order_by(StatusChange.at, StatusChange.id)
    )
    return CaseDetail(found[0], rows, [HistoryRow(*h) for h in history.all()])


# --- export rows ----------------------------------------------------------------------------------


async def people_names(s: AsyncSession) -> list[str]:
    """Every name a report text might mention (users and requesters), for anonymising."""
    users = (await s.scalars(select(User.name).where(User.name != ""))).all()
    requesters = (
        await s.scalars(select(Case.requester_name).where(Case.requester_name != "").distinct())
    ).all()
    return sorted({*users, *requesters})


async def municipality_names(s: AsyncSession, prefecture_code: str) -> dict[str, str]:
    rows = await s.execute(
        select(Municipality.code, Municipality.name).where(
            Municipality.prefecture_code == prefecture_code
        )
    )
    return {code: name for code, name in rows.all()}


async def municipality_name(s: AsyncSession, code: str) -> str | None:
    return await s.scalar(select(Municipality.name).where(Municipality.code == code))


async def user_role_counts(s: AsyncSession) -> dict[str, int]:
    """Active users per role (the deck's 推進体制 slide)."""
    rows = await s.execute(
        select(User.role, func.count()).where(User.active.is_(True)).group_by(User.role)
    )
    return {role: int(n) for role, n in rows.all()}


# --- the tallies ------------------------------------------------------------------------------------


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
