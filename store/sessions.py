"""Sessions (支援の回), their municipalities and experts, reports and surveys."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store import audit
from store.db import rowcount
from store.models import (
    Case,
    Municipality,
    ReportAttachment,
    SessionExpert,
    SessionMunicipality,
    SessionReport,
    SupportSession,
    Survey,
    User,
)


@dataclass(frozen=True)
class SessionCase:
    """A session with its case and the case's requesting officer (None when there is none;
    an inactive one is returned as such, for the caller to judge)."""

    session: SupportSession
    case: Case
    requester: User | None


async def with_case(s: AsyncSession, session_id: int) -> SessionCase | None:
    """A session, its case and the case's requester, in one statement."""
    row = (
        await s.execute(
            select(SupportSession, Case, User)
            .join(Case, Case.id == SupportSession.case_id)
            .outerjoin(User, User.id == Case.requester_user_id)
            .where(SupportSession.id == session_id)
        )
    ).first()
    return None if row is None else SessionCase(row[0], row[1], row[2])


async def add_attachments(
    s: AsyncSession, session_id: int, files: Sequence[dict[str, str]], now: dt.datetime
) -> None:
    """Record the files attached to a report (name, url, content_type of each)."""
    for item in files:
        s.add(
            ReportAttachment(
                session_id=session_id,
                filename=item["name"],
                content_type=item["content_type"],
                url=item["url"],
                created_at=now,
            )
        )
    await s.flush()


async def create(
    s: AsyncSession,
    *,
    program_id: str,
    case_id: int,
    track_id: str,
    starts_at: dt.datetime,
    hours: float,
    method: str,
    place: str,
    report_due: dt.date,
    municipality_codes: Sequence[str],
    expert_user_ids: Sequence[int],
    now: dt.datetime,
    status: str = "scheduled",
    is_demo: bool = False,
    actor: str = "",
) -> SupportSession:
    session = SupportSession(
        program_id=program_id,
        case_id=case_id,
        track_id=track_id,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=hours),
        hours=hours,
        method=method,
        place=place,
        status=status,
        report_due=report_due,
        created_at=now,
        is_demo=is_demo,
    )
    s.add(session)
    await s.flush()
    for code in dict.fromkeys(municipality_codes):
        s.add(SessionMunicipality(session_id=session.id, municipality_code=code))
    for uid in dict.fromkeys(expert_user_ids):
        s.add(SessionExpert(session_id=session.id, user_id=uid))
    await audit.record(
        s,
        at=now,
        actor=actor,
        action="session_scheduled" if status == "scheduled" else "session_recorded",
        object_type="session",
        object_id=str(session.id),
        detail={
            "starts_at": starts_at.isoformat(),
            "hours": hours,
            "method": method,
            "track": track_id,
        },
        program_id=program_id,
    )
    await s.flush()
    return session


async def add_report(
    s: AsyncSession,
    session: SupportSession,
    fields: dict[str, Any],
    *,
    author_user_id: int | None,
    now: dt.datetime,
    is_demo: bool = False,
    deliver: bool = True,
) -> SessionReport:
    """Store a report version; an amendment keeps the earlier versions as history.

    ``deliver`` False: the track has a staff review step, so the report waits for it (stage
    REVIEW) and the deadline is not met yet; True: it reaches its receiver now."""
    current = await s.scalar(
        select(SessionReport.version)
        .where(SessionReport.session_id == session.id)
        .order_by(SessionReport.version.desc())
        .limit(1)
    )
    await s.execute(
        update(SessionReport)
        .where(SessionReport.session_id == session.id)
        .values(is_current=False)
        .execution_options(synchronize_session=False)
    )
    report = SessionReport(
        session_id=session.id,
        version=(current or 0) + 1,
        is_current=True,
        fields=dict(fields),
        author_user_id=author_user_id,
        created_at=now,
        is_demo=is_demo,
    )
    s.add(report)
    session.report_handed_in_at = now
    if deliver:
        mark_report_delivered(session, now)
    else:
        session.report_stage = REVIEW
    author = await s.get(User, author_user_id) if author_user_id is not None else None
    await audit.record(
        s,
        at=now,
        actor=(author.name or author.platform_id) if author else "",
        action="report_submitted" if report.version == 1 else "report_amended",
        object_type="session",
        object_id=str(session.id),
        detail={"version": report.version, "stage": session.report_stage},
        program_id=session.program_id,
    )
    await s.flush()
    return report


async def approve_report(
    s: AsyncSession, session: SupportSession, *, version: int, now: dt.datetime, actor: str
) -> bool:
    """Staff accepted the report under review: it reaches its receiver (``mark_report_delivered``,
    True the first time), audited."""
    first = mark_report_delivered(session, now)
    await audit.record(
        s,
        at=now,
        actor=actor,
        action="report_approved",
        object_type="session",
        object_id=str(session.id),
        detail={"version": version},
        program_id=session.program_id,
    )
    return first


