"""The case lifecycle: allowed transitions, the record of each change, and who is told.

受付 → 調整中 → 実施予定 → 実施済(報告待ち) → 報告済 → 完了, plus 保留 and 取下げ. Every change is
recorded with actor, time, from and to, and notifies the staff and prefecture channels (Saitama
§6(1)イ(エ)); the requesting officer hears when the case is accepted, scheduled, reported and
closed. All notifications go through the outbox, in the same transaction as the change.
"""

from __future__ import annotations

from bot.core.catalog import t
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.logs import set_case
from bot.core.messages import Outbound
from bot.core.permissions import Action, Actor, may_see_case, require
from bot.core.router import Handler, Router
from store import cases as case_store
from store import rules
from store import sessions as session_store
from store import users as user_store
from store.cases import STATUSES
from store.models import Case, User
from store.reference import names_by_code

TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"coordinating", "on_hold", "withdrawn"}),
    "coordinating": frozenset({"scheduled", "on_hold", "withdrawn"}),
    # A cancelled session settles its case back (handlers/sessions.py): to 報告済 when the
    # cancelled one was the last open session of a case with reports, to 調整中 when it was
    # the case's only session.
    "scheduled": frozenset(
        {"held", "reported", "coordinating", "scheduled", "on_hold", "withdrawn"}
    ),
    "held": frozenset({"reported", "scheduled", "coordinating"}),
    "reported": frozenset({"closed", "scheduled", "held"}),
    # Resuming puts the case back where it was put on hold (a case with booked sessions
    # goes back to 実施予定, not to 調整中).
    "on_hold": frozenset({"received", "coordinating", "scheduled", "withdrawn"}),
    "closed": frozenset(),
    "withdrawn": frozenset(),
}

OFFICER_TOLD = {"coordinating", "scheduled", "reported", "closed", "withdrawn", "on_hold"}


def label(status: str) -> str:
    return STATUSES.get(status, status)


def check_transition(case: Case, to_status: str, frm: str | None = None) -> None:
    """Refuse a move the lifecycle does not allow, naming the allowed ones; ``frm`` asks about
    the status the case would have first (after cancelling its future sessions)."""
    frm = frm or case.status
    allowed = TRANSITIONS.get(frm, frozenset())
    if to_status not in allowed:
        raise UserError(
            "illegal_transition",
            case_no=case.case_no,
            frm=label(frm),
            to=label(to_status),
            # In the lifecycle's own order (受付 → … → 完了, 保留, 取下げ), not by English key.
            allowed="、".join(label(s) for s in STATUSES if s in allowed) or "なし",
        )


async def change_status(
    ctx: Context,
    case: Case,
    to_status: str,
    *,
    reason: str = "",
    actor: Actor | None = None,
    officer_key: str | None = None,
    tell_officer: bool = True,
) -> None:
    """Move a case, record it, and queue the notifications — or refuse with the reason."""
    check_transition(case, to_status)
    actor = actor or ctx.actor
    frm = case.status
    if frm == to_status:
        return
    await case_store.set_status(
        ctx.s,
        case,
        to_status,
        now=ctx.now(),
        actor_user_id=actor.user_id or None,
        actor_label=actor.label,
        reason=reason,
    )
    await notify_change(
        ctx,
        case,
        frm,
        to_status,
        actor.label,
        reason,
        officer_key=officer_key,
        tell_officer=tell_officer,
    )


async def notify_change(
    ctx: Context,
    case: Case,
    frm: str | None,
    to: str,
    actor_label: str,
    reason: str = "",
    *,
    officer_key: str | None = None,
    tell_officer: bool = True,
) -> None:
    """Tell the channels (and the requesting officer where it concerns them) of a change;
    ``officer_key`` names the officer's message when the usual one for ``to`` would mislead
    (a resumed case is not 'matching has begun')."""
    set_case(case.case_no)
    # A new case has no status to change from: it is announced as registered.
    text = t(
        "status_changed" if frm else "status_created",
        case_no=case.case_no,
        frm=label(frm) if frm else "",
        to=label(to),
        actor=actor_label,
        reason=t("status_reason", reason=reason) if reason else "",
    )
    key = f"status:{case.id}:{to}:{ctx.inbound.event_id}"
    # A status change is routine: it waits for the next office hours on a 開庁日 (notices of a
    # session itself - a booking, a cancellation, a move - go at once when it is near).
    later = ctx.routine_notice_time()
    await ctx.notifier.to_staff(
        Outbound(text=text), case_id=case.id, dedupe_key=key + ":staff", not_before=later
    )
    await ctx.notifier.to_prefecture(
        Outbound(text=text), case_id=case.id, dedupe_key=key + ":pref", not_before=later
    )
    if tell_officer and (to in OFFICER_TOLD or frm is None or officer_key is not None):
        requester = await requester_of(ctx, case)
        if requester is not None and requester.id != ctx.actor.user_id:
            key_name = officer_key or f"officer_told_{to}"
            await ctx.notifier.to_user(
                requester,
                Outbound(text=t(key_name, case_no=case.case_no, status=label(to))),
                case_id=case.id,
                dedupe_key=key + ":officer",
                not_before=later,
            )


