"""Deliverables: the open items with short ids and due dates (`/dx deliverables`), closing one
(`/dx done D12`, `dxbot deliverables done 12`), and the words of their reminders to the staff
(the reminder pass's ``deliverable_ping``; which step is due is reminders/deliverable_pass.py's
business). The items themselves are made from the profile's rules by the pass and whenever an
event is recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

from bot.core.catalog import t
from bot.core.context import Context
from bot.core.dates import normalize
from bot.core.errors import UserError
from bot.core.messages import Outbound
from bot.core.permissions import Action, require
from bot.core.router import Router
from reminders import deliverable_pass
from reminders.calendar import BusinessCalendar, format_jp, format_jp_datetime
from reminders.clock import JST
from store import deliverables as item_store
from store.db import Session
from store.models import DeliverableItem
from store.profiles import ProgramProfile


def item_id(ref: str) -> int | None:
    """D12, d12, Ｄ１２ or 12 → 12; anything else → None."""
    word = normalize(ref).strip().upper().removeprefix("D").lstrip("#")
    return int(word) if word.isdigit() and 0 < int(word) < 2**62 else None


def receiver(profile: ProgramProfile, spec_id: str) -> str:
    """県へ提出 / 事務局へ提出, from the spec (an item whose spec left the profile: 県)."""
    to = next((d.submitted_to for d in profile.deliverables if d.id == spec_id), "prefecture")
    return t("deliv_to_staff" if to == "staff" else "deliv_to_prefecture")


def state_text(cal: BusinessCalendar, due: dt.date, today: dt.date) -> str:
    if today > due:
        return t("deliv_state_overdue", days=cal.open_days_until(due, today))
    if today == due:
        return t("deliv_state_today")
    return t("deliv_state_left")


async def close_item(ctx: Context, ref: str) -> DeliverableItem:
    """Mark one open item done, recording who and when; refuses an unknown or closed one."""
    require(ctx.actor, Action.SCHEDULE)
    found_id = item_id(ref)
    item = None if found_id is None else await item_store.get(ctx.s, ctx.profile.id, found_id)
    if item is None:
        raise UserError("deliv_not_found", ref=ref.strip()[:20] or "（未指定）")
    if item.done_at is None and await item_store.mark_done(ctx.s, item, ctx.actor.label, ctx.now()):
        return item
    assert item.done_at is not None  # closed by someone else, re-read by mark_done
    raise UserError(
        "deliv_already_done",
        item_id=item.id,
        title=item.title,
        by=item.done_by,
        when=format_jp_datetime(item.done_at),
    )


async def done_command(ctx: Context, args: str) -> list[Outbound]:
    require(ctx.actor, Action.SCHEDULE)
    if not args.strip():
        raise UserError("deliv_usage")
    item = await close_item(ctx, args.split()[0])
    assert item.done_at is not None
    return [
        Outbound(
            text=t(
                "deliv_done_reply",
                item_id=item.id,
                title=item.title,
                by=item.done_by,
                when=format_jp_datetime(item.done_at),
            )
        )
    ]


async def deliverables_command(ctx: Context, args: str) -> list[Outbound]:
    require(ctx.actor, Action.SCHEDULE)
    await deliverable_pass.refresh(ctx.s, ctx.profile, ctx.calendar, ctx.now())
    items = await item_store.listed(ctx.s, ctx.profile.id)
    if not items:
        return [Outbound(text=t("deliv_none"))]
    today = ctx.now().astimezone(JST).date()
    lines = [t("deliv_header", count=len(items))]
    lines += [
        t(
            "deliv_line",
            item_id=i.id,
            title=i.title,
            due=format_jp(i.due_on),
            to=receiver(ctx.profile, i.spec_id),
            state=state_text(ctx.calendar, i.due_on, today),
        )
        for i in items
    ]
    return [Outbound(text="\n".join(lines))]


class DeliverableReminders:
    """The deliverables' part of the reminder port (reminders.deliverable_pass.DeliverablePort):
    one message to the staff channel listing the items whose step came due."""

    make_context: Callable[[Session], Context]

    async def deliverable_ping(self, s: Session, items: list[tuple[DeliverableItem, str]]) -> None:
        ctx = self.make_context(s)
        today = ctx.now().astimezone(JST).date()
        lines = []
        for item, step in items:
            key = f"ping_deliv_{step}"
            if step == deliverable_pass.DUE and item.due_on != today:
                key = "ping_deliv_due_closed"  # the last 開庁日 before a closed due day
            lines.append(
                t(
                    key,
                    item_id=item.id,
                    title=item.title,
                    to=receiver(ctx.profile, item.spec_id),
                    due=format_jp(item.due_on),
                    days=ctx.calendar.open_days_until(today, item.due_on),
                )
            )
        # Hashed: a bundle of many items would overflow the 200-character key column.
        steps = ",".join(f"{item.id}.{step}" for item, step in items)
        digest = hashlib.sha256(steps.encode()).hexdigest()[:32]
        await ctx.notifier.to_staff(
            Outbound(text=t("ping_deliverables", lines="\n".join(lines))),
            dedupe_key=f"deliv:{today.isoformat()}:{digest}",
        )


def register(router: Router) -> None:
    router.dx_command("deliverables", deliverables_command)
    router.dx_command("done", done_command)