async def return_report(
    s: AsyncSession,
    session: SupportSession,
    reason: str,
    *,
    version: int,
    now: dt.datetime,
    actor: str,
) -> None:
    """Staff sent the report back with a reason (``mark_report_returned``), audited."""
    mark_report_returned(session, reason)
    await audit.record(
        s,
        at=now,
        actor=actor,
        action="report_returned",
        object_type="session",
        object_id=str(session.id),
        detail={"version": version, "reason": reason},
        program_id=session.program_id,
    )


# Where a session's report stands (SupportSession.report_stage). Pending = not DELIVERED.
OPEN = "open"  # not in yet, or being written
REVIEW = "review"  # handed in, waiting for the staff's review (the staff are reminded)
RETURNED = "returned"  # sent back to the expert with a reason (the expert is chased again)
DELIVERED = "delivered"  # reached the receiver the profile names: the deadline is met
REPORT_STAGES = (OPEN, REVIEW, RETURNED, DELIVERED)


def mark_report_delivered(session: SupportSession, now: dt.datetime) -> bool:
    """The report reached its receiver; True the first time (the deadline is met now).

    An amendment delivered later keeps the first delivery's time: the deadline was met then."""
    session.report_stage = DELIVERED
    session.report_review_note = ""
    if session.report_submitted_at is None:
        session.report_submitted_at = now
        return True
    return False


def mark_report_returned(session: SupportSession, reason: str) -> None:
    """Staff sent the report back: the expert is asked again, with the reason."""
    session.report_stage = RETURNED
    session.report_review_note = reason


async def reports_in_review(s: AsyncSession, program_id: str) -> list[SupportSession]:
    """Sessions whose report waits for the staff's review, the longest waiting first."""
    return list(
        (
            await s.scalars(
                select(SupportSession)
                .where(
                    SupportSession.program_id == program_id,
                    SupportSession.report_stage == REVIEW,
                    SupportSession.status != "cancelled",
                )
                .order_by(SupportSession.report_handed_in_at, SupportSession.id)
            )
        ).all()
    )


async def session_for_update(s: AsyncSession, session_id: int) -> SupportSession | None:
    """The session row, locked: two staff deciding on one report at once decide once."""
    return await s.get(SupportSession, session_id, with_for_update=True, populate_existing=True)


async def experts_of(s: AsyncSession, session_id: int) -> list[User]:
    """The session's active experts (who write, and are asked again for, its report)."""
    rows = await s.scalars(
        select(User)
        .join(SessionExpert, SessionExpert.user_id == User.id)
        .where(SessionExpert.session_id == session_id, User.active.is_(True))
        .order_by(User.id)
    )
    return list(rows.all())


async def municipalities_of(s: AsyncSession, session_id: int) -> list[tuple[str, str]]:
    """(code, name) of the session's municipalities, by code."""
    rows = await s.execute(
        select(Municipality.code, Municipality.name)
        .join(SessionMunicipality, SessionMunicipality.municipality_code == Municipality.code)
        .where(SessionMunicipality.session_id == session_id)
        .order_by(Municipality.code)
    )
    return [(str(c), str(n)) for c, n in rows.all()]


async def mark_held(s: AsyncSession, session: SupportSession) -> bool:
    """'scheduled' → 'done' once: a conditional UPDATE, so of two passes (two replicas) that
    both read the session as scheduled exactly one wins — on PostgreSQL the other waits for the
    row lock, re-reads the row and matches nothing."""
    won = await s.execute(
        update(SupportSession)
        .where(SupportSession.id == session.id, SupportSession.status == "scheduled")
        .values(status="done")
        .execution_options(synchronize_session=False)
    )
    if not rowcount(won):
        return False
    session.status = "done"
    return True


async def survey_session(
    s: AsyncSession,
    program_id: str,
    municipality_code: str | None,
    ref: str,
    *,
    answered: bool,
) -> tuple[SupportSession, Case] | None:
    """A session of the municipality, named by id or case number (the latest when ``ref`` is
    empty), whose survey is still to answer — or, with ``answered``, already answered."""
    q = (
        select(SupportSession, Case)
        .join(Case, Case.id == SupportSession.case_id)
        .join(SessionMunicipality, SessionMunicipality.session_id == SupportSession.id)
        .outerjoin(Survey, Survey.session_id == SupportSession.id)
        .where(
            SessionMunicipality.municipality_code == (municipality_code or "-"),
            SupportSession.program_id == program_id,
        )
        .order_by(SupportSession.starts_at.desc())
    )
    if answered:
        q = q.where(Survey.answered_at.is_not(None))
    else:
        q = q.where(SupportSession.report_submitted_at.is_not(None), Survey.answered_at.is_(None))
    if ref.isdigit():
        q = q.where(SupportSession.id == int(ref))
    elif ref:
        q = q.where(Case.case_no == ref)
    row = (await s.execute(q.limit(1))).first()
    return None if row is None else (row[0], row[1])


