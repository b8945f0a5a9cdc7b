"""Cases with their municipality, expert and session totals (the 管理表 and export rows), and
one case's detail with its sessions and status history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Case, Municipality, StatusChange, SupportSession, User
from store.reporting.counting import CountingWindow
from store.reporting.scoping import NOT_CANCELLED, scoped_cases
from store.reporting.session_rows import (
    SESSION_COLUMNS,
    SessionRow,
    attach_people_for,
    attach_reports_and_surveys,
    session_row,
)
from store.scope import EVERYTHING, Scope


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
    sessions: int = 0  # held + scheduled in the term (``store.reporting.counting``)
    held: int = 0
    hours_held: float = 0.0
    scheduled: int = 0
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
    window: CountingWindow | None = None,
) -> list[CaseRow]:
    """Cases with their municipality, expert and session totals, in case-number order.

    Sessions count by ``store.reporting.counting``'s rule: held or scheduled, and only those
    in ``window`` (the term) when it is given."""
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
    if window is not None:
        start, end = window.bounds()
        per_case_q = per_case_q.where(
            SupportSession.starts_at >= start, SupportSession.starts_at < end
        )
    if case_id is not None or not scope.everything:
        # Aggregate only the sessions of the cases listed, not the whole program's.
        wanted = select(Case.id).where(Case.program_id == program_id)
        if case_id is not None:
            wanted = wanted.where(Case.id == case_id)
        per_case_q = per_case_q.where(SupportSession.case_id.in_(scoped_cases(wanted, scope)))
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
    for result in (await s.execute(scoped_cases(q, scope))).all():
        r: tuple[Any, ...] = tuple(result)
        row = CaseRow(*r[:14])
        row.approved_expert, row.sessions, row.held = r[14], int(r[15]), int(r[16])
        row.hours_held = float(r[17] or 0)
        row.scheduled = row.sessions - row.held
        row.next_session_at = _aware(r[18])
        row.last_session_at = _aware(r[19])
        row.domains = list(row.domains or [])
        out.append(row)
    return out


def _aware(value: Any) -> dt.datetime | None:
    """min()/max() over a CASE lose the column type on SQLite: parse and attach UTC again."""
    if value is None:
        return None
    at: dt.datetime = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if at.tzinfo is None:
        return at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC)


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
    s: AsyncSession,
    program_id: str,
    case_id: int,
    now: dt.datetime,
    window: CountingWindow | None = None,
) -> CaseDetail | None:
    """One case with its sessions (people, report, survey) and its status history; its totals
    count the sessions in ``window`` (the term) when it is given."""
    found = await case_rows(s, program_id, now, case_id=case_id, window=window)
    if not found:
        return None
    q = (
        select(*SESSION_COLUMNS)
        .join(Case, Case.id == SupportSession.case_id)
        .where(SupportSession.case_id == case_id)
        .order_by(SupportSession.starts_at, SupportSession.id)
    )
    rows = [session_row(r) for r in (await s.execute(q)).all()]
    ids = select(SupportSession.id).where(SupportSession.case_id == case_id)
    await attach_people_for(s, rows, ids)
    await attach_reports_and_surveys(s, rows, ids)
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
