"""The composition root: the one place that builds the database, clock, ports, router and
dispatcher and hands them to an adapter. No module-level singletons anywhere else. The part that
needs no handler (database, clock, profile, calendar, LLM) is ``bot.services.build_core``, which
``build_services`` extends, so that a command such as `dxbot deck` can start without the handlers.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.config import Settings
from bot.core.context import BackgroundJob, Context
from bot.core.conversation import ConversationEngine, Flow
from bot.core.dispatcher import Dispatcher
from bot.core.llm import LLM
from bot.core.messages import Inbound, Outbound
from bot.core.notifier import Notifier, OutboxDeliverer, Sender
from bot.core.permissions import Actor, Role
from bot.core.program_choice import switch_program
from bot.core.router import Router
from bot.demo import seed_with_demo
from bot.services import Core, build_core
from bot.services import ensure_schema as ensure_schema  # re-exported: its callers import it here
from bot.services import load_program as load_program  # re-exported, as ensure_schema
from reminders.calendar import BusinessCalendar
from reminders.clock import Clock
from reminders.run import PassReport, ReminderPort, run_pass
from store import programs
from store.db import Session
from store.profiles import ProgramProfile


def build_router(flows: dict[str, Flow], ttl: dt.timedelta) -> Router:
    """Every handler module registers its commands, actions and intents here."""
    from handlers import (
        calendar,
        deck,
        deliverables,
        engagements,
        events,
        experts,
        export,
        followup,
        help,
        intake,
        lifecycle,
        matching,
        queue,
        review,
        scheduling,
        sessions,
        stages,
        status,
        survey,
    )

    router = Router(engine=ConversationEngine(flows, ttl))
    for module in (
        help,
        calendar,
        intake,
        lifecycle,
        matching,
        scheduling,
        sessions,
        followup,
        review,
        survey,
        status,
        queue,
        deck,
        export,
        experts,
        engagements,
        events,
        deliverables,
        stages,
    ):
        module.register(router)
    # A person in several programs switches with `/dx program` (bot/core/program_choice.py).
    router.dx_command("program", switch_program)
    from handlers import web

    web.register(router)  # /dx web: a sign-in link to the web view (issue 18)
    router.fallback = help.not_understood
    return router


def build_flows() -> dict[str, Flow]:
    from handlers.followup import FollowupFlow
    from handlers.intake import IntakeFlow
    from handlers.intake_behalf import BehalfIntakeFlow
    from handlers.matching import MatchRejectFlow
    from handlers.review import ReviewFlow
    from handlers.survey import SurveyFlow

    flows: list[Flow] = [
        IntakeFlow(),
        BehalfIntakeFlow(),
        FollowupFlow(),
        ReviewFlow(),
        SurveyFlow(),
        MatchRejectFlow(),
    ]
    return {f.name: f for f in flows}


@dataclass
class Services(Core):
    """The core services (bot.services) with the router and the dispatcher of the chat."""

    router: Router
    dispatcher: Dispatcher

    def deliverer(self, sender: Sender, platform: str | None = None) -> OutboxDeliverer:
        lease = dt.timedelta(seconds=self.settings.lease_seconds)
        return OutboxDeliverer(self.db, sender, self.clock, platform, lease=lease)


def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    run_background: Callable[[BackgroundJob], Awaitable[None]] | None = None,
    after_commit: Callable[[], None] | None = None,
    llm: LLM | None = None,
    inline_sqlite: bool = False,
) -> Services:
    core = build_core(settings, clock=clock, llm=llm, inline_sqlite=inline_sqlite)
    router = build_router(build_flows(), dt.timedelta(minutes=settings.conversation_ttl_minutes))
    dispatcher = Dispatcher(
        db=core.db,
        clock=core.clock,
        settings=settings,
        profile=core.profile,
        router=router,
        llm=core.llm,
        calendar=core.calendar,
        run_background=run_background,
        after_commit=after_commit,
    )
    return Services(
        core.settings,
        core.db,
        core.clock,
        core.profile,
        core.calendar,
        core.llm,
        router,
        dispatcher,
    )


async def ensure_program(services: Services, *, demo: bool) -> bool:
    """Seed the configured program (with demo data for the console default) if it is missing."""
    async with services.db.transaction() as s:
        if await programs.get(s, services.profile.id) is not None:
            return False
        await seed_with_demo(s, services.profile, services.clock.now(), demo=demo)
    return True


def system_context(
    services: Services,
    s: Session,
    label: str = "CLI",
    profile: ProgramProfile | None = None,
    calendar: BusinessCalendar | None = None,
) -> Context:
    """A context for work started outside a chat (the CLI, the scheduler): acts as admin,
    recorded under ``label``, with notifications addressed on the configured platform; in the
    services' program unless ``profile`` (with its ``calendar``) names another loaded one."""
    actor = Actor(user_id=0, platform="cli", platform_id="cli", role=Role.ADMIN, name=label)
    inbound = Inbound(platform="cli", event_id=f"cli-{uuid.uuid4()}", user_id="cli")
    return Context(
        s=s,
        db=services.db,
        clock=services.clock,
        settings=services.settings,
        profile=profile or services.profile,
        actor=actor,
        inbound=inbound,
        notifier=Notifier(s, services.clock, services.settings, services.settings.platform),
        calendar=calendar or services.calendar,
        llm=services.llm,
    )