async def record_actual_hours(s: AsyncSession, session: SupportSession, hours: float) -> None:
    """The hours the expert reports replace the booked ones: targets, tallies and the record
    count what was held. The end moves with them; the start stays as booked."""
    if hours > 0 and hours != session.hours:
        session.hours = hours
        session.ends_at = session.starts_at + dt.timedelta(hours=hours)
        await s.flush()


async def add_survey(
    s: AsyncSession,
    session_id: int,
    *,
    respondent_user_id: int | None,
    satisfaction: int | None,
    resolved: str | None,
    comment: str,
    requested_at: dt.datetime | None,
    answered_at: dt.datetime | None,
    is_demo: bool = False,
) -> Survey:
    survey = Survey(
        session_id=session_id,
        respondent_user_id=respondent_user_id,
        satisfaction=satisfaction,
        resolved=resolved,
        comment=comment,
        requested_at=requested_at,
        answered_at=answered_at,
        is_demo=is_demo,
    )
    s.add(survey)
    await s.flush()
    return survey


async def expert_session(
    s: AsyncSession, program_id: str, expert_user_id: int, ref: str, now: dt.datetime
) -> SupportSession | None:
    """A held (ended, not cancelled) session of this expert, named by id or case number; with
    no ``ref``, the earliest one still unreported. Another expert's session is not found."""
    q = (
        select(SupportSession)
        .join(SessionExpert, SessionExpert.session_id == SupportSession.id)
        .join(Case, Case.id == SupportSession.case_id)
        .where(
            SessionExpert.user_id == expert_user_id,
            SupportSession.program_id == program_id,
            SupportSession.ends_at <= now,
            SupportSession.status != "cancelled",
        )
        .order_by(SupportSession.report_submitted_at.is_not(None), SupportSession.starts_at)
    )
    if ref.isdigit():
        q = q.where(SupportSession.id == int(ref))
    elif ref:
        q = q.where(Case.case_no == ref)
    return (await s.scalars(q.limit(1))).first()


async def expert_reported_sessions(
    s: AsyncSession, program_id: str, expert_user_id: int, case_no: str = "", limit: int = 10
) -> list[tuple[SupportSession, str]]:
    """The expert's sessions whose report is in, latest held first, with their case numbers
    (only those of ``case_no`` when given): what ``/report amend`` offers."""
    q = (
        select(SupportSession, Case.case_no)
        .join(SessionExpert, SessionExpert.session_id == SupportSession.id)
        .join(Case, Case.id == SupportSession.case_id)
        .where(
            SessionExpert.user_id == expert_user_id,
            SupportSession.program_id == program_id,
            SupportSession.status != "cancelled",
            or_(
                SupportSession.report_submitted_at.is_not(None),
                SupportSession.report_handed_in_at.is_not(None),
            ),
        )
        .order_by(SupportSession.starts_at.desc(), SupportSession.id.desc())
        .limit(limit)
    )
    if case_no:
        q = q.where(Case.case_no == case_no)
    return [(row[0], row[1]) for row in (await s.execute(q)).all()]


async def participant_names(s: AsyncSession, session_id: int) -> tuple[list[str], list[str]]:
    """The session's municipalities and experts, by name, in a stable order."""
    munis = await s.scalars(
        select(Municipality.name)
        .join(SessionMunicipality, SessionMunicipality.municipality_code == Municipality.code)
        .where(SessionMunicipality.session_id == session_id)
        .order_by(Municipality.code)
    )
    experts = await s.scalars(
        select(User.name)
        .join(SessionExpert, SessionExpert.user_id == User.id)
        .where(SessionExpert.session_id == session_id)
        .order_by(User.id)
    )
    return list(munis.all()), [n for n in experts.all() if n]


async def current_report(s: AsyncSession, session_id: int) -> SessionReport | None:
    return await s.scalar(
        select(SessionReport).where(
            SessionReport.session_id == session_id, SessionReport.is_current.is_(True)
        )
    )


async def survey_of(s: AsyncSession, session_id: int) -> Survey | None:
    return await s.scalar(select(Survey).where(Survey.session_id == session_id))


async def has_open_sessions(s: AsyncSession, case_id: int) -> bool:
    """Sessions still to be held or reported keep a case from closing."""
    open_id = await s.scalar(
        select(SupportSession.id)
        .where(
            SupportSession.case_id == case_id,
            SupportSession.status != "cancelled",
            SupportSession.report_submitted_at.is_(None),
        )
        .limit(1)
    )
    return open_id is not None
