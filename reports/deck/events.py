"""The ``events`` section: the meetings and events held per kind against the profile's expected
numbers (定例会 8/12回), and the deliverables with their due dates and whether they are in — what a
prefecture checks against the specification's 提出物 table. Two tables, no chart.

The summary deck and the generic completion deck show it after the municipalities (and the
engagements and stages, where shown) for a program whose profile declares events or
deliverables (``with_events``); a completion outline may name it like any section kind.
"""

from __future__ import annotations

from bot.core.catalog import t
from reminders.calendar import format_jp
from reports.deck.builder import TOP_NOTE, Box, DeckBuilder
from reports.deck.data import DeckData, in_jst
from reports.structure_view import ItemRow
from store.profiles import ReportSection

EVENT_TABLE = Box(0.6, 1.95, 4.6, 4.6)
ITEM_TABLE = Box(5.5, 1.95, 7.23, 4.6)
ITEM_ROWS = 10


def _item_state(i: ItemRow) -> str:
    if i.done_at is not None:
        return t("deck_events_done", day=format_jp(in_jst(i.done_at).date()))
    if i.overdue_open_days:
        return t("deck_events_late", days=i.overdue_open_days)
    return t("deck_events_open")


def _items_shown(items: list[ItemRow]) -> list[ItemRow]:
    """The open ones by due date, then the latest closed ones, ``ITEM_ROWS`` at most."""
    open_ = [i for i in items if i.done_at is None]
    done = sorted((i for i in items if i.done_at is not None), key=lambda i: i.due_on)
    return (open_ + done[::-1])[:ITEM_ROWS]


def slide_events(b: DeckBuilder, d: DeckData, title: str) -> None:
    slide = b.slide(title)
    v = d.structure
    if v is None:
        b.text(slide, [t("deck_events_none")])
        return
    items = list(v.items)
    done = sum(i.done_at is not None for i in items)
    b.text(
        slide,
        [t("deck_events_summary", done=done, total=len(items), late=len(v.overdue))],
        TOP_NOTE,
        size=12,
        bullet=False,
    )
    if v.events:
        b.table(
            slide,
            [t("deck_events_kind"), t("deck_events_held")],
            [
                [
                    e.name,
                    f"{e.held}" if e.expected is None else f"{e.held}／{e.expected}",
                ]
                for e in v.events
            ],
            EVENT_TABLE,
            size=12,
        )
    shown = _items_shown(items)
    if shown:
        b.table(
            slide,
            [t("deck_events_item"), t("deck_events_due"), t("deck_events_state")],
            [[f"{i.short_id} {i.title}", format_jp(i.due_on), _item_state(i)] for i in shown],
            ITEM_TABLE if v.events else Box(0.6, 1.95, 12.13, 4.6),
            size=11,
        )


def with_events(d: DeckData, sections: tuple[ReportSection, ...]) -> tuple[ReportSection, ...]:
    """The outline with the events and deliverables after the municipalities, engagements and
    stages, for a program whose profile declares events or deliverables (and whose outline does
    not show them already)."""
    if not d.profile.events and not d.profile.deliverables:
        return sections
    if any(p.content == "events" for s in sections for p in s.pages):
        return sections
    section = ReportSection(id="events", title=t("deck_events_title"), content="events")
    after = [
        i + 1
        for i, s in enumerate(sections)
        if s.content in ("municipalities", "engagements", "stages")
    ]
    at = max(after) if after else len(sections)
    return (*sections[:at], section, *sections[at:])
