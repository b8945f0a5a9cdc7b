"""`/dx help` and the greeting: each role is told what it can do."""

from __future__ import annotations

from bot.core.catalog import t
from bot.core.context import Context
from bot.core.messages import Outbound
from bot.core.permissions import Role, may_view_roster, role_label
from bot.core.router import Router
from handlers import engagements, queue, web
from handlers import events as structure

GREETING_WORDS = ("こんにちは", "こんばんは", "おはよう", "はじめまして", "hello", "hi")
HELP_WORDS = ("ヘルプ", "help", "使い方", "つかいかた", "何ができる", "なにができる")


def help_text(ctx: Context) -> str:
    role = ctx.actor.role
    lines = [t("help_header", role=role_label(role)), t(f"help_{role.value}")]
    # What the program profile adds: the roster (Miyazaki ②, Saitama §6(3)) and consultations
    # taken by the prefecture on a municipality's behalf (Kumamoto §2.3(1)).
    if may_view_roster(ctx.actor, officers_allowed=ctx.profile.roster_visible_to_officers):
        lines.append(t("help_roster"))
    if ctx.profile.intake_via_prefecture and role is Role.PREFECTURE:
        lines.append(t("help_behalf"))
    lines += engagements.help_lines(ctx)  # where tracks run engagements (/dx engage, /dx plan)
    lines += structure.help_lines(ctx)  # events and deliverables (/dx event, /dx done)
    lines += queue.help_lines(ctx)  # what waits for whom (/dx queue)
    lines += web.help_lines(ctx)  # the web view (/dx web)
    return "\n".join([*lines, t("help_footer")])


async def show_help(ctx: Context, _args: str) -> list[Outbound]:
    return [Outbound(text=help_text(ctx))]


async def greet(ctx: Context, _text: str) -> list[Outbound]:
    name = ctx.actor.name or ctx.actor.platform_id
    return [Outbound(text=t("greeting", name=name, program=ctx.profile.name))]


async def not_understood(ctx: Context, _text: str) -> list[Outbound]:
    return [Outbound(text=t("not_understood"))]


def _is_help(_ctx: Context, text: str) -> bool:
    low = text.lower()
    return any(w in low for w in HELP_WORDS) and len(text) <= 20


def _is_greeting(_ctx: Context, text: str) -> bool:
    low = text.lower().rstrip("!！。.")
    return any(low.startswith(w) for w in GREETING_WORDS) and len(text) <= 20


def register(router: Router) -> None:
    router.dx_command("help", show_help)
    router.intent(_is_help, show_help)
    router.intent(_is_greeting, greet)
