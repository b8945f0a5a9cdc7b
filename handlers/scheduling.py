"""Scheduling a session (日程調整). One rule set for the chat and `dxbot sessions add`.

Refused, with the reason: a start in the past, a closed day, more hours than the track allows, an
expert already booked at that time, a municipality at its cap. Counting rule for joint sessions
(Kumamoto §2.4): a session counts once toward its track's total however many municipalities
join it, and once toward each participating municipality's cap.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.catalog import t
from bot.core.context import Context
from bot.core.dates import normalize, parse_one_date
from bot.core.errors import UserError
from bot.core.messages import Outbound
from bot.core.permissions import Action, require
from bot.core.router import Router
from handlers import extract
from handlers.lifecycle import change_status, label, load_case_for
from reminders.calendar import format_jp, format_jp_datetime
from reminders.clock import JST
from store import matching
from store import sessions as session_store
from store import users as user_store
from store.models import Case, SupportSession, User
from store.profiles import ProgramProfile
from store.reference import names_by_code, resolve_municipality
from store.users import list_users

METHOD_ALIASES = {
    "online": "online",
    "オンライン": "online",
    "web": "online",
    "onsite": "onsite",
    "訪問": "onsite",
    "現地": "onsite",
    "対面": "onsite",
}
SESSION_METHODS = ("online", "onsite")  # what a session can be


@dataclass(frozen=True)
class SessionRequest:
    case: Case
    expert_user_ids: Sequence[int]
    starts_at: dt.datetime
    hours: float
    method: str
    place: str = ""
    extra_municipality_codes: Sequence[str] = ()


async def schedule_session(ctx: Context, req: SessionRequest) -> SupportSession:
    """Check every rule, then create the session, move the case and tell everyone involved."""
    require(ctx.actor, Action.SCHEDULE)
    track = ctx.profile.track(req.case.track_id)
    start = req.starts_at.astimezone(JST)
    if req.hours <= 0:
        raise UserError("hours_invalid")
    if track.max_hours is not None and req.hours > track.max_hours:
        raise UserError(
            "hours_over_max", hours=f"{req.hours:g}", max=f"{track.max_hours:g}", track=track.name
        )
    if start <= ctx.now():
        raise UserError("start_past", start=format_jp_datetime(start))
    reason = ctx.calendar.closed_reason(start.date())
    if reason:
        raise UserError("start_closed", day=format_jp(start.date()), reason=reason)
    if req.method not in SESSION_METHODS:
        raise UserError("method_invalid")
    if req.method not in track.methods:
        raise UserError(
            "method_not_for_track",
            track=track.name,
            method=extract.METHOD_LABELS[req.method],
            allowed="・".join(extract.METHOD_LABELS.get(m, m) for m in track.methods),
        )
    if not req.expert_user_ids:
        raise UserError("no_expert", case_no=req.case.case_no)
    end = start + dt.timedelta(hours=req.hours)
    busy = await matching.busy_experts(ctx.s, list(req.expert_user_ids), start, end)
    if busy:
        people = await user_store.get_many(ctx.s, busy)
        names = [u.name or u.platform_id for u in people.values()]
        raise UserError(
            "expert_busy", names="、".join(sorted(names)), start=format_jp_datetime(start)
        )
    codes = list(dict.fromkeys([req.case.municipality_code, *req.extra_municipality_codes]))
    if track.per_municipality_cap is not None:
        counts = await matching.municipality_session_counts(ctx.s, ctx.profile.id, track.id, codes)
        full = [c for c, n in counts.items() if n >= track.per_municipality_cap]
        if full:
            names = await _names(ctx, full)
            raise UserError(
                "municipality_cap",
                names="、".join(names),
                cap=track.per_municipality_cap,
                track=track.name,
            )
    session = await session_store.create(
        ctx.s,
        program_id=ctx.profile.id,
        case_id=req.case.id,
        track_id=track.id,
        starts_at=start,
        hours=req.hours,
        method=req.method,
        place=req.place,
        report_due=ctx.calendar.add_open_days(start.date(), track.report_open_days),
        municipality_codes=codes,
        expert_user_ids=list(req.expert_user_ids),
        now=ctx.now(),
    )
    if req.case.status in ("received", "on_hold"):
        await change_status(ctx, req.case, "coordinating")
    await change_status(ctx, req.case, "scheduled")
    await _tell_participants(ctx, req, session, codes)
    return session


async def _tell_participants(
    ctx: Context, req: SessionRequest, session: SupportSession, codes: list[str]
) -> None:
    text = session_text(ctx, req.case, session, await _names(ctx, codes))
    experts = await user_store.get_many(ctx.s, req.expert_user_ids)
    for uid in req.expert_user_ids:
        user = experts.get(uid)
        if user is not None:
            await ctx.notifier.to_user(
                user,
                Outbound(text=t("session_scheduled_expert", details=text)),
                case_id=req.case.id,
                dedupe_key=f"session:{session.id}:expert:{uid}",
            )
    for officer in await _officers_involved(ctx, req.case, codes):
        await ctx.notifier.to_user(
            officer,
            Outbound(text=t("session_scheduled_officer", details=text)),
            case_id=req.case.id,
            dedupe_key=f"session:{session.id}:officer:{officer.id}",
        )


async def _officers_involved(ctx: Context, case: Case, codes: list[str]) -> list[User]:
    """The officers a session concerns: the requester for the case's own municipality (all
    its officers when staff opened the case on its behalf), and every officer of each
    municipality that joins a joint session — they take part, so they must hear of it too."""
    officers = [
        row.user
        for row in await list_users(ctx.s, "officer")
        if row.user.municipality_code in codes and row.user.id != ctx.actor.user_id
    ]
    if case.requester_user_id is not None:
        officers = [
            u
            for u in officers
            if u.municipality_code != case.municipality_code or u.id == case.requester_user_id
        ]
    return officers


async def _names(ctx: Context, codes: list[str]) -> list[str]:
    """The municipalities' names, in the order of ``codes`` (one statement)."""
    names = await names_by_code(ctx.s, codes)
    return [names[c] for c in codes if c in names]


