"""`/dx help` and the greeting: each role is told what it can do."""

from __future__ import annotations

from bot.core.catalog import t
from bot.core.context import Context
from bot.core.messages import Outbound
from bot.core.permissions import role_label
from bot.core.router import Router

GREETING_WORDS = ("こんにちは", "こんばんは", "おはよう", "はじめまして", "hello", "hi")
HELP_WORDS = ("ヘルプ", "help", "使い方", "つかいかた", "何ができる", "なにができる")


def help_text(ctx: Context) -> str:
    role = ctx.actor.role
    return "\n".join(
        (t("help_header", role=role_label(role)), t(f"help_{role.value}"), t("help_footer"))
    )


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
