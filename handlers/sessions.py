"""Cancelling and moving a session, and ending a case that still has sessions ahead.

A cancelled session stays in the record (status 'cancelled', with who, when and why in the
audit log) but never counts: the tallies (migration 0002), matching's loads and caps, and the
reminder pass all skip it, so its expert is no longer chased for a report. A moved session
keeps its id, length and people; its new start passes the same checks as a new one (a 開庁日,
in the future, the expert free) and its report due date follows the new day.

Withdrawing (`/dx withdraw`) or closing (`/dx close`) a case with sessions ahead lists them by
id, date and expert and asks, as a numbered choice, whether to cancel them; only then are they
cancelled and the case ended. Everyone a cancellation concerns is told: the experts, the
officers of the municipalities taking part, and the staff channel.
"""

from __future__ import annotations

import datetime as dt
import re

from bot.core.catalog import t
from bot.core.context import Context
from bot.core.dates import normalize, parse_one_date
from bot.core.errors import UserError
from bot.core.messages import Choice, Outbound
from bot.core.permissions import Action, Role, require
from bot.core.router import Router
from handlers.lifecycle import TRANSITIONS, change_status, check_transition, label, load_case_for
from handlers.scheduling import (
    check_experts_free,
    check_program_rules,
    check_start,
    officers_involved,
    parse_time,
    session_text,
)
from reminders.calendar import format_jp, format_jp_datetime
from reminders.clock import JST
from store import session_changes as changes
from store import sessions as session_store
from store import users as user_store
from store.models import Case, SupportSession
from store.reference import names_by_code
from store.session_changes import FutureSession
from store.sessions import SessionCase

CONFIRM_ACTION = "case_end_confirm"
KEEP = "keep"


async def _load(ctx: Context, ref: str) -> SessionCase:
    """A session of this program named by its id (「12」, 「#12」), or 'not found'."""
    digits = normalize(ref).strip().lstrip("#")
    found = await session_store.with_case(ctx.s, int(digits)) if digits.isdigit() else None
    if found is None or found.session.program_id != ctx.profile.id:
        raise UserError("session_not_found", session_id=ref.strip()[:20] or "（未指定）")
    return found


# --- cancel ------------------------------------------------------------------------------------


async def cancel_session(ctx: Context, session_ref: str, reason: str) -> SessionCase:
    """Staff cancel one session: refused once its report is in (a held, reported session is
    part of the record) or when it is cancelled already; the case settles to what its other
    sessions say."""
    require(ctx.actor, Action.SCHEDULE)
    found = await _load(ctx, session_ref)
    if not reason.strip():
        raise UserError("cancel_reason_missing", session_id=found.session.id)
    await _cancel(ctx, found.session, found.case, reason.strip())
    await settle_case(ctx, found.case, t("reason_session_cancelled", session_id=found.session.id))
    return found


async def _cancel(ctx: Context, session: SupportSession, case: Case, reason: str) -> None:
    if session.status == changes.CANCELLED:
        raise UserError("session_already_cancelled", session_id=session.id)
    # Handed in (even while it waits for the staff's review), the report says it took place.
    if session.report_submitted_at is not None or session.report_handed_in_at is not None:
        raise UserError("session_reported", session_id=session.id)
    if not await changes.cancel(
        ctx.s, session, now=ctx.now(), actor=ctx.actor.label, reason=reason
    ):
        raise UserError("session_already_cancelled", session_id=session.id)
    text = t(
        "session_cancelled_notice",
        session_id=session.id,
        case_no=case.case_no,
        start=format_jp_datetime(session.starts_at),
        reason=reason,
        actor=ctx.actor.label,
    )
    await _tell(ctx, case, session, text, f"cancel:{session.id}", [session.starts_at])


async def _tell(
    ctx: Context,
    case: Case,
    session: SupportSession,
    text: str,
    key: str,
    starts: list[dt.datetime],
) -> None:
    """The session's experts, the officers of its municipalities, and the staff channel: at
    once when ``starts`` (the session's old and new times) fall within the next two 開庁日,
    else at the next office hours."""
    later = ctx.session_notice_time(starts)
    experts = await user_store.get_many(ctx.s, await changes.expert_ids(ctx.s, session.id))
    for uid, user in sorted(experts.items()):
        if user.active and uid != ctx.actor.user_id:
            await ctx.notifier.to_user(
                user,
                Outbound(text=text),
                case_id=case.id,
                dedupe_key=f"{key}:expert:{uid}",
                not_before=later,
            )
    codes = await changes.municipality_codes(ctx.s, session.id)
    for officer in await officers_involved(ctx, case, codes):
        await ctx.notifier.to_user(
            officer,
            Outbound(text=text),
            case_id=case.id,
            dedupe_key=f"{key}:officer:{officer.id}",
            not_before=later,
        )
    await ctx.notifier.to_staff(
        Outbound(text=text), case_id=case.id, dedupe_key=f"{key}:staff", not_before=later
    )