def session_text(ctx: Context, case: Case, session: SupportSession, munis: list[str]) -> str:
    return t(
        "session_details",
        case_no=case.case_no,
        start=format_jp_datetime(session.starts_at),
        hours=f"{session.hours:g}",
        method=extract.METHOD_LABELS.get(session.method, session.method),
        place=session.place or "（未定）",
        municipalities="、".join(munis),
        due=format_jp(session.report_due),
    )


# --- chat: /dx schedule CASE DATE TIME HOURS METHOD [PLACE…] [+MUNICIPALITY…] ---------------


def parse_hours(text: str) -> float | None:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(?:h|時間)?", normalize(text))
    return float(m.group(1)) if m else None


def parse_time(text: str) -> dt.time | None:
    m = re.fullmatch(r"(\d{1,2})(?::|時)(\d{2})?分?", normalize(text))
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


async def schedule_command(ctx: Context, args: str) -> list[Outbound]:
    require(ctx.actor, Action.SCHEDULE)
    tokens = normalize(args).split()
    if len(tokens) < 5:
        raise UserError("schedule_usage")
    case = await load_case_for(ctx, tokens[0])
    day = parse_one_date(tokens[1], ctx.now().date())
    at = parse_time(tokens[2])
    hours = parse_hours(tokens[3])
    method = METHOD_ALIASES.get(tokens[4].lower())
    if day is None or at is None or hours is None or method is None:
        raise UserError("schedule_usage")
    extra: list[str] = []
    place_parts: list[str] = []
    for tok in tokens[5:]:
        if tok.startswith("+") and len(tok) > 1:
            found = await resolve_municipality(ctx.s, tok[1:], ctx.profile.prefecture_code)
            if len(found) != 1:
                raise UserError(
                    "municipality_unknown", text=tok[1:30], prefecture=ctx.profile.prefecture
                )
            extra.append(found[0].code)
        else:
            place_parts.append(tok)
    expert = case.approved_expert_user_id
    if expert is None:
        raise UserError("no_expert", case_no=case.case_no)
    session = await schedule_session(
        ctx,
        SessionRequest(
            case=case,
            expert_user_ids=[expert],
            starts_at=dt.datetime.combine(day, at, tzinfo=JST),
            hours=hours,
            method=method,
            place=" ".join(place_parts),
            extra_municipality_codes=extra,
        ),
    )
    munis = await _names(ctx, [case.municipality_code, *extra])
    return [
        Outbound(
            text=t(
                "session_scheduled_staff",
                status=label(case.status),
                details=session_text(ctx, case, session, munis),
            )
        )
    ]


def register(router: Router) -> None:
    router.dx_command("schedule", schedule_command)


def approval_skipped(profile: ProgramProfile, case: Case, expert_user_ids: Sequence[int]) -> bool:
    """True when the program has the prefecture approve a case's expert and none of these
    experts is the approved one (staff may schedule directly; this says it went unapproved)."""
    return (
        profile.match_approver == "prefecture"
        and case.approved_expert_user_id not in expert_user_ids
    )
