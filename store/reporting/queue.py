"""The desk's queue: everything that waits for someone's action, with since when.

Seven kinds of wait (``WAIT_KINDS``), each read with one set-based statement over an index, the
people and municipalities of all of them fetched by key afterwards (never one query per row):

- ``match``: a consultation not yet matched — received, or back in 調整中 after the
  prefecture rejected a proposal (no proposal, no approved expert). Since it was opened; the
  desk holds it. (``ix_cases_program_status``)
- ``approval``: a proposed expert awaiting the prefecture's approval (``match_state``
  'proposed'). Since the case last changed (the proposal). The prefecture holds it.
- ``schedule``: an accepted case (expert approved, 調整中) with no session booked or held
  (cancelled ones do not count). Since the case last changed (the approval). The desk holds it.
- ``report``: a session that has ended with no report handed in (or one sent back). Since the
  session ended; its experts hold it. (the partial index ``ix_sessions_program_pending``)
- ``review``: a report handed in that waits for the desk's review (tracks with a review step).
  Since the hand-in; the desk holds it.
- ``survey``: a survey asked of the municipality (the report of a 報告済 case has reached its
  receiver) and not answered. Since it was asked; the municipality holds it.
- ``deliverable``: a deliverable item not done whose due day is on or before ``until``. Since
  its due day (00:00 JST); the desk holds it. It has no case: its readable id is D<id>.

Rows are plain dataclasses. Scoped by ``store.scope.Scope``: a municipality sees the waits of its
own cases and sessions, an expert those of the cases assigned to them; deliverables belong to
the program and are listed only for the whole program.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from reminders.clock import JST
from store.models import (
    Case,
    DeliverableItem,
    Municipality,
    SessionExpert,
    SupportSession,
    Survey,
    User,
)
from store.reporting.scoping import NOT_CANCELLED, scoped_cases, scoped_sessions
from store.scope import EVERYTHING, Scope
from store.sessions import REVIEW

WaitKind = Literal["match", "approval", "schedule", "report", "review", "survey", "deliverable"]
WAIT_KINDS: tuple[WaitKind, ...] = (
    "match",
    "approval",
    "schedule",
    "report",
    "review",
    "survey",
    "deliverable",
)
Holder = Literal["staff", "prefecture", "expert", "officer"]
HOLDERS: dict[WaitKind, Holder] = {
    "match": "staff",
    "approval": "prefecture",
    "schedule": "staff",
    "report": "expert",
    "review": "staff",
    "survey": "officer",
    "deliverable": "staff",
}
OPEN_CASE_STATUSES = ("received", "coordinating")
_CLOSED = ("closed", "withdrawn")
_Pending = Select[int, int, dt.datetime, dt.date, str, dt.datetime | None]


@dataclass(frozen=True)
class Wait:
    """One thing waiting: what (``kind``), for which case (``ref``: the readable case id, or
    D<id> for a deliverable), in which municipality, held by whom, since when."""

    kind: WaitKind
    ref: str
    case_id: int | None
    session_id: int | None
    municipality_code: str
    municipality_name: str
    holder: Holder
    people: tuple[str, ...]  # the experts who hold a report, the expert proposed or approved
    since: dt.datetime
    due: dt.date | None = None  # a report's or a deliverable's due day
    title: str = ""  # a deliverable's title
    expert_user_ids: tuple[int, ...] = ()

    @property
    def key(self) -> str:
        """Stable per wait: ``kind:ref`` (with the session for per-session waits)."""
        tail = f"/{self.session_id}" if self.session_id is not None else ""
        return f"{self.kind}:{self.ref}{tail}"


async def waits(
    s: AsyncSession,
    program_id: str,
    now: dt.datetime,
    scope: Scope = EVERYTHING,
    *,
    deliverables_until: dt.date | None = None,
) -> list[Wait]:
    """Every open wait of a program a scope may see (unordered; ``reports.queue`` orders).

    ``deliverables_until``: list deliverable items due on or before this day (whole program
    only); None lists none."""
    out = await _case_waits(s, program_id, scope)
    out += await _session_waits(s, _pending_sessions(program_id, now, scope))
    out += await _survey_waits(s, program_id, scope)
    if deliverables_until is not None and scope.everything:
        out += await _deliverable_waits(s, program_id, deliverables_until)
    return out


async def _case_waits(s: AsyncSession, program_id: str, scope: Scope) -> list[Wait]:
    """Cases to match, matches awaiting approval, accepted cases with no session: one scan of
    the program's received and 調整中 cases (``ix_cases_program_status``)."""
    has_session = exists().where(SupportSession.case_id == Case.id, NOT_CANCELLED)
    proposed, approved = aliased(User), aliased(User)
    q = (
        select(
            Case.id,
            Case.case_no,
            Case.status,
            Case.match_state,
            Case.municipality_code,
            Municipality.name,
            Case.opened_at,
            Case.updated_at,
            Case.proposed_expert_user_id,
            Case.approved_expert_user_id,
            func.coalesce(func.nullif(proposed.name, ""), proposed.platform_id).label("p_name"),
            func.coalesce(func.nullif(approved.name, ""), approved.platform_id).label("a_name"),
            has_session.label("has_session"),
        )
        .join(Municipality, Municipality.code == Case.municipality_code)
        .outerjoin(proposed, proposed.id == Case.proposed_expert_user_id)
        .outerjoin(approved, approved.id == Case.approved_expert_user_id)
        .where(Case.program_id == program_id, Case.status.in_(OPEN_CASE_STATUSES))
    )
    rows = (await s.execute(scoped_cases(q, scope))).all()
    out: list[Wait] = []
    for r in rows:
        kind: WaitKind | None
        uid, name = None, None
        since = r.opened_at
        if r.match_state == "proposed":
            kind, since = "approval", r.updated_at
            uid, name = r.proposed_expert_user_id, r.p_name
        elif r.approved_expert_user_id is not None and r.match_state == "approved":
            kind = None if r.has_session else "schedule"
            uid, name, since = r.approved_expert_user_id, r.a_name, r.updated_at
        elif r.has_session:
            kind = None  # booked by hand without a match: nothing waits for matching
        else:
            kind = "match"
        if kind is None:
            continue
        out.append(
            Wait(
                kind=kind,
                ref=r.case_no,
                case_id=int(r.id),
                session_id=None,
                municipality_code=r.municipality_code,
                municipality_name=r.name,
                holder=HOLDERS[kind],
                people=(name,) if name else (),
                since=since,
                expert_user_ids=(int(uid),) if uid is not None else (),
            )
        )
    return out


