"""Cases (相談案件): creation with a readable id, status changes with their history."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from store import audit
from store.models import (
    Case,
    SessionExpert,
    SessionMunicipality,
    StatusChange,
    SupportSession,
)

STATUSES: dict[str, str] = {
    "received": "受付",
    "coordinating": "調整中",
    "scheduled": "実施予定",
    "held": "実施済(報告待ち)",
    "reported": "報告済",
    "closed": "完了",
    "on_hold": "保留",
    "withdrawn": "取下げ",
}


def case_number(prefix: str, year: int, seq: int) -> str:
    return f"{prefix}-{year}-{seq:04d}"


async def create(
    s: AsyncSession,
    *,
    program_id: str,
    prefix: str,
    year: int,
    track_id: str,
    municipality_code: str,
    now: dt.datetime,
    requester_user_id: int | None = None,
    department: str = "",
    requester_name: str = "",
    requester_title: str = "",
    domains: Sequence[str] = (),
    description: str = "",
    preferred_method: str = "online",
    preferred_dates: Sequence[str] = (),
    status: str = "received",
    actor_user_id: int | None = None,
    actor_label: str = "",
    is_demo: bool = False,
    preferred_expert_user_id: int | None = None,
    reason: str = "",
) -> Case:
    """Open a case numbered per program and year (SAI-2026-0012).

    The (program, year, seq) unique key settles a race between two processes: the loser
    retries with the next number inside a savepoint, so no number is used twice. ``reason``
    goes on the first history row (e.g. who opened it on a municipality's behalf).
    """
    for _ in range(20):
        seq = (
            await s.scalar(
                select(func.coalesce(func.max(Case.seq), 0)).where(
                    Case.program_id == program_id, Case.year == year
                )
            )
            or 0
        ) + 1
        case = Case(
            case_no=case_number(prefix, year, seq),
            program_id=program_id,
            year=year,
            seq=seq,
            track_id=track_id,
            municipality_code=municipality_code,
            requester_user_id=requester_user_id,
            department=department,
            requester_name=requester_name,
            requester_title=requester_title,
            domains=list(domains),
            description=description,
            preferred_method=preferred_method,
            preferred_dates=list(preferred_dates),
            status=status,
            preferred_expert_user_id=preferred_expert_user_id,
            opened_at=now,
            updated_at=now,
            is_demo=is_demo,
        )
        try:
            async with s.begin_nested():
                s.add(case)
                await s.flush()
        except IntegrityError:
            continue
        s.add(
            StatusChange(
                case_id=case.id,
                from_status=None,
                to_status=status,
                actor_user_id=actor_user_id,
                actor_label=actor_label,
                reason=reason,
                at=now,
            )
        )
        await audit.record(
            s,
            at=now,
            actor=actor_label,
            action="case_opened",
            object_type="case",
            object_id=case.case_no,
            detail={"from": None, "to": status, "track": track_id, "reason": reason},
            program_id=program_id,
        )
        await s.flush()
        return case
    raise RuntimeError("could not allocate a case number after 20 attempts")


async def get(s: AsyncSession, case_id: int) -> Case | None:
    return await s.get(Case, case_id)


async def get_for_update(s: AsyncSession, case_id: int) -> Case | None:
    """The case read again under a row lock (SELECT … FOR UPDATE on PostgreSQL; SQLite has
    one writer at a time anyway), so two writers deciding on its status take turns and the
    second sees the first one's change."""
    return await s.get(Case, case_id, with_for_update=True, populate_existing=True)


async def has_demo(s: AsyncSession, program_id: str) -> bool:
    """Whether the program already has demo cases (the demo is added once)."""
    found = await s.scalar(
        select(Case.id).where(Case.program_id == program_id, Case.is_demo.is_(True)).limit(1)
    )
    return found is not None


async def session_participants(s: AsyncSession, case_id: int) -> tuple[set[str], set[int]]:
    """The municipalities and experts of a case's sessions (one statement)."""
    rows = await s.execute(
        select(SessionMunicipality.municipality_code, SessionExpert.user_id)
        .select_from(SupportSession)
        .outerjoin(SessionMunicipality, SessionMunicipality.session_id == SupportSession.id)
        .outerjoin(SessionExpert, SessionExpert.session_id == SupportSession.id)
        .where(SupportSession.case_id == case_id)
    )
    munis: set[str] = set()
    experts: set[int] = set()
    for code, uid in rows.all():
        if code:
            munis.add(code)
        if uid:
            experts.add(uid)
    return munis, experts


# Dashes a Japanese keyboard gives for "-": the long-vowel mark (kana mode), minus signs,
# hyphens and dashes; NFKC leaves them as they are.
_DASHES = str.maketrans(dict.fromkeys("ー－−‐‑‒–—―ｰ", "-"))


def case_key(typed: str) -> str:
    """A case id as stored, from the way a person typed it: 「ｓａｉー２０２６ー０００１」 (full
    width, lower case, the kana-mode 「ー」 for the hyphen) is SAI-2026-0001."""
    return unicodedata.normalize("NFKC", typed.translate(_DASHES)).strip().upper()


async def get_by_no(s: AsyncSession, case_no: str) -> Case | None:
    return await s.scalar(select(Case).where(Case.case_no == case_key(case_no)))


async def set_status(
    s: AsyncSession,
    case: Case,
    to_status: str,
    *,
    now: dt.datetime,
    actor_user_id: int | None,
    actor_label: str,
    reason: str = "",
) -> StatusChange:
    if to_status not in STATUSES:
        raise ValueError(f"unknown status {to_status}")
    change = StatusChange(
        case_id=case.id,
        from_status=case.status,
        to_status=to_status,
        actor_user_id=actor_user_id,
        actor_label=actor_label,
        reason=reason,
        at=now,
    )
    await audit.record(
        s,
        at=now,
        actor=actor_label,
        action="case_status_changed",
        object_type="case",
        object_id=case.case_no,
        detail={"from": case.status, "to": to_status, "reason": reason},
        program_id=case.program_id,
    )
    case.status = to_status
    case.updated_at = now
    s.add(change)
    await s.flush()
    return change


async def history(s: AsyncSession, case_id: int) -> list[StatusChange]:
    return list(
        (
            await s.scalars(
                select(StatusChange)
                .where(StatusChange.case_id == case_id)
                .order_by(StatusChange.at, StatusChange.id)
            )
        ).all()
    )
