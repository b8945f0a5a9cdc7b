"""The boundary every inbound message crosses: validate, dedupe, identify, route, commit.

One transaction per inbound event. The event id is claimed in it, so a duplicated delivery
changes nothing the second time; a refusal (UserError) rolls back the handler's work but keeps
the claim; any other error rolls back everything, is logged, and gets a polite answer.

Where the claim is made differs by database. On PostgreSQL it is the transaction's first
statement: a concurrent copy of the event waits there (a row lock, no one else waits) and is
then refused before doing any work. On SQLite it is made at the end, with the replies: SQLite
has one writer for the whole file, and its write lock is taken at a transaction's first write
(store/db.py), so a claim made first held it for the whole handling — every ack, which writes
the inbox, waited for it (bench/bench_ack.py). A handling that only reads (``/status``, help)
now takes the lock for its claim, its replies and its commit. A copy already handled is still
recognised by a read at the start; a concurrent copy (a lease taken over while the first
handling still runs) finds the id taken at the end, and everything it did is rolled back.
"""

from __future__ import annotations

import contextlib
import logging
import unicodedata
from collections.abc import Awaitable, Callable

from bot.core import program_choice
from bot.core.catalog import t
from bot.core.config import Settings
from bot.core.context import BackgroundJob, Context
from bot.core.errors import UserError
from bot.core.llm import LLM
from bot.core.logs import case_id_var, event_id_var
from bot.core.messages import Inbound, Outbound
from bot.core.notifier import Notifier
from bot.core.permissions import Actor
from bot.core.program_choice import ProgramCatalog
from bot.core.router import Router
from reminders.calendar import BusinessCalendar
from reminders.clock import Clock
from store import events, users
from store.db import Conflict, Database, Session
from store.models import ProgramMember
from store.profiles import ProgramProfile

log = logging.getLogger("dxbot.dispatch")

KEEP_CONTROL = {"\n", "\t"}

#: Called with an event's replies in the transaction that settles it (see ``Dispatcher.handle``).
Settle = Callable[[Session, list[Outbound]], Awaitable[None]]


