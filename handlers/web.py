"""`/dx web`: a one-time link to the read-only web view, sent in a direct message.

Anyone registered may ask: the web view shows each person what `/status` shows them
(``bot.core.permissions.case_scope``). The link is valid for 10 minutes and once
(``store.web_auth``); it is never posted in a channel: asked for in a channel, it goes to the
person's direct messages and the channel is told only that it was sent.
"""

from __future__ import annotations

from bot.core.catalog import t
from bot.core.context import Context
from bot.core.messages import Outbound
from bot.core.router import Router
from store import audit, users, web_auth


async def web_command(ctx: Context, args: str) -> list[Outbound]:
    if args.strip():
        return [Outbound(text=t("web_usage"))]
    now = ctx.now()
    token = await web_auth.create_link(
        ctx.s, user_id=ctx.actor.user_id, program_id=ctx.profile.id, now=now
    )
    await audit.record(
        ctx.s,
        at=now,
        actor=ctx.actor.label,
        action="web_link_issued",
        object_type="user",
        object_id=str(ctx.actor.user_id),
        program_id=ctx.profile.id,
    )
    minutes = int(web_auth.LINK_TTL.total_seconds() // 60)
    message = Outbound(text=t("web_link", url=ctx.settings.web_sign_in_url(token), minutes=minutes))
    if ctx.inbound.is_direct:
        return [message]
    user = await users.get(ctx.s, ctx.actor.user_id)
    if user is not None:
        await ctx.notifier.to_user(user, message)
    return [Outbound(text=t("web_link_sent_dm"), ephemeral=True)]


def help_lines(_ctx: Context) -> list[str]:
    return [t("help_web")]


def register(router: Router) -> None:
    router.dx_command("web", web_command)