async def settle_case(ctx: Context, case: Case, reason: str) -> None:
    """After a cancellation, the case says what its remaining sessions say."""
    target = await _settled_status(ctx, case)
    if target != case.status:
        await change_status(ctx, case, target, reason=reason)


async def _settled_status(ctx: Context, case: Case) -> str:
    """実施予定 while a session is ahead, 実施済(報告待ち) while a report is out, 報告済 when
    every remaining session is reported, 調整中 when none remains. Only a case between
    scheduling and its last report moves; any other status stays as it is."""
    if case.status not in ("scheduled", "held"):
        return case.status
    states = await changes.case_session_states(ctx.s, case.id, ctx.now())
    for state, status in (
        ("future", "scheduled"),
        ("unreported", "held"),
        ("reported", "reported"),
    ):
        if state in states:
            return status
    return "coordinating"


# --- move --------------------------------------------------------------------------------------


async def move_session(ctx: Context, session_ref: str, start: dt.datetime) -> SessionCase:
    """Staff move a session still ahead to a new start, under the scheduling rules."""
    require(ctx.actor, Action.SCHEDULE)
    found = await _load(ctx, session_ref)
    session, case = found.session, found.case
    if session.status == changes.CANCELLED:
        raise UserError("session_already_cancelled", session_id=session.id)
    if session.report_submitted_at is not None or session.ends_at <= ctx.now():
        raise UserError("session_already_held", session_id=session.id)
    start = start.astimezone(JST)
    track = ctx.profile.track(session.track_id)
    experts = await changes.expert_ids(ctx.s, session.id)
    codes = await changes.municipality_codes(ctx.s, session.id)
    # The same program rules as a new session (term, time window, …); it counts already.
    await check_program_rules(
        ctx, track, start=start, hours=session.hours, method=session.method,
        expert_user_ids=experts, codes=codes, count_caps=False,
    )  # fmt: skip
    check_start(ctx, start)
    end = start + dt.timedelta(hours=session.hours)
    await check_experts_free(ctx, experts, start, end, except_session_id=session.id)
    before = session.starts_at
    await changes.move(
        ctx.s,
        session,
        starts_at=start,
        report_due=ctx.calendar.add_open_days(start.date(), track.report_open_days),
        now=ctx.now(),
        actor=ctx.actor.label,
    )
    names = await names_by_code(ctx.s, codes)
    munis = [names[c] for c in [case.municipality_code, *codes] if c in names]
    text = t(
        "session_moved_notice",
        before=format_jp_datetime(before),
        details=session_text(ctx, case, session, list(dict.fromkeys(munis))),
    )
    await _tell(ctx, case, session, text, f"move:{session.id}:{start.isoformat()}", [before, start])
    return found


# --- chat: /dx cancel SESSION_ID REASON, /dx move SESSION_ID DATE TIME -------------------------


async def cancel_command(ctx: Context, args: str) -> list[Outbound]:
    require(ctx.actor, Action.SCHEDULE)
    ref, _, reason = normalize(args).strip().partition(" ")
    if not ref:
        raise UserError("cancel_usage")
    found = await cancel_session(ctx, ref, reason)
    return [
        Outbound(
            text=t(
                "session_cancelled_reply",
                session_id=found.session.id,
                case_no=found.case.case_no,
                start=format_jp_datetime(found.session.starts_at),
                status=label(found.case.status),
            )
        )
    ]


async def move_command(ctx: Context, args: str) -> list[Outbound]:
    require(ctx.actor, Action.SCHEDULE)
    tokens = normalize(args).split()
    if len(tokens) != 3:
        raise UserError("move_usage")
    day = parse_one_date(tokens[1], ctx.now().astimezone(JST).date())
    if day is None:
        raise UserError("schedule_bad_date", text=tokens[1][:30])
    at = parse_time(tokens[2])
    if at is None:
        raise UserError("schedule_bad_time", text=tokens[2][:30])
    found = await move_session(ctx, tokens[0], dt.datetime.combine(day, at, tzinfo=JST))
    return [
        Outbound(
            text=t(
                "session_moved_reply",
                session_id=found.session.id,
                case_no=found.case.case_no,
                start=format_jp_datetime(found.session.starts_at),
                due=format_jp(found.session.report_due),
            )
        )
    ]


# --- ending a case with sessions ahead: /dx withdraw, /dx close ----------------------------------

END_ACTIONS = {"withdrawn": Action.WITHDRAW_CASE, "closed": Action.CHANGE_STATUS}