def clean_text(text: str) -> str:
    """Drop control characters (keeping newlines and tabs) and normalise newlines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        c for c in text if c in KEEP_CONTROL or unicodedata.category(c) not in ("Cc", "Cf")
    )


class _ClaimedMeanwhile(Exception):
    """The event id, free when the handling began, was claimed by a concurrent copy."""


class _Refused(Exception):
    """A refusal to answer after rolling back the whole transaction (see ``_handle_in``)."""

    def __init__(self, error: UserError) -> None:
        super().__init__(error.key)
        self.error = error


class Dispatcher:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        settings: Settings,
        profile: ProgramProfile,
        router: Router,
        llm: LLM,
        calendar: BusinessCalendar,
        run_background: Callable[[BackgroundJob], Awaitable[None]] | None = None,
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.profile = profile
        self.router = router
        self.llm = llm
        self.calendar = calendar
        self.run_background = run_background
        self.after_commit = after_commit
        # Several programs may share the database: each person works in theirs.
        self.programs = ProgramCatalog()

    async def handle(self, inbound: Inbound, settle: Settle | None = None) -> list[Outbound]:
        """Handle one inbound message; its replies.

        ``settle`` (the inbox worker's) is called with the replies inside the transaction that
        commits the handling — or, when nothing is committed (a refusal before the database, a
        concurrent duplicate, a failure rolled back), in a transaction of its own — so the
        worker can store the replies and mark the delivery done atomically with the work.
        """
        event_id_var.set(inbound.event_id)
        case_id_var.set("-")
        inbound = inbound.model_copy(update={"text": clean_text(inbound.text)})
        refusal = self._check_text(inbound)
        if refusal is not None:
            await self._settle_alone(settle, [refusal])
            return [refusal]
        background: list[BackgroundJob] = []
        try:
            replies = await self._handle_in_transaction(inbound, background, settle)
        except (Conflict, _ClaimedMeanwhile):
            return await self._lost_race(settle)
        except _Refused as refused:
            replies = await self._refuse(inbound, refused.error, settle)
        except Exception:
            log.exception("inbound handling failed; rolled back")
            replies = [Outbound(text=t("internal_error"))]
            await self._settle_alone(settle, replies)
            return replies
        if self.after_commit is not None:
            self.after_commit()
        for job in background:
            if self.run_background is not None:
                await self.run_background(job)
            else:
                await job()
        return replies

    async def _lost_race(self, settle: Settle | None) -> list[Outbound]:
        """A concurrent duplicate delivery won the race for the event id: no reply."""
        log.info("duplicate event (concurrent); ignored")
        await self._settle_alone(settle, [])
        return []

    async def _settle_alone(self, settle: Settle | None, replies: list[Outbound]) -> None:
        if settle is not None:
            async with self.db.transaction() as s:
                await settle(s, replies)

    def _check_text(self, ib: Inbound) -> Outbound | None:
        if ib.kind == "message" and not ib.text.strip() and not ib.files:
            return Outbound(text=t("empty_message"))
        limit = self.settings.max_message_chars
        if len(ib.text) > limit:
            return Outbound(text=t("message_too_long", length=len(ib.text), limit=limit))
        return None

    async def _refuse(self, ib: Inbound, error: UserError, settle: Settle | None) -> list[Outbound]:
        """A refusal raised without a savepoint (SQLite): the handler's work was rolled back
        whole; the claim and the refusal are committed on their own."""
        log.info("refused: %s", error.key)
        replies = [Outbound(text=error.render())]
        try:
            async with self.db.transaction() as s:
                if not await events.claim(s, ib.platform, ib.event_id, self.clock.now()):
                    replies = []
                if settle is not None:
                    await settle(s, replies)
        except Conflict:
            return await self._lost_race(settle)
        return replies

    async def _handle_in_transaction(
        self, ib: Inbound, background: list[BackgroundJob], settle: Settle | None
    ) -> list[Outbound]:
        claim_last = self.db.dialect == "sqlite"
        async with self.db.transaction() as s:
            if claim_last:
                seen = await events.seen(s, ib.platform, ib.event_id)
            else:
                seen = not await events.claim(s, ib.platform, ib.event_id, self.clock.now())
            if seen:
                log.info("duplicate event; ignored")
                replies = []
            else:
                replies = await self._handle_in(s, ib, background, savepoint=not claim_last)
                if claim_last and not await events.claim(
                    s, ib.platform, ib.event_id, self.clock.now()
                ):
                    raise _ClaimedMeanwhile()
            if settle is not None:
                await settle(s, replies)
            return replies

    async def _handle_in(
        self, s: Session, ib: Inbound, background: list[BackgroundJob], *, savepoint: bool
    ) -> list[Outbound]:
        """Identify, route, and collect the background jobs. ``savepoint``: a refusal rolls
        back to a savepoint taken before the handler; without one (SQLite, where a savepoint
        takes the write lock, store/db.py, for the whole handling), a refusal is raised as
        ``_Refused``: the transaction is rolled back whole, and the claim and the refusal are
        committed in one of their own — the same outcome."""
        user = await users.get_by_platform_id(s, ib.platform, ib.user_id)
        if user is None:
            log.info("unknown user on %s", ib.platform)
            return [Outbound(text=t("unknown_user", platform_id=ib.user_id[:64]))]
        actor = Actor.of_user(user)
        profile, members = await self.programs.of_person(s, user.id, self.profile)
        ctx = Context(
            s=s,
            db=self.db,
            clock=self.clock,
            settings=self.settings,
            profile=profile or self.profile,
            actor=actor,
            inbound=ib,
            notifier=Notifier(s, self.clock, self.settings, ib.platform),
            calendar=self._calendar(profile or self.profile),
            llm=self.llm,
        )
        try:
            async with s.begin_nested() if savepoint else contextlib.nullcontext():
                replies = await self._route(ctx, profile, members)
        except UserError as exc:
            if not savepoint:
                raise _Refused(exc) from exc
            log.info("refused: %s", exc.key)
            return [Outbound(text=exc.render())]
        background.extend(ctx.background)
        log.info("handled %s from %s", ib.kind, actor.role.value)
        return replies

    def _calendar(self, profile: ProgramProfile) -> BusinessCalendar:
        """The configured program's own calendar, or another program's closed days."""
        return self.calendar if profile is self.profile else self.programs.calendar(profile)

    async def _route(
        self, ctx: Context, profile: ProgramProfile | None, members: list[ProgramMember]
    ) -> list[Outbound]:
        """Route in the person's program; one in several who has not chosen is asked first
        (bot/core/program_choice.py), and what they had typed is then handled in the chosen one."""
        if profile is not None:
            return await self.router.route(ctx)
        chosen, replies, pending = await program_choice.ask_or_take(
            ctx, self.programs, members, self.router.engine.ttl, self.profile
        )
        if chosen is None:
            return replies
        ctx.profile, ctx.calendar = chosen, self._calendar(chosen)
        if pending:
            ctx.inbound = ctx.inbound.model_copy(
                update={"kind": "message", "text": pending, "command": None}
            )
            try:  # a refusal of that message must not undo the choice
                async with ctx.s.begin_nested():
                    replies = replies + await self.router.route(ctx)
            except UserError as exc:
                log.info("refused: %s", exc.key)
                replies = [*replies, Outbound(text=exc.render())]
        return replies
