"""`/dx queue`: every wait of the desk's queue — what waits for whom, by case id and age in 開庁日 —
for the role's scope (`/status` shows the 10 oldest; ``reports.queue``). Also the flagged waits
the reminder pass adds to the staff's bundled reminder (``reminders.run.QueueFlag``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Sequence

from bot.core.catalog import t
from bot.core.context import Context
from bot.core.messages import Outbound
from bot.core.permissions import Action, Role, case_scope, require
from bot.core.router import Router
from reminders.clock import JST
from reminders.run import QueueFlag
from reports import queue as queue_view
from store.reporting.queue import Wait
from store.scope import EVERYTHING

LEADS: dict[Role, queue_view.Lead] = {
    Role.PREFECTURE: "prefecture",
    Role.OFFICER: "officer",
    Role.EXPERT: "expert",
}


def lead_of(ctx: Context) -> queue_view.Lead:
    """Whose waits lead: the prefecture's approvals for the prefecture, an expert's reports for
    the expert; the desk (and admin) see everything oldest first."""
    return LEADS.get(ctx.actor.role, "staff")


async def queue_of(ctx: Context) -> queue_view.QueueView:
    require(ctx.actor, Action.VIEW_OWN_STATUS)
    return await queue_view.load(
        ctx.s, ctx.profile, ctx.calendar, ctx.now(), case_scope(ctx.actor), lead_of(ctx)
    )


async def queue_text(ctx: Context) -> str:
    """Every wait the actor may see, as chat text (also what `dxbot queue` prints)."""
    return "\n".join(queue_view.all_lines(await queue_of(ctx)))


async def queue_json_text(ctx: Context) -> str:
    """The same as JSON (`dxbot queue --json`; README "Status as JSON", key ``queue``)."""
    view = await queue_of(ctx)
    listing = queue_view.QueueListJson(
        program=ctx.profile.id, as_of=ctx.now(), **queue_view.to_json(view).model_dump()
    )
    return listing.model_dump_json(indent=2)


async def queue_command(ctx: Context, args: str) -> list[Outbound]:
    if args.strip():
        return [Outbound(text=t("q_usage"))]
    return [Outbound(text=await queue_text(ctx))]


# --- the reminder pass -----------------------------------------------------------------------------


async def flags(ctx: Context) -> list[QueueFlag]:
    """The program's waits older than the profile allows (``queue:`` in the profile), less those
    other reminders already chase: a review waiting (the staff reminded each 開庁日) and a report
    past its due day (escalated each 開庁日; reminders/planner.py), a deliverable (before, on and
    after its due day; reminders/deliverable_pass.py), a survey (the officer reminded, the case
    closed after the grace period; reminders/run.py)."""
    view = await queue_view.load(ctx.s, ctx.profile, ctx.calendar, ctx.now(), EVERYTHING)
    today = ctx.now().astimezone(JST).date()
    return [
        QueueFlag(ref=i.wait.key, line=queue_view.line(i), session_id=i.wait.session_id)
        for i in view.flagged
        if not _chased(i.wait, today)
    ]


def _chased(wait: Wait, today: dt.date) -> bool:
    if wait.kind in ("review", "deliverable", "survey"):
        return True
    return wait.kind == "report" and wait.due is not None and wait.due < today


def staff_lines(queue: Sequence[QueueFlag], chased: Collection[int]) -> list[str]:
    """The flagged waits for the staff's bundled reminder, less the reports that bundle already
    chases (the same session twice in one message helps nobody)."""
    return [f.line for f in queue if f.session_id is None or f.session_id not in chased]


def staff_text(queue: Sequence[QueueFlag], chased: Collection[int]) -> str:
    """The block appended to the staff's reminder ('' when nothing is left to say)."""
    lines = staff_lines(queue, chased)
    if not lines:
        return ""
    return "\n" + "\n".join([t("q_ping_header", n=len(lines)), *lines])


def staff_message(queue: Sequence[QueueFlag]) -> str:
    """The staff's reminder when no report is chased that pass: the flagged waits alone."""
    return t("q_ping_staff", lines="\n".join(staff_lines(queue, ())))


def dedupe_key(queue: Sequence[QueueFlag], day: str) -> str:
    digest = hashlib.sha256(",".join(f.ref for f in queue).encode()).hexdigest()[:32]
    return f"ping:queue:{day}:{digest}"


def help_lines(ctx: Context) -> list[str]:
    return [t("q_help")]


def register(router: Router) -> None:
    router.dx_command("queue", queue_command)
