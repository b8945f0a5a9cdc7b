"""Everything one program holds, read for the contract-end archive (`dxbot archive`, issue 17).

Each table of the program is read in one statement and returned as plain rows (column name →
value, in the table's column order) with a few readable columns joined in (the case number of a
session, the names of its municipalities and experts), so reports/archive.py writes them without
knowing SQL. Attachments keep their stored bytes apart; report versions come with the ORM rows
the report document builder needs. Which tables the archive holds is decided in
store/data_map.py (tests/test_data_map.py holds reports/archive.py to it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import (
    Base,
    Case,
    DeliverableItem,
    Engagement,
    ExpertProfile,
    Municipality,
    Program,
    ProgramEvent,
    ProgramMember,
    ReportAttachment,
    SessionExpert,
    SessionMunicipality,
    SessionReport,
    StageMark,
    StatusChange,
    SupportSession,
    Survey,
    User,
)

Row = dict[str, Any]


def as_row(obj: Base, *, skip: Sequence[str] = ()) -> Row:
    """The object's columns by name, in the table's order."""
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in skip}


@dataclass(frozen=True)
class Attachment:
    id: int
    session_id: int
    case_no: str
    filename: str
    content_type: str
    url: str
    data: bytes | None


@dataclass(frozen=True)
class ReportVersion:
    """One report version with what its document needs."""

    case: Case
    session: SupportSession
    report: SessionReport


@dataclass
class ProgramData:
    program: Program
    tables: dict[str, list[Row]] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)
    reports: list[ReportVersion] = field(default_factory=list)
    engagement_case_ids: list[int] = field(default_factory=list)


def _cols(model: type[Base], *extra: str) -> list[str]:
    return [c.key for c in model.__table__.columns] + list(extra)


PEOPLE_EXTRA = (
    "municipality_name",
    "program_member",
    "expert_domains",
    "expert_qualifications",
    "expert_onsite",
    "expert_region",
    "expert_availability",
    "expert_strengths",
    "expert_consent_listed",
)
COLUMNS: dict[str, list[str]] = {
    "cases": _cols(Case, "municipality_name"),
    "sessions": _cols(
        SupportSession,
        "case_no",
        "municipality_codes",
        "municipality_names",
        "expert_user_ids",
    ),
    "session_reports": _cols(SessionReport, "case_no"),
    "surveys": _cols(Survey, "case_no"),
    "status_history": _cols(StatusChange, "case_no"),
    "engagements": _cols(Engagement, "case_no", "municipality_name"),
    "stage_marks": _cols(StageMark, "case_no"),
    "events": _cols(ProgramEvent),
    "deliverables": _cols(DeliverableItem),
    "people": _cols(User, *PEOPLE_EXTRA),
}
"""The columns of each table ``load_program`` returns, in order (the same with no rows)."""


def program_case_ids(program_id: str) -> Any:
    return select(Case.id).where(Case.program_id == program_id)


def program_session_ids(program_id: str) -> Any:
    return select(SupportSession.id).where(SupportSession.program_id == program_id)


async def person_ids(s: AsyncSession, program_id: str) -> set[int]:
    """The people of a program: its members and everyone its records name (requesters,
    experts proposed, approved or preferred, session experts, report authors, survey
    respondents, those who changed a case's status)."""
    cases = program_case_ids(program_id)
    sessions = program_session_ids(program_id)
    queries = [
        select(ProgramMember.user_id).where(ProgramMember.program_id == program_id),
        select(Case.requester_user_id).where(Case.program_id == program_id),
        select(Case.proposed_expert_user_id).where(Case.program_id == program_id),
        select(Case.approved_expert_user_id).where(Case.program_id == program_id),
        select(Case.preferred_expert_user_id).where(Case.program_id == program_id),
        select(SessionExpert.user_id).where(SessionExpert.session_id.in_(sessions)),
        select(SessionReport.author_user_id).where(SessionReport.session_id.in_(sessions)),
        select(Survey.respondent_user_id).where(Survey.session_id.in_(sessions)),
        select(StatusChange.actor_user_id).where(StatusChange.case_id.in_(cases)),
    ]
    found: set[int] = set()
    for q in queries:
        found.update(x for x in (await s.scalars(q)).all() if x is not None)
    return found


async def load_program(s: AsyncSession, program_id: str) -> ProgramData | None:
    """Every row the program holds; None when no such program is loaded."""
    program = await s.get(Program, program_id)
    if program is None:
        return None
    data = ProgramData(program)
    munis = {m.code: m.name for m in (await s.scalars(select(Municipality))).all()}
    cases = list(
        (await s.scalars(select(Case).where(Case.program_id == program_id).order_by(Case.id))).all()
    )
    case_no = {c.id: c.case_no for c in cases}
    data.tables["cases"] = [
        {**as_row(c), "municipality_name": munis.get(c.municipality_code, "")} for c in cases
    ]
    sessions = list(
        (
            await s.scalars(
                select(SupportSession)
                .where(SupportSession.program_id == program_id)
                .order_by(SupportSession.id)
            )
        ).all()
    )
    sids = [x.id for x in sessions]
    s_munis: dict[int, list[str]] = {}
    for sid, code in (
        await s.execute(
            select(SessionMunicipality.session_id, SessionMunicipality.municipality_code)
            .where(SessionMunicipality.session_id.in_(sids))
            .order_by(SessionMunicipality.session_id, SessionMunicipality.municipality_code)
        )
    ).all():
        s_munis.setdefault(sid, []).append(code)
    s_experts: dict[int, list[int]] = {}
    for sid, uid in (
        await s.execute(
            select(SessionExpert.session_id, SessionExpert.user_id)
            .where(SessionExpert.session_id.in_(sids))
            .order_by(SessionExpert.session_id, SessionExpert.user_id)
        )
    ).all():
        s_experts.setdefault(sid, []).append(uid)
    data.tables["sessions"] = [
        {
            **as_row(x),
            "case_no": case_no.get(x.case_id, ""),
            "municipality_codes": s_munis.get(x.id, []),
            "municipality_names": [munis.get(c, c) for c in s_munis.get(x.id, [])],
            "expert_user_ids": s_experts.get(x.id, []),
        }
        for x in sessions
    ]
    by_session = {x.id: x for x in sessions}
    cases_by_id = {c.id: c for c in cases}
    reports = list(
        (
            await s.scalars(
                select(SessionReport)
                .where(SessionReport.session_id.in_(sids))
                .order_by(SessionReport.session_id, SessionReport.version)
            )
        ).all()
    )
    data.tables["session_reports"] = [
        {**as_row(r), "case_no": case_no.get(by_session[r.session_id].case_id, "")} for r in reports
    ]
    data.reports = [
        ReportVersion(cases_by_id[by_session[r.session_id].case_id], by_session[r.session_id], r)
        for r in reports
    ]
    attachments = list(
        (
            await s.scalars(
                select(ReportAttachment)
                .where(ReportAttachment.session_id.in_(sids))
                .order_by(ReportAttachment.id)
            )
        ).all()
    )
    data.attachments = [
        Attachment(
            id=a.id,
            session_id=a.session_id,
            case_no=case_no.get(by_session[a.session_id].case_id, ""),
            filename=a.filename,
            content_type=a.content_type,
            url=a.url,
            data=a.data,
        )
        for a in attachments
    ]
    data.tables["surveys"] = [
        {**as_row(v), "case_no": case_no.get(by_session[v.session_id].case_id, "")}
        for v in (
            await s.scalars(select(Survey).where(Survey.session_id.in_(sids)).order_by(Survey.id))
        ).all()
    ]
    data.tables["status_history"] = [
        {**as_row(h), "case_no": case_no.get(h.case_id, "")}
        for h in (
            await s.scalars(
                select(StatusChange)
                .where(StatusChange.case_id.in_(list(case_no)))
                .order_by(StatusChange.at, StatusChange.id)
            )
        ).all()
    ]
    engagements = list(
        (
            await s.scalars(
                select(Engagement)
                .where(Engagement.program_id == program_id)
                .order_by(Engagement.id)
            )
        ).all()
    )
    data.engagement_case_ids = [e.case_id for e in engagements]
    data.tables["engagements"] = [
        {
            **as_row(e),
            "case_no": case_no.get(e.case_id, ""),
            "municipality_name": munis.get(e.municipality_code, ""),
        }
        for e in engagements
    ]
    data.tables["stage_marks"] = [
        {**as_row(m), "case_no": case_no.get(m.case_id, "")}
        for m in (
            await s.scalars(
                select(StageMark)
                .where(StageMark.case_id.in_(list(case_no)))
                .order_by(StageMark.case_id, StageMark.stage)
            )
        ).all()
    ]
    data.tables["events"] = [
        as_row(e)
        for e in (
            await s.scalars(
                select(ProgramEvent)
                .where(ProgramEvent.program_id == program_id)
                .order_by(ProgramEvent.held_on, ProgramEvent.id)
            )
        ).all()
    ]
    data.tables["deliverables"] = [
        as_row(d)
        for d in (
            await s.scalars(
                select(DeliverableItem)
                .where(DeliverableItem.program_id == program_id)
                .order_by(DeliverableItem.due_on, DeliverableItem.id)
            )
        ).all()
    ]
    data.tables["people"] = await _people(s, program_id, munis)
    return data


async def _people(s: AsyncSession, program_id: str, munis: dict[str, str]) -> list[Row]:
    ids = await person_ids(s, program_id)
    users = list((await s.scalars(select(User).where(User.id.in_(ids)).order_by(User.id))).all())
    profiles = {
        p.user_id: p
        for p in (
            await s.scalars(select(ExpertProfile).where(ExpertProfile.user_id.in_(ids)))
        ).all()
    }
    member = set(
        (
            await s.scalars(
                select(ProgramMember.user_id).where(
                    ProgramMember.program_id == program_id, ProgramMember.user_id.in_(ids)
                )
            )
        ).all()
    )
    out: list[Row] = []
    for u in users:
        p = profiles.get(u.id)
        out.append(
            {
                **as_row(u),
                "municipality_name": munis.get(u.municipality_code or "", ""),
                "program_member": u.id in member,
                "expert_domains": list(p.domains) if p else [],
                "expert_qualifications": list(p.qualifications) if p else [],
                "expert_onsite": p.onsite if p else None,
                "expert_region": p.region if p else "",
                "expert_availability": p.availability if p else "",
                "expert_strengths": p.strengths if p else "",
                "expert_consent_listed": p.consent_listed if p else None,
            }
        )
    return out