def _pending_sessions(program_id: str, now: dt.datetime, scope: Scope) -> _Pending:
    """Ended sessions whose report is not delivered; the scan reads the partial index of
    pending reports (its predicate as literals)."""
    q = select(
        SupportSession.id,
        SupportSession.case_id,
        SupportSession.ends_at,
        SupportSession.report_due,
        SupportSession.report_stage,
        SupportSession.report_handed_in_at,
    ).where(
        SupportSession.report_submitted_at.is_(None),
        NOT_CANCELLED,
        SupportSession.program_id == program_id,
        SupportSession.ends_at <= now,
    )
    # Exactly the order of ix_sessions_program_pending: SQLite then reads that partial index
    # (the pending reports alone) instead of every ended session through ix_sessions_program_ends.
    q = q.order_by(SupportSession.program_id, SupportSession.report_due, SupportSession.ends_at)
    return scoped_sessions(q, scope)


async def _session_waits(s: AsyncSession, pending: _Pending) -> list[Wait]:
    """The expert writes the report, or the desk reviews it. Three statements whatever their
    number: the sessions, then their cases and their experts, each selected by the same scan as
    a subquery (never a list of ids, never one query per row), its order kept so that SQLite
    reads the partial index there too."""
    rows = (await s.execute(pending)).all()
    if not rows:
        return []
    cases = await _cases(s, pending.with_only_columns(SupportSession.case_id))
    experts: dict[int, list[tuple[int, str]]] = defaultdict(list)
    found = await s.execute(
        select(SessionExpert.session_id, User.id, User.name, User.platform_id)
        .join(User, User.id == SessionExpert.user_id)
        .where(SessionExpert.session_id.in_(pending.with_only_columns(SupportSession.id)))
        .order_by(SessionExpert.session_id, User.id)
    )
    for sid, uid, name, pid in found.all():
        experts[int(sid)].append((int(uid), name or pid))
    out = []
    for r in rows:
        case_no, code, muni, status = cases[int(r.case_id)]
        if status in _CLOSED:
            continue
        review = r.report_stage == REVIEW
        kind: WaitKind = "review" if review else "report"
        people = experts[int(r.id)]
        out.append(
            Wait(
                kind=kind,
                ref=case_no,
                case_id=int(r.case_id),
                session_id=int(r.id),
                municipality_code=code,
                municipality_name=muni,
                holder=HOLDERS[kind],
                people=tuple(n for _, n in people),
                since=(r.report_handed_in_at or r.ends_at) if review else r.ends_at,
                due=r.report_due,
                expert_user_ids=tuple(u for u, _ in people),
            )
        )
    return out


