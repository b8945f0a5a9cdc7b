"""Audit log: who did what to which object (the prefecture owns the data and may ask).

Every change worth answering for lands here with its program: the store functions that make
the change call ``record`` in the same transaction (cases opened and moved between statuses,
sessions scheduled, cancelled and moved, reports handed in, amended, sent back and accepted,
people added and removed, programs seeded), so the trail cannot miss a change that happened.
``trail`` reads it back for `dxbot audit` and the contract-end archive, merged with the case
status history written before the log recorded status changes itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import AuditEntry, Case, StatusChange, SupportSession


async def record(
    s: AsyncSession,
    *,
    at: dt.datetime,
    actor: str,
    action: str,
    object_type: str = "",
    object_id: str = "",
    detail: dict[str, Any] | None = None,
    program_id: str = "",
) -> None:
    s.add(
        AuditEntry(
            at=at,
            actor=(actor or "system")[:120],
            action=action,
            object_type=object_type,
            object_id=object_id[:60],
            detail=detail or {},
            program_id=program_id,
        )
    )


@dataclass(frozen=True)
class AuditRow:
    """One line of the trail; ``case_no`` is the case the object belongs to, when it has one."""

    at: dt.datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    program_id: str
    case_no: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


async def _session_cases(s: AsyncSession, session_ids: Sequence[str]) -> dict[str, str]:
    ids = [int(x) for x in session_ids if x.isdigit()]
    if not ids:
        return {}
    rows = await s.execute(
        select(SupportSession.id, Case.case_no)
        .join(Case, Case.id == SupportSession.case_id)
        .where(SupportSession.id.in_(ids))
    )
    return {str(sid): no for sid, no in rows.all()}


async def trail(
    s: AsyncSession,
    *,
    program_id: str | None = None,
    case_no: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[AuditRow]:
    """The audit trail oldest first, filtered by program, case (the case itself and its
    sessions and reports) and time (``since`` inclusive, ``until`` exclusive).

    Status changes that are in the case status history but not in the log (recorded before
    the log covered them) are merged in as ``case_status_changed``."""
    q = select(AuditEntry)
    if program_id is not None:
        q = q.where(AuditEntry.program_id == program_id)
    if since is not None:
        q = q.where(AuditEntry.at >= since)
    if until is not None:
        q = q.where(AuditEntry.at < until)
    case: Case | None = None
    if case_no is not None:
        case = await s.scalar(select(Case).where(Case.case_no == case_no.strip().upper()))
        if case is None:
            return []
        session_ids = [
            str(i)
            for i in (
                await s.scalars(select(SupportSession.id).where(SupportSession.case_id == case.id))
            ).all()
        ]
        q = q.where(
            or_(
                (AuditEntry.object_type == "case") & (AuditEntry.object_id == case.case_no),
                (AuditEntry.object_type == "session") & AuditEntry.object_id.in_(session_ids),
            )
        )
    entries = list((await s.scalars(q.order_by(AuditEntry.at, AuditEntry.id))).all())
    sessions = await _session_cases(s, [e.object_id for e in entries if e.object_type == "session"])
    rows = [
        AuditRow(
            at=e.at,
            actor=e.actor,
            action=e.action,
            object_type=e.object_type,
            object_id=e.object_id,
            program_id=e.program_id,
            case_no=e.object_id
            if e.object_type == "case"
            else sessions.get(e.object_id, "")
            if e.object_type == "session"
            else "",
            detail=dict(e.detail or {}),
        )
        for e in entries
    ]
    seen = {
        (r.case_no, r.at, r.detail.get("to"))
        for r in rows
        if r.action in ("case_opened", "case_status_changed")
    }
    hq = select(StatusChange, Case.case_no, Case.program_id).join(
        Case, Case.id == StatusChange.case_id
    )
    if program_id is not None:
        hq = hq.where(Case.program_id == program_id)
    if case is not None:
        hq = hq.where(Case.id == case.id)
    if since is not None:
        hq = hq.where(StatusChange.at >= since)
    if until is not None:
        hq = hq.where(StatusChange.at < until)
    for change, no, pid in (await s.execute(hq)).all():
        if (no, change.at, change.to_status) in seen:
            continue
        rows.append(
            AuditRow(
                at=change.at,
                actor=change.actor_label or "system",
                action="case_opened" if change.from_status is None else "case_status_changed",
                object_type="case",
                object_id=no,
                program_id=pid,
                case_no=no,
                detail={
                    "from": change.from_status,
                    "to": change.to_status,
                    "reason": change.reason,
                },
            )
        )
    rows.sort(key=lambda r: r.at)
    return rows
