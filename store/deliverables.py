"""Deliverable items (D<id>): what the program owes by when, made from the profile's
``deliverables`` and their due rules (reminders/deliverables.py computes the list; this module
writes it). Making them again is harmless: one row per (program, spec, period), an open item's
due date follows its event or the track's last session, and a closed item is left as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Protocol

from sqlalchemy import func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from reminders.clock import JST
from store import audit
from store.db import rowcount
from store.models import DeliverableItem, SupportSession


class WantedItem(Protocol):
    """An item a due rule asks for (reminders.deliverables.DueItem has this shape)."""

    @property
    def spec_id(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def due_on(self) -> dt.date: ...
    @property
    def event_id(self) -> int | None: ...


async def sync(
    s: AsyncSession,
    program_id: str,
    wanted: Sequence[WantedItem],
    now: dt.datetime,
    is_demo: bool = False,
) -> tuple[int, int]:
    """Make the wanted items that are missing and move the due date of the open ones whose rule
    now says another day; returns (made, moved). ``INSERT … ON CONFLICT DO NOTHING`` on the
    unique (program, spec, period), so two passes at once never make one twice."""
    existing = {
        (row.spec_id, row.period): row
        for row in (
            await s.scalars(select(DeliverableItem).where(DeliverableItem.program_id == program_id))
        ).all()
    }
    moved = 0
    new: list[dict[str, object]] = []
    for w in wanted:
        row = existing.get((w.spec_id, w.period))
        if row is None:
            new.append(
                {
                    "program_id": program_id,
                    "spec_id": w.spec_id,
                    "period": w.period,
                    "title": w.title[:200],
                    "due_on": w.due_on,
                    "event_id": w.event_id,
                    "done_by": "",
                    "created_at": now,
                    "is_demo": is_demo,
                }
            )
        elif row.done_at is None and (row.due_on, row.title) != (w.due_on, w.title[:200]):
            row.due_on, row.title = w.due_on, w.title[:200]
            moved += 1
    made = 0
    if new:
        insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
        stmt = (
            insert(DeliverableItem)
            .values(new)
            .on_conflict_do_nothing(index_elements=["program_id", "spec_id", "period"])
            .returning(DeliverableItem.id)
        )
        made = len((await s.scalars(stmt)).all())
    await s.flush()
    return made, moved


async def get(s: AsyncSession, program_id: str, item_id: int) -> DeliverableItem | None:
    """One item of this program, or None (another program's id is not found either)."""
    item = await s.get(DeliverableItem, item_id)
    return item if item is not None and item.program_id == program_id else None


async def listed(
    s: AsyncSession, program_id: str, include_done: bool = False
) -> list[DeliverableItem]:
    """The program's items by due date (the open ones unless ``include_done``)."""
    q = select(DeliverableItem).where(DeliverableItem.program_id == program_id)
    if not include_done:
        q = q.where(DeliverableItem.done_at.is_(None))
    rows = await s.scalars(q.order_by(DeliverableItem.due_on, DeliverableItem.id))
    return list(rows.all())


async def for_event(s: AsyncSession, program_id: str, event_id: int) -> list[DeliverableItem]:
    """The items one event made (its 議事録, its 資料)."""
    rows = await s.scalars(
        select(DeliverableItem)
        .where(DeliverableItem.program_id == program_id, DeliverableItem.event_id == event_id)
        .order_by(DeliverableItem.due_on, DeliverableItem.id)
    )
    return list(rows.all())


async def mark_done(s: AsyncSession, item: DeliverableItem, by: str, now: dt.datetime) -> bool:
    """Close an open item; False when someone closed it first (the row is re-read)."""
    result = await s.execute(
        update(DeliverableItem)
        .where(DeliverableItem.id == item.id, DeliverableItem.done_at.is_(None))
        .values(done_at=now, done_by=by[:120])
        .execution_options(synchronize_session=False)
    )
    await s.refresh(item)
    if rowcount(result) != 1:
        return False
    await audit.record(
        s,
        at=now,
        actor=by,
        action="deliverable_done",
        object_type="deliverable",
        object_id=f"D{item.id}",
        detail={"spec": item.spec_id, "period": item.period, "title": item.title},
        program_id=item.program_id,
    )
    return True


async def last_held_days(
    s: AsyncSession, program_id: str, as_of: dt.datetime, tracks: Collection[str]
) -> dict[str, dt.date]:
    """The day (JST) of each track's last session held by ``as_of`` (ended, not cancelled, as
    store.reporting.counting counts 'held'): what 'N months after the last session' counts
    from. A session still ahead does not count. Only ``tracks`` are read (those a rule names:
    the pass asks every few minutes, and a program's other tracks may hold many sessions)."""
    if not tracks:
        return {}
    rows = await s.execute(
        select(SupportSession.track_id, func.max(SupportSession.starts_at))
        .where(
            SupportSession.program_id == program_id,
            SupportSession.status != literal("cancelled", literal_execute=True),
            SupportSession.ends_at <= as_of,
            SupportSession.track_id.in_(sorted(tracks)),
        )
        .group_by(SupportSession.track_id)
    )
    out: dict[str, dt.date] = {}
    for track, last in rows.all():
        if last is not None:
            out[str(track)] = last.astimezone(JST).date()
    return out