async def _survey_waits(s: AsyncSession, program_id: str, scope: Scope) -> list[Wait]:
    """Sessions of 報告済 cases whose report reached its receiver and whose survey is not
    answered — the survey the reminder pass asks for, reminds of and closes the case after
    (``store.reminders.reported_without_survey``). Since it was asked (the report's delivery).
    From the program's 報告済 cases (``ix_cases_program_status``) to their sessions (by case) less
    those with an answer (by session): never a scan of the year's sessions."""
    answered = exists().where(
        Survey.session_id == SupportSession.id, Survey.answered_at.is_not(None)
    )
    reported = select(Case.id).where(Case.program_id == program_id, Case.status == "reported")
    q = (
        select(
            SupportSession.id,
            SupportSession.report_submitted_at,
            SupportSession.case_id,
            Case.case_no,
            Case.municipality_code,
            Municipality.name,
        )
        .join(Case, Case.id == SupportSession.case_id)
        .join(Municipality, Municipality.code == Case.municipality_code)
        .where(
            SupportSession.case_id.in_(reported),
            SupportSession.report_submitted_at.is_not(None),
            NOT_CANCELLED,
            ~answered,
        )
    )
    rows = (await s.execute(scoped_sessions(q, scope))).all()
    return [
        Wait(
            kind="survey",
            ref=r.case_no,
            case_id=int(r.case_id),
            session_id=int(r.id),
            municipality_code=r.municipality_code,
            municipality_name=r.name,
            holder="officer",
            people=(),
            since=r.report_submitted_at,
        )
        for r in rows
    ]


async def _deliverable_waits(s: AsyncSession, program_id: str, until: dt.date) -> list[Wait]:
    """Deliverable items not done, due by ``until`` (``ix_deliverable_items_program_due``)."""
    rows = (
        await s.execute(
            select(DeliverableItem.id, DeliverableItem.title, DeliverableItem.due_on).where(
                DeliverableItem.program_id == program_id,
                DeliverableItem.due_on <= until,
                DeliverableItem.done_at.is_(None),
            )
        )
    ).all()
    return [
        Wait(
            kind="deliverable",
            ref=f"D{r.id}",
            case_id=None,
            session_id=None,
            municipality_code="",
            municipality_name="",
            holder="staff",
            people=(),
            since=dt.datetime.combine(r.due_on, dt.time(0), tzinfo=JST),
            due=r.due_on,
            title=r.title,
        )
        for r in rows
    ]


async def _cases(s: AsyncSession, ids: Select[int]) -> dict[int, tuple[str, str, str, str]]:
    """case id → (case no, municipality code, municipality name, status) of the cases a
    subquery selects."""
    found = await s.execute(
        select(Case.id, Case.case_no, Case.municipality_code, Municipality.name, Case.status)
        .join(Municipality, Municipality.code == Case.municipality_code)
        .where(Case.id.in_(ids))
    )
    return {int(cid): (cno, code, name, status) for cid, cno, code, name, status in found.all()}


__all__ = ["HOLDERS", "WAIT_KINDS", "Holder", "Wait", "WaitKind", "waits"]
