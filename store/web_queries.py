"""The queries of the web view (issue 18) that `/status` has no use for: a page of the case
list with its filters, whether a case is visible to a scope, a case's report versions, the
monthly trend of held sessions, and the filter choices.

Every read takes the ``Scope`` of ``bot.core.permissions.case_scope`` and applies it with the
same rules as the reporting views (``store.reporting.scoping``), so a page never shows a row
the same person could not see with `/status`.

Indexes used: the case list's default order (case number) reads ``uq_cases_program_id``
(program_id, year, seq); status and municipality filters ``ix_cases_program_status`` and
``ix_cases_program_municipality``; the trend of the whole program reads the trigger-kept
``session_tallies`` (dim 'ends', one row per track and day) and, for today, the sessions that
ended since midnight through ``ix_sessions_program_ends``. The text filter is a substring
match (LIKE) over the case number, description and department: no index serves it (Japanese
search terms are often two characters, too short for a trigram index), its cost is measured in
bench/bench_web.py.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVarTuple

from sqlalchemy import Select, and_, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from reminders.clock import JST
from store.models import (
    Case,
    Municipality,
    SessionExpert,
    SessionReport,
    SessionTally,
    SupportSession,
    User,
)
from store.reporting.counting import CountingWindow
from store.reporting.scoping import NOT_CANCELLED, scoped_cases, scoped_sessions
from store.scope import Scope

PER_PAGE = 50
MAX_TEXT = 100

Sort = Literal["no", "-no", "opened", "-opened", "updated", "-updated", "status", "municipality"]
SORTS: tuple[Sort, ...] = (
    "no",
    "-no",
    "opened",
    "-opened",
    "updated",
    "-updated",
    "status",
    "municipality",
)


@dataclass(frozen=True)
class CaseFilter:
    """What the case list is narrowed to; empty fields do not filter."""

    status: str = ""
    track: str = ""
    municipality: str = ""  # a 6-digit code
    expert: int | None = None  # a user id
    month: str = ""  # YYYY-MM: cases opened that month (JST)
    text: str = ""
    sort: Sort = "no"
    page: int = 1


@dataclass
class CaseListRow:
    """One line of the web view's case list. Not ``reporting.CaseRow``: that one carries each
    case's session figures, which cost a join over every session; the list reads one page of
    cases (50 rows of 100,000) from the cases table and its indexes alone."""

    case_no: str
    track_id: str
    municipality_code: str
    municipality_name: str
    status: str
    domains: list[str]
    description: str
    opened_at: dt.datetime
    updated_at: dt.datetime
    expert_name: str


@dataclass
class CasePage:
    rows: list[CaseListRow]
    total: int
    page: int
    pages: int


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _month_bounds(month: str) -> tuple[dt.datetime, dt.datetime] | None:
    try:
        year, mon = (int(p) for p in month.split("-", 1))
        start = dt.datetime(year, mon, 1, tzinfo=JST)
    except ValueError:
        return None
    end = dt.datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=JST)
    return start, end


_Row = TypeVarTuple("_Row")


def _filtered(q: Select[*_Row], program_id: str, scope: Scope, f: CaseFilter) -> Select[*_Row]:
    q = q.where(Case.program_id == program_id)
    if f.status:
        q = q.where(Case.status == f.status)
    if f.track:
        q = q.where(Case.track_id == f.track)
    if f.municipality:
        q = q.where(Case.municipality_code == f.municipality)
    if f.expert is not None:
        q = q.where(
            or_(
                Case.approved_expert_user_id == f.expert,
                Case.id.in_(
                    select(SupportSession.case_id)
                    .join(SessionExpert, SessionExpert.session_id == SupportSession.id)
                    .where(SessionExpert.user_id == f.expert)
                ),
            )
        )
    if f.month:
        bounds = _month_bounds(f.month)
        if bounds is not None:
            q = q.where(Case.opened_at >= bounds[0], Case.opened_at < bounds[1])
    text = f.text.strip()[:MAX_TEXT]
    if text:
        pattern = _like(text)
        q = q.where(
            or_(
                Case.case_no.like(pattern, escape="\\"),
                Case.description.like(pattern, escape="\\"),
                Case.department.like(pattern, escape="\\"),
            )
        )
    return scoped_cases(q, scope)


_ORDER: dict[str, tuple[Any, ...]] = {
    "no": (Case.year, Case.seq),
    "-no": (Case.year.desc(), Case.seq.desc()),
    "opened": (Case.opened_at, Case.id),
    "-opened": (Case.opened_at.desc(), Case.id.desc()),
    "updated": (Case.updated_at, Case.id),
    "-updated": (Case.updated_at.desc(), Case.id.desc()),
    "status": (Case.status, Case.year, Case.seq),
    "municipality": (Case.municipality_code, Case.year, Case.seq),
}


async def case_page(
    s: AsyncSession, program_id: str, scope: Scope, f: CaseFilter, per_page: int = PER_PAGE
) -> CasePage:
    """One page of the case list and the number of cases the filters leave."""
    total = int(
        await s.scalar(_filtered(select(func.count()).select_from(Case), program_id, scope, f)) or 0
    )
    pages = max(1, -(-total // per_page))
    page = min(max(1, f.page), pages)
    q = (
        select(
            Case.case_no,
            Case.track_id,
            Case.municipality_code,
            Municipality.name,
            Case.status,
            Case.domains,
            Case.description,
            Case.opened_at,
            Case.updated_at,
            func.coalesce(User.name, ""),
        )
        .join(Municipality, Municipality.code == Case.municipality_code)
        .outerjoin(User, User.id == Case.approved_expert_user_id)
    )
    q = _filtered(q, program_id, scope, f).order_by(*_ORDER.get(f.sort, _ORDER["no"]))
    q = q.limit(per_page).offset((page - 1) * per_page)
    rows = [
        CaseListRow(
            r[0], r[1], r[2], r[3], r[4], list(r[5] or []), r[6] or "", r[7], r[8], r[9] or ""
        )
        for r in (await s.execute(q)).all()
    ]
    return CasePage(rows, total, page, pages)


async def visible_case_id(
    s: AsyncSession, program_id: str, case_no: str, scope: Scope
) -> int | None:
    """The id of the case with this number in the program, if the scope may see it."""
    q = select(Case.id).where(Case.program_id == program_id, Case.case_no == case_no[:24])
    found = await s.scalar(scoped_cases(q, scope))
    return None if found is None else int(found)


@dataclass(frozen=True)
class ReportVersion:
    session_id: int
    version: int
    is_current: bool
    fields: dict[str, Any]
    author: str
    created_at: dt.datetime


async def report_versions(s: AsyncSession, case_id: int) -> dict[int, list[ReportVersion]]:
    """Every version of every report of a case's sessions, by session id, oldest first."""
    q = (
        select(
            SessionReport.session_id,
            SessionReport.version,
            SessionReport.is_current,
            SessionReport.fields,
            func.coalesce(User.name, ""),
            SessionReport.created_at,
        )
        .join(SupportSession, SupportSession.id == SessionReport.session_id)
        .outerjoin(User, User.id == SessionReport.author_user_id)
        .where(SupportSession.case_id == case_id)
        .order_by(SessionReport.session_id, SessionReport.version)
    )
    out: dict[int, list[ReportVersion]] = defaultdict(list)
    for r in (await s.execute(q)).all():
        out[int(r[0])].append(
            ReportVersion(int(r[0]), int(r[1]), bool(r[2]), dict(r[3] or {}), r[4], r[5])
        )
    return dict(out)


