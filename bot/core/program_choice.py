"""Which program a message is about, when one deployment holds several.

A person of no membership (store.users.memberships) works in the deployment's configured
program, as before several programs could share a database; a person of one membership works in
that program. A person in two or more is asked which, as a numbered choice read by
bot/core/choices.py like every other, before anything else is done for them; the answer is kept
(``program_members.chosen_at``) until they switch with `/dx program`, and the message that
prompted the question is then handled in the chosen program, so nothing they typed is lost.

The profile used is the snapshot `dxbot seed` stored with the program (store.programs), the
same one every command of that program reads.
"""

from __future__ import annotations

import datetime as dt

from bot.core import choices
from bot.core.catalog import t
from bot.core.context import Context
from bot.core.conversation import CHOICES_KEY, MENU, stored_choices
from bot.core.messages import Choice, Outbound
from reminders.calendar import BusinessCalendar
from store import conversations as conv_store
from store import programs, users
from store.db import Session
from store.models import ProgramMember
from store.profiles import ProgramProfile

# The action a chosen button sends back, and the step of the kept numbered question.
PICK = "program_pick"
PENDING = "pending"


class ProgramCatalog:
    """The profiles of the programs loaded in the database, each read once per snapshot.

    ``default`` is the deployment's configured program (the dispatcher's, which tests may swap
    for a variant), used as it is rather than read again from its snapshot."""

    def __init__(self) -> None:
        self._calendars: dict[str, BusinessCalendar] = {}
        self._profiles: dict[tuple[str, dt.datetime], ProgramProfile] = {}

    async def profile(self, s: Session, program_id: str, default: ProgramProfile) -> ProgramProfile:
        if program_id == default.id:
            return default
        program = await programs.get(s, program_id)
        if program is None:  # a membership keeps its program row (foreign key); defensive
            return default
        key = (program.id, program.loaded_at)
        if key not in self._profiles:
            self._profiles[key] = ProgramProfile.model_validate(program.profile)
        return self._profiles[key]

    def calendar(self, profile: ProgramProfile) -> BusinessCalendar:
        if profile.id not in self._calendars:
            self._calendars[profile.id] = BusinessCalendar(profile.closed_days)
        return self._calendars[profile.id]

    async def of_person(
        self, s: Session, user_id: int, default: ProgramProfile
    ) -> tuple[ProgramProfile | None, list[ProgramMember]]:
        """The person's program, or None when they are in several and have not chosen."""
        members = await users.memberships(s, user_id)
        if not members:
            return default, members
        if len(members) == 1 or members[0].chosen_at is not None:
            return await self.profile(s, members[0].program_id, default), members
        return None, members


async def _question(ctx: Context, members: list[ProgramMember]) -> Outbound:
    labels = []
    for m in members:
        program = await programs.get(ctx.s, m.program_id)
        name = program.name if program is not None else m.program_id
        labels.append(Choice(label=f"{name}（{m.program_id}）", value=m.program_id))
    return Outbound(text=t("program_which"), choices=tuple(labels), action_id=PICK)


def _as_text(ctx: Context) -> str:
    """The inbound as a line the router reads again once the program is chosen."""
    ib = ctx.inbound
    if ib.kind == "command":
        return f"{ib.command} {ib.text}".strip()
    return ib.text if ib.kind == "message" else ""


async def ask_or_take(
    ctx: Context,
    catalog: ProgramCatalog,
    members: list[ProgramMember],
    ttl: dt.timedelta,
    default: ProgramProfile,
) -> tuple[ProgramProfile | None, list[Outbound], str]:
    """For a person in several programs who has not chosen: read their answer to the question
    (a button, a number or the label), or ask it. Returns the chosen profile (None while
    asking), the replies so far, and the text still to handle in the chosen program."""
    ib = ctx.inbound
    state = await conv_store.get(ctx.s, ib.platform, ib.user_id, ib.thread_key)
    asking = state is not None and state.flow == MENU and state.step == PICK
    pending = str(state.data.get(PENDING, "")) if state is not None and asking else ""
    question = await _question(ctx, members)
    answer: str | None = None
    if ib.kind == "action" and ib.action_id == PICK:
        answer = ib.value or ""
    elif asking and ib.kind == "message" and ib.text.strip() in {m.program_id for m in members}:
        answer = ib.text.strip()  # the program id, as `dxbot` commands spell it
    elif asking and ib.kind == "message":
        found = choices.match(question.choices, ib.text)
        if isinstance(found, choices.Chosen):
            answer = found.value
        elif found.meant_a_choice:
            return None, [Outbound(text=found.hint)], ""
    if answer is not None and await users.choose_program(
        ctx.s, ctx.actor.user_id, answer, ctx.now()
    ):
        await conv_store.clear(ctx.s, ib.platform, ib.user_id, ib.thread_key)
        profile = await catalog.profile(ctx.s, answer, default)
        chosen = Outbound(text=t("program_chosen", program=profile.name, program_id=profile.id))
        return profile, [chosen], pending
    await conv_store.save(
        ctx.s,
        platform=ib.platform,
        user_platform_id=ib.user_id,
        thread_key=ib.thread_key,
        channel=ib.channel,
        flow=MENU,
        step=PICK,
        data={CHOICES_KEY: stored_choices(question.choices), PENDING: pending or _as_text(ctx)},
        expires_at=ctx.now() + ttl,
        now=ctx.now(),
    )
    return None, [question], ""


async def switch_program(ctx: Context, _args: str) -> list[Outbound]:
    """`/dx program`: forget the choice, so the next message asks again (a person in one
    program is told which one they work in)."""
    members = await users.memberships(ctx.s, ctx.actor.user_id)
    if len(members) < 2:
        return [
            Outbound(
                text=t("program_only_one", program=ctx.profile.name, program_id=ctx.profile.id)
            )
        ]
    await users.choose_program(ctx.s, ctx.actor.user_id, None, ctx.now())
    return [Outbound(text=t("program_switch"))]
