"""The program's deliverables and events as /status, `dxbot status --json` and the decks show
them: the items overdue and due soon with their short ids (D12), and how many events of each
kind were held against the profile's expected number. Pure over store queries (the items are
made by the reminder pass and when an event is recorded: reminders/deliverable_pass.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from bot.core.catalog import t
from reminders.calendar import BusinessCalendar, format_jp
from reminders.clock import JST
from store import deliverables as item_store
from store import program_events as event_store
from store.db import Session
from store.profiles import ProgramProfile

DUE_SOON_OPEN_DAYS = 3
LIST_LIMIT = 5


@dataclass(frozen=True)
class ItemRow:
    id: int
    spec_id: str
    title: str
    due_on: dt.date
    done_at: dt.datetime | None
    done_by: str
    overdue_open_days: int  # 0 unless open and past its due day

    @property
    def short_id(self) -> str:
        return f"D{self.id}"


@dataclass(frozen=True)
class EventCount:
    kind: str
    name: str
    held: int
    expected: int | None


@dataclass(frozen=True)
class StructureView:
    today: dt.date
    soon_until: dt.date
    items: tuple[ItemRow, ...]  # every item, by due date
    events: tuple[EventCount, ...]  # every kind the profile declares

    @property
    def overdue(self) -> list[ItemRow]:
        return [i for i in self.items if i.done_at is None and i.due_on < self.today]

    @property
    def due_soon(self) -> list[ItemRow]:
        return [
            i for i in self.items if i.done_at is None and self.today <= i.due_on <= self.soon_until
        ]

    @property
    def open(self) -> list[ItemRow]:
        return [i for i in self.items if i.done_at is None]


async def build(
    s: Session, profile: ProgramProfile, cal: BusinessCalendar, now: dt.datetime
) -> StructureView | None:
    """The view, or None for a program whose profile declares no events and no deliverables."""
    if not profile.events and not profile.deliverables:
        return None
    today = now.astimezone(JST).date()
    rows = []
    for i in await item_store.listed(s, profile.id, include_done=True):
        late = cal.open_days_until(i.due_on, today) if i.done_at is None else 0
        rows.append(ItemRow(i.id, i.spec_id, i.title, i.due_on, i.done_at, i.done_by, max(late, 0)))
    held = await event_store.counts(s, profile.id, held_by=today)
    return StructureView(
        today=today,
        soon_until=cal.add_open_days(today, DUE_SOON_OPEN_DAYS),
        items=tuple(rows),
        events=tuple(
            EventCount(k.id, k.name, held.get(k.id, 0), k.expected) for k in profile.events
        ),
    )


def events_text(events: tuple[EventCount, ...]) -> str:
    """月次報告会 3/12回、研修 1回."""
    return "、".join(
        t("events_count_item", name=e.name, held=e.held)
        if e.expected is None
        else t("events_count_item_expected", name=e.name, held=e.held, expected=e.expected)
        for e in events
    )


def render_lines(v: StructureView | None, limit: int = LIST_LIMIT) -> list[str]:
    """A few lines for /status: the counts, then the late and near items (at most ``limit``)."""
    if v is None:
        return []
    lines = []
    if v.events:
        lines.append(t("status_events_line", counts=events_text(v.events)))
    late, soon = v.overdue, v.due_soon
    if late or soon:
        lines.append(
            t("status_deliv_header", overdue=len(late), soon=len(soon), days=DUE_SOON_OPEN_DAYS)
        )
        shown = (late + soon)[:limit]
        for i in shown:
            state = (
                t("deliv_state_overdue", days=i.overdue_open_days)
                if i.overdue_open_days
                else (t("deliv_state_today") if i.due_on == v.today else "")
            )
            lines.append(
                t(
                    "status_deliv_line",
                    item_id=i.id,
                    title=i.title,
                    due=format_jp(i.due_on),
                    state=state,
                )
            )
        if len(late) + len(soon) > len(shown):
            lines.append(t("status_deliv_more", n=len(late) + len(soon) - len(shown)))
    return lines


# --- JSON (`dxbot status --json`) ----------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class DeliverableJson(_Model):
    id: str  # D12
    spec: str  # the profile's deliverables[].id
    title: str
    due: dt.date
    done: bool
    done_at: dt.datetime | None
    done_by: str
    overdue_open_days: int


class EventKindJson(_Model):
    kind: str  # the profile's events[].id
    name: str
    held: int
    expected: int | None


def deliverables_json(v: StructureView | None) -> list[DeliverableJson]:
    if v is None:
        return []
    return [
        DeliverableJson(
            id=i.short_id,
            spec=i.spec_id,
            title=i.title,
            due=i.due_on,
            done=i.done_at is not None,
            done_at=None if i.done_at is None else i.done_at.astimezone(JST),
            done_by=i.done_by,
            overdue_open_days=i.overdue_open_days,
        )
        for i in v.items
    ]


def events_json(v: StructureView | None) -> list[EventKindJson]:
    if v is None:
        return []
    return [
        EventKindJson(kind=e.kind, name=e.name, held=e.held, expected=e.expected) for e in v.events
    ]