@dataclass
class Trend:
    """Held sessions per month (YYYY-MM, JST, by the day a session ended) and track."""

    months: list[str]
    by_track: dict[str, dict[str, int]] = field(default_factory=dict)

    def total(self, month: str) -> int:
        return sum(t.get(month, 0) for t in self.by_track.values())


def _months(first: dt.date, last: dt.date) -> list[str]:
    out = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = y + (m == 12), m % 12 + 1
    return out


async def monthly_trend(
    s: AsyncSession, program_id: str, window: CountingWindow, now: dt.datetime, scope: Scope
) -> Trend:
    """Held sessions per month of the term. The whole program reads the tallies (a row per
    track and day) for the days before today and today's ended sessions directly; a scoped
    view (one municipality, one expert) aggregates its few sessions directly."""
    today = now.astimezone(JST).date()
    last = min(window.last, today)
    trend = Trend(_months(window.first, max(window.first, last)))
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    start, end = window.bounds()
    if scope.everything:
        # Literals, not bound parameters: PostgreSQL must see the same expression in GROUP BY.
        month_of_key = func.substr(SessionTally.key, literal_column("1"), literal_column("7"))
        q = (
            select(
                SessionTally.track_id,
                month_of_key,
                func.sum(SessionTally.sessions),
            )
            .where(
                SessionTally.program_id == program_id,
                SessionTally.dim == "ends",
                SessionTally.key >= window.first.isoformat(),
                SessionTally.key < today.isoformat(),
                SessionTally.key <= window.last.isoformat(),
            )
            .group_by(SessionTally.track_id, month_of_key)
        )
        for track, month, n in (await s.execute(q)).all():
            counts[track][month] += int(n or 0)
        if window.first <= today <= window.last:
            midnight = dt.datetime.combine(today, dt.time(0), tzinfo=JST)
            q2 = (
                select(SupportSession.track_id, func.count())
                .where(
                    SupportSession.program_id == program_id,
                    SupportSession.ends_at >= midnight,
                    SupportSession.ends_at <= now,
                    NOT_CANCELLED,
                )
                .group_by(SupportSession.track_id)
            )
            for track, n in (await s.execute(q2)).all():
                counts[track][today.strftime("%Y-%m")] += int(n)
    else:
        q3 = scoped_sessions(
            select(SupportSession.track_id, SupportSession.ends_at).where(
                SupportSession.program_id == program_id,
                NOT_CANCELLED,
                SupportSession.ends_at <= now,
                and_(SupportSession.starts_at >= start, SupportSession.starts_at < end),
            ),
            scope,
        )
        for track, ends_at in (await s.execute(q3)).all():
            counts[track][ends_at.astimezone(JST).strftime("%Y-%m")] += 1
    trend.by_track = {k: dict(v) for k, v in counts.items()}
    return trend


