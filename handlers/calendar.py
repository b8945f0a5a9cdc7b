"""`/dx due DATE`: staff and experts ask when a session's report is due."""

from __future__ import annotations

from bot.core.catalog import t
from bot.core.context import Context
from bot.core.dates import parse_one_date
from bot.core.errors import UserError
from bot.core.messages import Outbound
from bot.core.permissions import Action, require
from bot.core.router import Router
from reminders.calendar import format_jp


async def due(ctx: Context, args: str) -> list[Outbound]:
    require(ctx.actor, Action.ASK_CALENDAR)
    text = args.strip()
    day = parse_one_date(text, ctx.now().date()) if text else ctx.now().date()
    if day is None:
        raise UserError("date_invalid", text=text[:40])
    n = ctx.profile.default_track.report_open_days
    due_day = ctx.calendar.add_open_days(day, n)
    reason = ctx.calendar.closed_reason(day)
    note = t("due_note_closed", day=format_jp(day), reason=reason) if reason else ""
    return [
        Outbound(text=t("due_answer", day=format_jp(day), n=n, due=format_jp(due_day), note=note))
    ]


def register(router: Router) -> None:
    router.dx_command("due", due)
