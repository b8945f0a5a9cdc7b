"""Meetings and events a program holds or counts (定例会, 進捗状況確認会議, 研修, 交流会, 報告会,
成果報告会): recorded by staff in the chat (`/dx event`) or the CLI (`dxbot events add`), listed
and counted per kind against the profile's ``events[].expected``. Shown as E<id>."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store import audit
from store.models import ProgramEvent


async def record(
    s: AsyncSession,
    *,
    program_id: str,
    kind: str,
    held_on: dt.date,
    now: dt.datetime,
    place: str = "",
    attendees: Sequence[str] = (),
    notes: str = "",
    created_by: str = "",
    is_demo: bool = False,
) -> ProgramEvent:
    """Add one event; its id (E<id>) is known on return."""
    event = ProgramEvent(
        program_id=program_id,
        kind=kind,
        held_on=held_on,
        place=place[:200],
        attendees=[a for a in attendees if a],
        notes=notes,
        created_by=created_by[:120],
        created_at=now,
        is_demo=is_demo,
    )
    s.add(event)
    await s.flush()
    await audit.record(
        s,
        at=now,
        actor=created_by,
        action="event_recorded",
        object_type="event",
        object_id=f"E{event.id}",
        detail={"kind": kind, "held_on": held_on.isoformat()},
        program_id=program_id,
    )
    return event


async def move(s: AsyncSession, event: ProgramEvent, held_on: dt.date) -> None:
    """Correct an event's day; the next refresh of the deliverables moves its open items'
    due days along (store/deliverables.py ``sync``), never making a second item."""
    event.held_on = held_on
    await s.flush()


async def get(s: AsyncSession, program_id: str, event_id: int) -> ProgramEvent | None:
    """One event of this program, or None (another program's id is not found either)."""
    event = await s.get(ProgramEvent, event_id)
    return event if event is not None and event.program_id == program_id else None


async def listed(s: AsyncSession, program_id: str) -> list[ProgramEvent]:
    """The program's events, oldest first."""
    rows = await s.scalars(
        select(ProgramEvent)
        .where(ProgramEvent.program_id == program_id)
        .order_by(ProgramEvent.held_on, ProgramEvent.id)
    )
    return list(rows.all())


async def counts(
    s: AsyncSession, program_id: str, held_by: dt.date | None = None
) -> dict[str, int]:
    """How many events of each kind (held on or before ``held_by`` when given: one planned for
    next month is not yet held)."""
    q = (
        select(ProgramEvent.kind, func.count())
        .where(ProgramEvent.program_id == program_id)
        .group_by(ProgramEvent.kind)
    )
    if held_by is not None:
        q = q.where(ProgramEvent.held_on <= held_by)
    return {str(kind): int(n) for kind, n in (await s.execute(q)).all()}
