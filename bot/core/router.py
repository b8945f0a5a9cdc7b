"""Routes an Inbound to a handler: commands, `/dx` sub-commands, button actions, an active
conversation, or a free-text intent. Registration is data (small dicts), filled by each handler
module's ``register(router)`` from the composition root."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.core import choices
from bot.core.catalog import t
from bot.core.context import Context
from bot.core.conversation import MENU, Conversation, ConversationEngine, is_cancel
from bot.core.errors import UserError
from bot.core.messages import Outbound

Handler = Callable[[Context, str], Awaitable[list[Outbound]]]
Predicate = Callable[[Context, str], bool]

COMMANDS = ("/consult", "/status", "/report", "/deck", "/dx")


@dataclass
class Router:
    engine: ConversationEngine
    commands: dict[str, Handler] = field(default_factory=dict)
    dx: dict[str, Handler] = field(default_factory=dict)
    actions: dict[str, Handler] = field(default_factory=dict)
    intents: list[tuple[Predicate, Handler]] = field(default_factory=list)
    fallback: Handler | None = None

    def command(self, name: str, handler: Handler) -> None:
        if name not in COMMANDS:
            raise ValueError(f"{name} is not a command of the contract {COMMANDS}")
        self._register(self.commands, name, handler)

    def dx_command(self, name: str, handler: Handler) -> None:
        self._register(self.dx, name, handler)

    def action(self, action_id: str, handler: Handler) -> None:
        self._register(self.actions, action_id, handler)

    def intent(self, predicate: Predicate, handler: Handler) -> None:
        self.intents.append((predicate, handler))

    @staticmethod
    def _register(table: dict[str, Handler], key: str, handler: Handler) -> None:
        # Fail at start-up, not on the first message, when a module registers twice.
        if key in table:
            raise ValueError(f"{key!r} is registered twice")
        table[key] = handler

    async def route(self, ctx: Context) -> list[Outbound]:
        conv, notices = await self.engine.load(ctx)
        if conv is not None and conv.flow == MENU and ctx.inbound.kind == "message":
            found = self.engine.menu_choice(conv, ctx.inbound.text)
            if isinstance(found, choices.Chosen):
                await self.engine.forget_menu(ctx)
                replies = await self._action(ctx, None, conv.step, found.value)
                await self.engine.remember_menu(ctx, replies)
                return replies
            if found.meant_a_choice:
                return [Outbound(text=found.hint)]
            # Anything else leaves the numbered choices standing (a `/dx help` in between must
            # not lose them) until a reply offers new ones, a flow starts, or the user cancels.
            if ctx.inbound.kind == "message" and is_cancel(ctx.inbound.text.strip()):
                await self.engine.forget_menu(ctx)
            conv = None
        replies = await self._route(ctx, conv)
        if conv is None:
            await self.engine.remember_menu(ctx, replies)
        return notices + replies

    async def _route(self, ctx: Context, conv: Conversation | None) -> list[Outbound]:
        ib = ctx.inbound
        if ib.kind == "command":
            return await self._command(ctx, ib.command or "", ib.text)
        if ib.kind in ("action", "form"):
            return await self._action(ctx, conv, ib.action_id or "", ib.value or "")
        text = ib.text.strip()
        if text.startswith("/"):
            name, _, rest = text.partition(" ")
            if not name[1:].isdigit():
                return await self._command(ctx, name.lower(), rest.strip())
        if is_cancel(text):
            return await self.engine.cancel(ctx, conv)
        if conv is not None:
            return await self.engine.answer(ctx, conv, text)
        for predicate, handler in self.intents:
            if predicate(ctx, text):
                return await handler(ctx, text)
        if self.fallback is not None:
            return await self.fallback(ctx, text)
        return [Outbound(text=t("not_understood"))]

    async def _command(self, ctx: Context, name: str, args: str) -> list[Outbound]:
        if name == "/dx":
            sub, _, rest = args.strip().partition(" ")
            sub = sub.lower() or "help"
            handler = self.dx.get(sub)
            if handler is None:
                raise UserError("unknown_dx_subcommand", sub=sub[:40])
            return await handler(ctx, rest.strip())
        handler = self.commands.get(name)
        if handler is None:
            raise UserError("unknown_command", command=name[:40])
        return await handler(ctx, args)

    async def _action(
        self, ctx: Context, conv: Conversation | None, action_id: str, value: str
    ) -> list[Outbound]:
        if action_id == "choice":
            if conv is not None and conv.flow != MENU:
                return await self.engine.answer(ctx, conv, value, from_button=True)
            return [Outbound(text=t("not_understood"))]
        handler = self.actions.get(action_id)
        if handler is None:
            return [Outbound(text=t("not_understood"))]
        return await handler(ctx, value)
