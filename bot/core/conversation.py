"""The persisted conversation engine.

A conversation is an explicit state machine keyed by (platform, user, thread): flow name, step,
collected fields and an expiry. State lives in the database (``store.conversations``), so a
half-finished intake resumes after a restart; an abandoned one expires with a polite message.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.core import choices
from bot.core.catalog import t
from bot.core.context import Context
from bot.core.messages import Choice, Outbound
from reminders.calendar import format_jp
from reminders.clock import JST
from store import conversations as conv_store

CANCEL_WORDS = frozenset(
    {
        "やめる",
        "やめます",
        "やめたい",
        "やめておきます",
        "やめてください",
        "止める",
        "止めます",
        "キャンセル",
        "キャンセルします",
        "キャンセルしてください",
        "中止",
        "中止します",
        "取り消し",
        "取り消す",
        "取り消します",
        "取消",
        "取消し",
        "もういい",
        "もういいです",
        "やっぱりいい",
        "やっぱりいいです",
        "cancel",
        "quit",
        "stop",
    }
)
PAUSE_WORDS = frozenset(
    {
        "あとで",
        "後で",
        "あとで続ける",
        "後で続ける",
        "あとでやります",
        "後でやります",
        "またあとで",
        "また後で",
        "中断",
        "中断します",
        "一時中断",
        "いったん中断",
        "一旦中断",
        "保存して中断",
        "later",
    }
)
PAUSE = "pause"
"""The value of a 「あとで続ける」 choice: the engine pauses the conversation, keeping the draft."""
DRAFT_PREFIX = "~draft:"
"""Thread keys of paused drafts: ``~draft:<flow>:<key>``, one per flow and key (a report's is
its session id), kept beside the person's active conversation so starting something else never
overwrites them."""
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


def _word(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).strip().lower().rstrip("。.!！、 ")
    return "".join(folded.split())


def is_cancel(text: str) -> bool:
    """Everyday ways of saying "cancel this" (やめます, キャンセル, 中止, 取り消し, もういい…)."""
    return _word(text) in CANCEL_WORDS


def is_pause(text: str) -> bool:
    """Everyday ways of saying "later" inside a conversation (あとで, 中断…)."""
    return _word(text) in PAUSE_WORDS


def is_draft_key(thread_key: str) -> bool:
    return thread_key.startswith(DRAFT_PREFIX)


def draft_key(flow: str, key: str) -> str:
    return f"{DRAFT_PREFIX}{flow}:{key}"[:120]


@dataclass(frozen=True)
class Draft:
    """A paused conversation: what it had collected and until when it is kept."""

    flow: str
    key: str
    step: str
    data: dict[str, Any]
    expires_at: dt.datetime


class ConversationEngine:
    """Runs flows. Optional attributes a flow may declare: ``keep`` (a ``timedelta``: how long
    its state is kept, active or paused, when longer than the default), ``resume_command`` (what
    to type to resume it, shown when it is paused) and ``async resume(ctx, conv)`` (the question
    to show again when it resumes; without it the engine says where it stood)."""

    def __init__(self, flows: dict[str, Flow], ttl: dt.timedelta) -> None:
        self.flows = flows
        self.ttl = ttl

    def label(self, flow: str) -> str:
        f = self.flows.get(flow)
        return f.label if f else flow

    def ttl_of(self, flow: str) -> dt.timedelta:
        """How long a conversation of this kind is kept: its flow's own ``keep`` when longer."""
        keep = getattr(self.flows.get(flow), "keep", None)
        return max(self.ttl, keep) if isinstance(keep, dt.timedelta) else self.ttl

    async def active(self, ctx: Context) -> Conversation | None:
        """The caller's conversation in progress (not a kept menu, not expired), or None."""
        ib = ctx.inbound
        state = await conv_store.get(ctx.s, ib.platform, ib.user_id, ib.thread_key)
        if state is None or state.flow == MENU or state.expires_at <= ctx.now():
            return None
        if state.flow not in self.flows:
            return None
        return Conversation(flow=state.flow, step=state.step, data=dict(state.data))

    async def pause(
        self, ctx: Context, conv: Conversation, *, quiet: bool = False
    ) -> list[Outbound]:
        """Keep the conversation as a draft (nothing typed is lost) and say how to resume it."""
        ib = ctx.inbound
        key = str(conv.data.get("draft_key", ""))
        until = ctx.now() + self.ttl_of(conv.flow)
        await conv_store.save(
            ctx.s,
            platform=ib.platform,
            user_platform_id=ib.user_id,
            thread_key=draft_key(conv.flow, key),
            channel=ib.channel,
            flow=conv.flow,
            step=conv.step,
            data=conv.data,
            expires_at=until,
            now=ctx.now(),
        )
        await conv_store.clear(ctx.s, ib.platform, ib.user_id, ib.thread_key)
        if quiet:
            return []
        command = str(getattr(self.flows.get(conv.flow), "resume_command", "") or "")
        return [
            Outbound(
                text=t(
                    "conversation_paused",
                    flow=self.label(conv.flow),
                    until=format_jp(until.astimezone(JST).date()),
                )
                + (t("conversation_resume_with", command=command) if command else "")
            )
        ]

    async def drafts(self, ctx: Context, flow: str) -> list[Draft]:
        """The caller's paused drafts of one flow, newest first (expired ones left out)."""
        ib = ctx.inbound
        prefix = draft_key(flow, "")
        states = await conv_store.with_prefix(ctx.s, ib.platform, ib.user_id, prefix)
        return [
            Draft(
                flow=st.flow,
                key=st.thread_key.removeprefix(prefix),
                step=st.step,
                data=dict(st.data),
                expires_at=st.expires_at,
            )
            for st in states
            if st.expires_at > ctx.now() and st.flow == flow
        ]

    async def resume(
        self, ctx: Context, flow_name: str, key: str | None = None
    ) -> list[Outbound] | None:
        """Go back to where a conversation of this flow stopped: the one in progress (when its
        key matches) or a paused draft. None when there is neither."""
        flow = self.flows[flow_name]
        current = await self.active(ctx)
        if current is not None and current.flow == flow_name:
            if key is None or str(current.data.get("draft_key", "")) == key:
                return await self._resumed(ctx, flow, current)
        found = [d for d in await self.drafts(ctx, flow_name) if key is None or d.key == key]
        if not found:
            return None
        draft = found[0]
        ib = ctx.inbound
        notices: list[Outbound] = []
        if current is not None:
            notices = await self._set_aside(ctx, current)
        await conv_store.clear(ctx.s, ib.platform, ib.user_id, draft_key(flow_name, draft.key))
        conv = Conversation(flow=flow_name, step=draft.step, data=dict(draft.data))
        return notices + await self._resumed(ctx, flow, conv)

    async def _resumed(self, ctx: Context, flow: Flow, conv: Conversation) -> list[Outbound]:
        again = getattr(flow, "resume", None)
        replies: list[Outbound] = [Outbound(text=t("conversation_resumed", flow=flow.label))]
        if again is not None:
            replies.extend(await again(ctx, conv))
        else:
            replies.extend(self._offered_again(conv))
        await self._persist(ctx, conv, replies)
        return replies

    @staticmethod
    def _offered_again(conv: Conversation) -> list[Outbound]:
        offered = offered_choices(conv)
        if not offered:
            return []
        return [
            Outbound(
                text=t("conversation_resume_choose"),
                choices=tuple(offered),
            )
        ]

    async def _set_aside(self, ctx: Context, current: Conversation) -> list[Outbound]:
        """Another conversation begins: the one in progress is kept as a draft, not lost."""
        replies = await self.pause(ctx, current)
        return replies if _has_input(current) else []

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
        current = await self.active(ctx)
        conv = Conversation(flow=flow_name, step="start")
        replies = await flow.start(ctx, conv, text)
        notices = await self._set_aside(ctx, current) if current is not None else []
        await self._persist(ctx, conv, replies)
        return notices + replies

    async def begin_with(
        self,
        ctx: Context,
        flow_name: str,
        fill: Callable[[Context, Any, Conversation], Awaitable[list[Outbound]]],
    ) -> list[Outbound]:
        """Begin a flow from something other than a first message (a submitted form)."""
        flow = self.flows[flow_name]
        current = await self.active(ctx)
        conv = Conversation(flow=flow_name, step="start")
        replies = await fill(ctx, flow, conv)
        notices = await self._set_aside(ctx, current) if current is not None else []
        await self._persist(ctx, conv, replies)
        return notices + replies

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
        if text == PAUSE or (not from_button and is_pause(text)):
            return await self.pause(ctx, conv)
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
            expires_at=ctx.now() + self.ttl_of(conv.flow),
            now=ctx.now(),
        )


def _has_input(conv: Conversation) -> bool:
    """Whether a conversation holds anything the person typed (beyond where it stands)."""
    return any(k != CHOICES_KEY and v not in (None, "", [], {}) for k, v in conv.data.items())


def stored_choices(offered: tuple[Choice, ...]) -> list[list[str]]:
    """Choices as kept in the conversation's JSON data: [label, value, *aliases]."""
    return [[c.label, c.value, *c.aliases] for c in offered]


def offered_choices(conv: Conversation) -> list[Choice]:
    """The numbered choices the conversation last offered."""
    kept: list[Any] = conv.data.get(CHOICES_KEY) or []
    # A state saved before labels were kept holds bare values: their label is unknown, so
    # the value stands in (numbers still work).
    return [
        Choice(label=str(c), value=str(c))
        if isinstance(c, str)
        else Choice(label=str(c[0]), value=str(c[1]), aliases=tuple(str(a) for a in c[2:]))
        for c in kept
    ]
