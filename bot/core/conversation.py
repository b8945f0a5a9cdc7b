"""The persisted conversation engine.

A conversation is an explicit state machine keyed by (platform, user, thread): flow name, step,
collected fields and an expiry. State lives in the database (``store.conversations``), so a
half-finished intake resumes after a restart; an abandoned one expires with a polite message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.core import choices
from bot.core.catalog import t
from bot.core.context import Context
from bot.core.messages import Choice, Outbound
from store import conversations as conv_store

CANCEL_WORDS = frozenset({"やめる", "やめます", "キャンセル", "中止", "取り消し", "取消", "cancel"})
CHOICES_KEY = "_choices"
"""Where a conversation keeps the numbered choices it last offered, as [label, value] pairs."""
# Not a flow: the numbered choices of the last reply outside a flow (a matching proposal, a
# reminder's buttons), kept so that "1" typed on LoGo Chat or the console means that choice.
MENU = "_menu"


@dataclass
class Conversation:
    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)
    finished: bool = False

    def goto(self, step: str) -> None:
        self.step = step

    def finish(self) -> None:
        self.finished = True


class Flow(Protocol):
    """A multi-turn journey. ``label`` is the Japanese name shown to users."""

    name: str
    label: str

    async def start(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]: ...

    async def on_input(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]: ...


def is_cancel(text: str) -> bool:
    return text.strip().lower().rstrip("。.!！") in CANCEL_WORDS


class ConversationEngine:
    def __init__(self, flows: dict[str, Flow], ttl: dt.timedelta) -> None:
        self.flows = flows
        self.ttl = ttl

    def label(self, flow: str) -> str:
        f = self.flows.get(flow)
        return f.label if f else flow

    async def load(self, ctx: Context) -> tuple[Conversation | None, list[Outbound]]:
        """The caller's active conversation, or None; an expired one is dropped with a notice."""
        ib = ctx.inbound
        state = await conv_store.get(ctx.s, ib.platform, ib.user_id, ib.thread_key)
        if state is None:
            return None, []
        if state.flow == MENU:
            if state.expires_at <= ctx.now():
                await conv_store.clear(ctx.s, ib.platform, ib.user_id, ib.thread_key)
                return None, []
            return Conversation(flow=MENU, step=state.step, data=dict(state.data)), []
        if state.expires_at <= ctx.now() or state.flow not in self.flows:
            await conv_store.clear(ctx.s, ib.platform, ib.user_id, ib.thread_key)
            return None, [Outbound(text=t("conversation_expired", flow=self.label(state.flow)))]
        return Conversation(flow=state.flow, step=state.step, data=dict(state.data)), []

    async def begin(self, ctx: Context, flow_name: str, text: str = "") -> list[Outbound]:
        flow = self.flows[flow_name]
        conv = Conversation(flow=flow_name, step="start")
        replies = await flow.start(ctx, conv, text)
        await self._persist(ctx, conv, replies)
        return replies

    async def begin_with(
        self,
        ctx: Context,
        flow_name: str,
        fill: Callable[[Context, Any, Conversation], Awaitable[list[Outbound]]],
    ) -> list[Outbound]:
        """Begin a flow from something other than a first message (a submitted form)."""
        flow = self.flows[flow_name]
        conv = Conversation(flow=flow_name, step="start")
        replies = await fill(ctx, flow, conv)
        await self._persist(ctx, conv, replies)
        return replies

    async def answer(
        self, ctx: Context, conv: Conversation, text: str, *, from_button: bool = False
    ) -> list[Outbound]:
        """Feed one answer to the flow; a button's value is taken as is, never as a number.

        Typed text that names an offered choice (its number or label) reaches the flow as the
        choice's value. Other text reaches it unchanged, since flows also take free answers
        (「はい」, a date, a municipality's name) - unless it was surely meant as a choice and
        names none (a number out of range, two labels at once): then the one-sentence hint is
        the reply and the conversation stays where it was."""
        flow = self.flows[conv.flow]
        offered = offered_choices(conv)
        if offered and not from_button:
            found = choices.match(offered, text)
            if isinstance(found, choices.Chosen):
                text = found.value
            elif found.meant_a_choice:
                return [Outbound(text=found.hint)]
        replies = await flow.on_input(ctx, conv, text)
        await self._persist(ctx, conv, replies)
        return replies

    async def cancel(self, ctx: Context, conv: Conversation | None) -> list[Outbound]:
        ib = ctx.inbound
        if conv is None:
            return [Outbound(text=t("nothing_to_cancel"))]
        await conv_store.clear(ctx.s, ib.platform, ib.user_id, ib.thread_key)
        return [Outbound(text=t("conversation_cancelled", flow=self.label(conv.flow)))]

    async def remember_menu(self, ctx: Context, replies: list[Outbound]) -> None:
        """Keep the last numbered choices of a reply given outside a flow."""
        offered = [r for r in replies if r.choices]
        if not offered:
            return
        ib = ctx.inbound
        state = await conv_store.get(ctx.s, ib.platform, ib.user_id, ib.thread_key)
        if state is not None and state.flow != MENU:
            return  # a flow began in this reply; it keeps its own choices
        last = offered[-1]
        await conv_store.save(
            ctx.s,
            platform=ib.platform,
            user_platform_id=ib.user_id,
            thread_key=ib.thread_key,
            channel=ib.channel,
            flow=MENU,
            step=last.action_id,
            data={CHOICES_KEY: stored_choices(last.choices)},
            expires_at=ctx.now() + self.ttl,
            now=ctx.now(),
        )

    async def forget_menu(self, ctx: Context) -> None:
        ib = ctx.inbound
        await conv_store.clear(ctx.s, ib.platform, ib.user_id, ib.thread_key)

    @staticmethod
    def menu_choice(conv: Conversation, text: str) -> choices.Chosen | choices.NoMatch:
        """What typed text says to the numbered choices kept outside a flow."""
        return choices.match(offered_choices(conv), text)

    async def _persist(self, ctx: Context, conv: Conversation, replies: list[Outbound]) -> None:
        ib = ctx.inbound
        if conv.finished:
            await conv_store.clear(ctx.s, ib.platform, ib.user_id, ib.thread_key)
            return
        offered = [r for r in replies if r.choices]
        conv.data[CHOICES_KEY] = stored_choices(offered[-1].choices) if offered else []
        await conv_store.save(
            ctx.s,
            platform=ib.platform,
            user_platform_id=ib.user_id,
            thread_key=ib.thread_key,
            channel=ib.channel,
            flow=conv.flow,
            step=conv.step,
            data=conv.data,
            expires_at=ctx.now() + self.ttl,
            now=ctx.now(),
        )


def stored_choices(offered: tuple[Choice, ...]) -> list[list[str]]:
    """Choices as kept in the conversation's JSON data: [label, value] pairs."""
    return [[c.label, c.value] for c in offered]


def offered_choices(conv: Conversation) -> list[choices.Option]:
    """The numbered choices the conversation last offered (label, value)."""
    kept: list[Any] = conv.data.get(CHOICES_KEY) or []
    # A state saved before labels were kept holds bare values: their label is unknown, so
    # the value stands in (numbers still work).
    return [(str(c), str(c)) if isinstance(c, str) else (str(c[0]), str(c[1])) for c in kept]