def reminder_port(
    services: Services,
    profile: ProgramProfile | None = None,
    calendar: BusinessCalendar | None = None,
) -> ReminderPort:
    from handlers.followup_reminders import FollowupReminders

    return FollowupReminders(
        lambda s: system_context(services, s, label="自動", profile=profile, calendar=calendar)
    )


async def remind_once(services: Services, profile: ProgramProfile | None = None) -> PassReport:
    """One reminder pass of one program (the services' unless ``profile``)."""
    profile = profile or services.profile
    calendar = (
        services.calendar if profile is services.profile else BusinessCalendar(profile.closed_days)
    )
    return await run_pass(
        services.db, services.clock, profile, calendar, reminder_port(services, profile, calendar)
    )


async def remind_programs(services: Services) -> PassReport:
    """One reminder pass of each program the deployment holds whose last day of service has not
    passed, and of the configured program always (the scheduler's job, and `dxbot remind`
    without --program): one deployment may hold a prefecture's two programs. A program that
    has ended is chased only when named (`dxbot remind --program ID`)."""
    from store import rules

    async with services.db.transaction() as s:
        others = [
            ProgramProfile.model_validate(p.profile)
            for p in await programs.all_programs(s)
            if p.id != services.profile.id
        ]
    total = await remind_once(services)
    for profile in others:
        if rules.program_ended(profile, services.clock.now()):
            continue
        report = await remind_once(services, profile)
        total.ended += report.ended
        total.sent.extend(report.sent)
        total.collapsed += report.collapsed
    return total


async def expire_conversations(services: Services) -> int:
    """Politely end abandoned conversations: the person is told, and nothing was created."""
    from bot.core.catalog import t
    from bot.core.conversation import MENU, is_draft_key
    from store import conversations as conv_store
    from store import users as user_store

    now = services.clock.now()
    done = 0
    async with services.db.transaction() as s:
        for state in await conv_store.expired(s, now):
            if not await conv_store.delete_if_expired(s, state.id, now):
                continue
            done += 1
            if state.flow == MENU:
                continue
            user = await user_store.get_by_platform_id(s, state.platform, state.user_platform_id)
            if user is None:
                continue
            label = services.router.engine.label(state.flow)
            await Notifier(s, services.clock, services.settings, state.platform).to_user(
                user,
                Outbound(
                    text=t("conversation_expired", flow=label),
                    thread=None if is_draft_key(state.thread_key) else state.thread_key or None,
                ),
                dedupe_key=f"expired:{state.id}:{state.expires_at.isoformat()}",
            )
    return done
