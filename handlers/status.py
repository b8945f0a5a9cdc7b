"""`/status` and `/status CASE_ID`: the program at a glance, scoped by role.

Staff, prefecture and admin see the program; an officer their municipality; an expert their
assignments and pending reports (``bot.core.permissions.case_scope`` decides). One case is shown only
to those who may see it, with the same "not found" for missing and forbidden case numbers.
"""

from __future__ import annotations

from bot.core.catalog import t
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.messages import Outbound
from bot.core.permissions import Action, Role, case_scope, may_see_personal_data, require
from bot.core.router import Router
from handlers.lifecycle import load_case_for
from reports import render_status, status, status_json
from reports.queue import Lead


async def status_text(ctx: Context) -> str:
    """The role's view as chat text (also what `dxbot status` prints)."""
    require(ctx.actor, Action.VIEW_OWN_STATUS)
    view = await status.view_for(
        ctx.s,
        ctx.profile,
        ctx.calendar,
        ctx.now(),
        case_scope(ctx.actor),
        user_id=ctx.actor.user_id,
        name=ctx.actor.label,
        lead=_lead(ctx),
    )
    return render_status.render(view, ctx.calendar)


async def status_json_text(ctx: Context) -> str:
    """The same view as JSON (`dxbot status --json`; README "Status as JSON")."""
    require(ctx.actor, Action.VIEW_OWN_STATUS)
    view = await status.view_for(
        ctx.s,
        ctx.profile,
        ctx.calendar,
        ctx.now(),
        case_scope(ctx.actor),
        user_id=ctx.actor.user_id,
        name=ctx.actor.label,
        list_limit=status.JSON_LIST_LIMIT,
        lead=_lead(ctx),
    )
    return status_json.dump(status_json.status_json(view, ctx.profile, ctx.calendar))


def _lead(ctx: Context) -> Lead:
    """Whose waits lead the program's queue: the prefecture's own for the prefecture."""
    return "prefecture" if ctx.actor.role is Role.PREFECTURE else "staff"


async def case_json_text(ctx: Context, case_no: str) -> str:
    """One case as JSON, if the actor may see it."""
    view = await _case_view(ctx, case_no)
    return status_json.dump(status_json.case_json(view, ctx.profile, ctx.now()))


async def _case_view(ctx: Context, case_no: str) -> status.CaseView:
    require(ctx.actor, Action.VIEW_OWN_STATUS)
    case = await load_case_for(ctx, case_no)
    view = await status.case_view(
        ctx.s,
        ctx.profile,
        ctx.calendar,
        ctx.now(),
        case.id,
        show_personal=may_see_personal_data(ctx.actor),
    )
    if view is None:
        raise UserError("case_not_found", case_no=case_no[:30])
    return view


async def case_text(ctx: Context, case_no: str) -> str:
    """One case with its sessions and history, if the actor may see it."""
    return render_status.render_case(await _case_view(ctx, case_no), ctx.now())


async def status_command(ctx: Context, args: str) -> list[Outbound]:
    words = args.split()
    if len(words) > 1:
        return [Outbound(text=t("sv_usage"))]
    if words:
        return [Outbound(text=await case_text(ctx, words[0]))]
    return [Outbound(text=await status_text(ctx))]


def register(router: Router) -> None:
    router.command("/status", status_command)