@dataclass(frozen=True)
class Option:
    value: str
    label: str


async def filter_choices(
    s: AsyncSession, program_id: str, scope: Scope
) -> tuple[list[Option], list[Option]]:
    """The municipalities and experts the case list can be filtered by, within the scope: the
    municipalities of the program's cases, the experts assigned to them."""
    munis_q = scoped_cases(
        select(Case.municipality_code).where(Case.program_id == program_id).distinct(), scope
    ).subquery()
    munis = await s.execute(
        select(Municipality.code, Municipality.name)
        .where(Municipality.code.in_(select(munis_q.c.municipality_code)))
        .order_by(Municipality.code)
    )
    experts_q = select(User.id, User.name, User.platform_id).where(
        User.role == "expert", User.active.is_(True)
    )
    if not scope.everything:  # only the experts of the sessions the scope sees
        seen = scoped_sessions(
            select(SessionExpert.user_id)
            .join(SupportSession, SupportSession.id == SessionExpert.session_id)
            .where(SupportSession.program_id == program_id),
            scope,
        )
        experts_q = experts_q.where(User.id.in_(seen))
    experts = await s.execute(experts_q.order_by(User.id))
    expert_options = [Option(str(r[0]), r[1] or r[2]) for r in experts.all()]
    return [Option(r[0], r[1]) for r in munis.all()], expert_options
