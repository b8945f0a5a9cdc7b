"""Meetings and events: staff record what the program holds or counts (定例会, 進捗状況確認会議,
研修, 交流会, 報告会, 成果報告会) with `/dx event KIND 日付 [場所=…] [参加=…,…] [メモ=…]` or
`dxbot events add`, and list them with `/dx events`. Recording a meeting makes due the
deliverables whose rule names its kind (its 議事録 N 開庁日 later, its 資料 the day before), and
the reply says which, with their due dates; the counts against the profile's expected numbers
appear in /status and the decks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.catalog import t
from bot.core.context import Context
from bot.core.dates import normalize, parse_one_date
from bot.core.errors import UserError
from bot.core.messages import Outbound
from bot.core.permissions import Action, can, require
from bot.core.router import Router
from reminders import deliverable_pass
from reminders.calendar import format_jp
from reminders.clock import JST
from reports.structure_view import EventCount, events_text
from store import deliverables as item_store
from store import program_events as event_store
from store.models import DeliverableItem, ProgramEvent
from store.profile_structure import EventKind

# The option words of `/dx event` (Japanese as staff type them; English ids as well).
_OPTIONS = {
    "場所": "place",
    "place": "place",
    "参加": "attendees",
    "参加者": "attendees",
    "attendees": "attendees",
    "メモ": "notes",
    "notes": "notes",
}


@dataclass(frozen=True)
class Recorded:
    event: ProgramEvent
    kind: EventKind
    items: list[DeliverableItem]


def kinds_text(kinds: Sequence[EventKind]) -> str:
    return "、".join(f"{k.name}（{k.id}）" for k in kinds)


def find_kind(ctx: Context, ref: str) -> EventKind:
    """The profile's event kind named by its id (meeting) or its Japanese name (定例会)."""
    kinds = ctx.profile.events
    if not kinds:
        raise UserError("event_no_kinds")
    word = normalize(ref).strip()
    for k in kinds:
        if word.lower() == k.id or word == normalize(k.name):
            return k
    raise UserError("event_kind_unknown", kind=ref.strip()[:40], kinds=kinds_text(kinds))


async def record_event(
    ctx: Context,
    kind_ref: str,
    held_on: dt.date,
    place: str = "",
    attendees: Sequence[str] = (),
    notes: str = "",
) -> Recorded:
    """Record one event and make the deliverables it brings due; staff and admins only."""
    require(ctx.actor, Action.SCHEDULE)
    kind = find_kind(ctx, kind_ref)
    p = ctx.profile
    if not p.term_start <= held_on <= p.term_end:
        raise UserError(
            "event_outside_term",
            day=format_jp(held_on),
            first=format_jp(p.term_start),
            last=format_jp(p.term_end),
        )
    event = await event_store.record(
        ctx.s,
        program_id=p.id,
        kind=kind.id,
        held_on=held_on,
        now=ctx.now(),
        place=place.strip(),
        attendees=[a.strip() for a in attendees],
        notes=notes.strip(),
        created_by=ctx.actor.label,
    )
    await deliverable_pass.refresh(ctx.s, p, ctx.calendar, ctx.now())
    items = await item_store.for_event(ctx.s, p.id, event.id)
    return Recorded(event, kind, items)


def parse_event_args(text: str) -> tuple[str, str, dict[str, str]]:
    """``KIND 日付 場所=… 参加=…,… メモ=…`` → (kind, date text, options). An option's value runs
    to the next option word, so a place or a note may hold spaces."""
    tokens = normalize(text).split()
    if not tokens:
        return "", "", {}
    kind, rest = tokens[0], tokens[1:]
    date_words: list[str] = []
    options: dict[str, list[str]] = {}
    current: str | None = None
    for tok in rest:
        key, sep, value = tok.partition("=")
        if sep and key in _OPTIONS:
            current = _OPTIONS[key]
            options.setdefault(current, []).append(value)
        elif current is not None:
            options[current].append(tok)
        else:
            date_words.append(tok)
    return kind, " ".join(date_words), {k: " ".join(v).strip() for k, v in options.items()}


def split_names(text: str) -> list[str]:
    return [n.strip() for n in text.replace("、", ",").replace("，", ",").split(",") if n.strip()]


async def event_command(ctx: Context, args: str) -> list[Outbound]:
    require(ctx.actor, Action.SCHEDULE)
    kind_ref, date_text, options = parse_event_args(args)
    if not kind_ref or not date_text:
        if not ctx.profile.events:
            raise UserError("event_no_kinds")
        raise UserError("event_usage", kinds=kinds_text(ctx.profile.events))
    find_kind(ctx, kind_ref)  # an unknown kind is named before a date is asked for
    day = parse_one_date(date_text, ctx.now().astimezone(JST).date())
    if day is None:
        raise UserError("event_date_invalid", text=date_text[:40])
    done = await record_event(
        ctx,
        kind_ref,
        day,
        place=options.get("place", ""),
        attendees=split_names(options.get("attendees", "")),
        notes=options.get("notes", ""),
    )
    ev = done.event
    lines = [
        t(
            "event_recorded",
            name=done.kind.name,
            event_id=ev.id,
            day=format_jp(ev.held_on),
            place=t("event_recorded_place", place=ev.place) if ev.place else "",
        )
    ]
    lines += [
        t("event_item_made", title=i.title, item_id=i.id, due=format_jp(i.due_on))
        for i in done.items
    ]
    return [Outbound(text="\n".join(lines))]


async def events_command(ctx: Context, args: str) -> list[Outbound]:
    require(ctx.actor, Action.SCHEDULE)
    events = await event_store.listed(ctx.s, ctx.profile.id)
    if not events:
        return [Outbound(text=t("events_none"))]
    names = {k.id: k.name for k in ctx.profile.events}
    lines = [t("events_header", count=len(events))]
    for e in events:
        lines.append(
            t(
                "events_line",
                event_id=e.id,
                day=format_jp(e.held_on),
                name=names.get(e.kind, e.kind),
                place=f" {e.place}" if e.place else "",
                attendees=t("events_attendees", names="、".join(e.attendees))
                if e.attendees
                else "",
            )
        )
    today = ctx.now().astimezone(JST).date()
    held = await event_store.counts(ctx.s, ctx.profile.id, held_by=today)
    if ctx.profile.events:
        counts = tuple(
            EventCount(k.id, k.name, held.get(k.id, 0), k.expected) for k in ctx.profile.events
        )
        lines.append(t("events_counts", counts=events_text(counts)))
    return [Outbound(text="\n".join(lines))]


def help_lines(ctx: Context) -> list[str]:
    """The `/dx help` lines of staff and admins where the profile declares events or
    deliverables."""
    if not can(ctx.actor, Action.SCHEDULE):
        return []
    lines = []
    if ctx.profile.events:
        lines.append(t("help_events", kinds="、".join(k.name for k in ctx.profile.events)))
    if ctx.profile.deliverables:
        lines.append(t("help_deliverables"))
    return lines


def register(router: Router) -> None:
    router.dx_command("event", event_command)
    router.dx_command("events", events_command)