async def requester_of(ctx: Context, case: Case) -> User | None:
    if case.requester_user_id is None:
        return None
    user = await user_store.get(ctx.s, case.requester_user_id)
    return user if user is not None and user.active else None


async def case_people(ctx: Context, case: Case) -> tuple[set[str], set[int]]:
    """Municipalities and experts attached to a case (through its sessions, too)."""
    munis, experts = await case_store.session_participants(ctx.s, case.id)
    munis.add(case.municipality_code)
    if case.approved_expert_user_id:
        experts.add(case.approved_expert_user_id)
    return munis, experts


async def load_case_for(ctx: Context, case_no: str) -> Case:
    """A case the actor may see, or the same 'not found' for missing and forbidden ones
    (an officer must not learn that another municipality's case number exists)."""
    case = await case_store.get_by_no(ctx.s, case_no) if case_no else None
    if case is None or case.program_id != ctx.profile.id:
        raise UserError("case_not_found", case_no=case_no[:30] or "（未指定）")
    munis, experts = await case_people(ctx, case)
    if not may_see_case(ctx.actor, munis, experts):
        raise UserError("case_not_found", case_no=case_no[:30])
    set_case(case.case_no)
    return case


def _verb(to_status: str) -> Handler:
    """`/dx hold CASE [reason]`, `/dx resume CASE`: staff moves. (`/dx withdraw` and
    `/dx close` live in handlers/sessions.py: they first settle the case's sessions ahead.)"""

    async def handler(ctx: Context, args: str) -> list[Outbound]:
        require(ctx.actor, Action.CHANGE_STATUS)
        case_no, _, reason = args.strip().partition(" ")
        case = await load_case_for(ctx, case_no)
        if to_status == "resume":
            if case.status != "on_hold":
                raise UserError(
                    "resume_not_on_hold", case_no=case.case_no, status=label(case.status)
                )
            target = await _before_hold(ctx, case)
            await change_status(
                ctx, case, target, reason=reason.strip(), officer_key="officer_told_resumed"
            )
            return [Outbound(text=t("status_resumed", case_no=case.case_no, to=label(target)))]
        await change_status(ctx, case, to_status, reason=reason.strip())
        return [Outbound(text=t("status_set", case_no=case.case_no, to=label(to_status)))]

    return handler


async def _before_hold(ctx: Context, case: Case) -> str:
    """The status a case on hold goes back to: the one it had when it was put on hold, unless
    what made it so is gone (a 実施予定 case whose sessions were all cancelled meanwhile)."""
    held_from = next(
        (
            c.from_status
            for c in reversed(await case_store.history(ctx.s, case.id))
            if c.to_status == "on_hold"
        ),
        None,
    )
    if held_from == "scheduled" and await session_store.has_open_sessions(ctx.s, case.id):
        return "scheduled"
    if held_from in ("received", "coordinating"):
        return held_from
    return "coordinating" if case.approved_expert_user_id else "received"


async def set_track(ctx: Context, args: str) -> list[Outbound]:
    """`/dx track CASE TRACK_ID`: staff file a case under another track (相談 → 派遣)."""
    require(ctx.actor, Action.CHANGE_STATUS)
    case_no, _, track_id = args.strip().partition(" ")
    case = await load_case_for(ctx, case_no)
    tracks = {tr.id: tr for tr in ctx.profile.tracks}
    track = tracks.get(track_id.strip())
    if track is None:
        raise UserError(
            "track_unknown",
            text=track_id.strip()[:20],
            tracks="、".join(f"{tr.id}（{tr.name}）" for tr in ctx.profile.tracks),
        )
    # The same rule matching and scheduling apply: a track serves only its municipalities.
    names = await names_by_code(ctx.s, [case.municipality_code])
    refusal = rules.municipality_refusal(track, [case.municipality_code], names)
    if refusal is not None:
        raise UserError(refusal.key, **refusal.params)
    case.track_id = track.id
    return [Outbound(text=t("track_set", case_no=case.case_no, track=track.name))]


def register(router: Router) -> None:
    router.dx_command("track", set_track)
    router.dx_command("hold", _verb("on_hold"))
    router.dx_command("resume", _verb("resume"))