async def withdraw(ctx: Context, args: str) -> list[Outbound]:
    case_no, _, reason = args.strip().partition(" ")
    return await _end(ctx, "withdrawn", case_no, reason.strip() or t("reason_withdrawn_default"))


async def close(ctx: Context, args: str) -> list[Outbound]:
    case_no, _, reason = args.strip().partition(" ")
    return await _end(ctx, "closed", case_no, reason.strip())


async def _load_case_to_end(ctx: Context, target: str, case_no: str) -> Case:
    require(ctx.actor, END_ACTIONS[target])
    case = await load_case_for(ctx, case_no)
    if ctx.actor.role is Role.OFFICER and case.municipality_code != ctx.actor.municipality_code:
        raise UserError("case_not_found", case_no=case_no)
    return case


async def _end(
    ctx: Context, target: str, case_no: str, reason: str, confirmed: str | None = None
) -> list[Outbound]:
    """End the case; with sessions ahead, ask first (``confirmed`` carries the ids the person
    saw and agreed to cancel — a session added meanwhile means asking again)."""
    case = await _load_case_to_end(ctx, target, case_no)
    future = await changes.future_of_case(ctx.s, case.id, ctx.now())
    if not future:
        await change_status(ctx, case, target, reason=reason)
        return [Outbound(text=_ended_text(case, target))]
    # Without its sessions ahead, where would the case stand — and may it end from there?
    direct = target in TRANSITIONS.get(case.status, frozenset())
    ids = ",".join(str(f.session.id) for f in future)
    if confirmed != ids:
        if not direct:
            try:
                check_transition(case, target, frm=await _status_without(ctx, case))
            except UserError:
                check_transition(case, target)  # refused: say so from where the case stands
        return [_ask(case, target, future, ids, reason)]
    cancel_reason = t("reason_case_ended", to=label(target), reason=reason or "理由なし")
    for item in future:
        await _cancel(ctx, item.session, case, cancel_reason)
    if not direct:
        await settle_case(ctx, case, cancel_reason)
    await change_status(ctx, case, target, reason=reason)
    return [
        Outbound(
            text=_ended_text(case, target)
            + "\n"
            + t("sessions_cancelled_reply", ids="、".join(f"{i}" for i in ids.split(",")))
        )
    ]


async def _status_without(ctx: Context, case: Case) -> str:
    """The status the case would settle to were its sessions ahead cancelled (nothing is
    written)."""
    states = await changes.case_session_states(ctx.s, case.id, ctx.now())
    states.discard("future")
    for state, status in (("unreported", "held"), ("reported", "reported")):
        if state in states:
            return status
    return "coordinating"


def _ask(case: Case, target: str, future: list[FutureSession], ids: str, reason: str) -> Outbound:
    lines = "\n".join(
        t(
            "end_case_session_line",
            session_id=f.session.id,
            start=format_jp_datetime(f.session.starts_at),
            experts="、".join(f.expert_names) or "（未定）",
        )
        for f in future
    )
    return Outbound(
        text=t(
            "end_case_confirm", case_no=case.case_no, to=label(target), n=len(future), lines=lines
        ),
        action_id=CONFIRM_ACTION,
        choices=(
            Choice(
                label=t("choice_end_and_cancel", to=label(target)),
                # A button's value is limited (Slack: 2,000 characters); the reason is kept short.
                value="|".join((target, case.case_no, ids, reason[:500])),
                style="danger",
            ),
            Choice(label=t("choice_keep_sessions"), value="|".join((KEEP, case.case_no))),
        ),
    )


def _ended_text(case: Case, target: str) -> str:
    if target == "withdrawn":
        return t("case_withdrawn", case_no=case.case_no)
    return t("status_set", case_no=case.case_no, to=label(target))


async def confirm(ctx: Context, value: str) -> list[Outbound]:
    """The answer to the question `_ask` put: cancel and end, or leave everything as it was."""
    target, _, rest = value.partition("|")
    case_no, _, rest = rest.partition("|")
    if target == KEEP:
        case = await load_case_for(ctx, case_no)
        return [Outbound(text=t("end_case_kept", case_no=case.case_no))]
    if target not in END_ACTIONS:
        return [Outbound(text=t("not_understood"))]
    ids, _, reason = rest.partition("|")
    if not re.fullmatch(r"\d+(,\d+)*", ids):
        return [Outbound(text=t("not_understood"))]
    return await _end(ctx, target, case_no, reason, confirmed=ids)


def register(router: Router) -> None:
    router.dx_command("cancel", cancel_command)
    router.dx_command("move", move_command)
    router.dx_command("withdraw", withdraw)
    router.dx_command("close", close)
    router.action(CONFIRM_ACTION, confirm)
