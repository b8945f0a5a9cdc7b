"""Scheduling a session (日程調整). One rule set for the chat and `dxbot sessions add`.

Refused, with the reason: a start in the past, a closed day, more hours than the track allows, a
method the track does not list, an expert already booked at that time, a municipality at its cap.
Counting rule for joint sessions (Kumamoto §2.4): a session counts once toward its track's total
however many municipalities join it, and once toward each participating municipality's cap.

An answer given by e-mail, phone or chat (Saitama §6(5)イ,オ, Kumamoto §2.4) is often recorded
after it was given: for those methods a start in the past is accepted (within the term), the
session is held at once, its report is asked for at once, and its due date is counted from the
answer's day — so a late record can be due already, which the reply says.
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
from handlers.followup_reminders import FollowupReminders
from handlers.lifecycle import change_status, label, load_case_for
from reminders.calendar import format_jp, format_jp_datetime
from reminders.clock import JST
from reminders.planner import EXPERT, Step
from store import matching, rules, session_changes
from store import reminders as reminder_store
from store import sessions as session_store
from store import users as user_store
from store.models import Case, SupportSession, User
from store.profiles import ProgramProfile, Track
from store.reference import names_by_code, outside_prefecture, resolve_municipality
from store.reminders import PendingReport
from store.users import list_users

# The words `/dx schedule` takes for a method (matched whole, after NFKC and lower-casing).
METHOD_ALIASES = {
    "online": "online",
    "オンライン": "online",
    "web": "online",
    "onsite": "onsite",
    "訪問": "onsite",
    "現地": "onsite",
    "対面": "onsite",
    "オンサイト": "onsite",
    "email": "email",
    "e-mail": "email",
    "mail": "email",
    "メール": "email",
    "電子メール": "email",
    "phone": "phone",
    "tel": "phone",
    "電話": "phone",
    "chat": "chat",
    "チャット": "chat",
}
SESSION_METHODS = extract.METHODS  # what a session can be: every method a track may list
# Answers given without meeting: they may be recorded after the fact, and have no place.
REMOTE_METHODS = frozenset({"email", "phone", "chat"})


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
    """Check every rule, then create the session, move the case and tell everyone involved.

    An e-mail, phone or chat answer whose time has passed is recorded as held: the reminder
    pass's first step (session ended → case 実施済(報告待ち)) and the report request are done
    at once, so the follow-up does not wait for the next pass."""
    require(ctx.actor, Action.SCHEDULE)
    ended = rules.new_work_refusal(ctx.profile, ctx.now(), "session")
    if ended is not None:
        raise UserError(ended.key, **ended.params)
    track = ctx.profile.track(req.case.track_id)
    start = req.starts_at.astimezone(JST)
    if req.hours <= 0:
        raise UserError("hours_invalid")
    check_method(track, req.method)
    # An answer already given is a fact: recorded on the day it was given (even a closed one),
    # within the term (the program rules below check the term for every session).
    after_the_fact = req.method in REMOTE_METHODS and start <= ctx.now()
    codes = list(dict.fromkeys([req.case.municipality_code, *req.extra_municipality_codes]))
    await check_program_rules(
        ctx, track, start=start, hours=req.hours, method=req.method,
        expert_user_ids=req.expert_user_ids, codes=codes,
    )  # fmt: skip
    if not after_the_fact:
        check_start(ctx, start)
    if not req.expert_user_ids:
        raise UserError("no_expert", case_no=req.case.case_no)
    end = start + dt.timedelta(hours=req.hours)
    await check_experts_free(ctx, req.expert_user_ids, start, end)
    session = await session_store.create(
        ctx.s,
        program_id=ctx.profile.id,
        case_id=req.case.id,
        track_id=track.id,
        starts_at=start,
        hours=req.hours,
        method=req.method,
        place="" if req.method in REMOTE_METHODS else req.place,
        report_due=ctx.calendar.add_open_days(start.date(), track.report_open_days),
        municipality_codes=codes,
        expert_user_ids=list(req.expert_user_ids),
        now=ctx.now(),
        actor=ctx.actor.label,
    )
    # The officers hear of the booking once, with its details (_tell_participants), not also
    # through the status changes it causes.
    if req.case.status in ("received", "on_hold"):
        await change_status(ctx, req.case, "coordinating", tell_officer=False)
    await change_status(ctx, req.case, "scheduled", tell_officer=False)
    await _tell_participants(ctx, req, session, codes)
    if is_recorded_answer(ctx, session):
        await _follow_up_at_once(ctx, req.case, session)
    return session


async def check_program_rules(
    ctx: Context,
    track: Track,
    *,
    start: dt.datetime,
    hours: float,
    method: str,
    expert_user_ids: Sequence[int],
    codes: Sequence[str],
    count_caps: bool = True,
) -> None:
    """The program's rules (store/rules.py, shared with matching) for a session about to be
    booked — or moved, with ``count_caps`` off since a moved session already counts: hours
    ceiling, the term and last day of service, the time window, each expert's consent and
    on-site ability, the municipalities the track serves, and per-municipality caps."""
    so_far: dict[str, int] = {}
    if count_caps and track.per_municipality_cap is not None:
        so_far = await matching.municipality_session_counts(
            ctx.s, ctx.profile.id, track.id, list(codes)
        )
    experts = await matching.expert_facts(ctx.s, list(expert_user_ids))
    plan = rules.SessionPlan(
        track=track,
        starts_at=start,
        hours=hours,
        method=method,
        municipality_codes=codes,
        municipality_names=await names_by_code(ctx.s, list(codes)),
        experts=[experts[uid] for uid in expert_user_ids if uid in experts],
        sessions_so_far=so_far,
    )
    refusal = rules.session_refusal(ctx.profile, plan)
    if refusal is not None:
        raise UserError(refusal.key, **refusal.params)


def check_method(track: Track, method: str) -> None:
    """A method the product knows, and one the track lists (with the track's methods)."""
    if method not in SESSION_METHODS:
        raise UserError("method_invalid")
    if method not in track.methods:
        raise UserError(
            "method_not_for_track",
            track=track.name,
            method=extract.METHOD_LABELS[method],
            allowed="・".join(extract.METHOD_LABELS.get(m, m) for m in track.methods),
        )


def check_start(ctx: Context, start: dt.datetime) -> None:
    """A session still to be held: in the future, on a 開庁日."""
    if start <= ctx.now():
        raise UserError("start_past", start=format_jp_datetime(start))
    reason = ctx.calendar.closed_reason(start.date())
    if reason:
        raise UserError("start_closed", day=format_jp(start.date()), reason=reason)


async def check_experts_free(
    ctx: Context,
    expert_user_ids: Sequence[int],
    start: dt.datetime,
    end: dt.datetime,
    *,
    except_session_id: int | None = None,
) -> None:
    """No expert may be booked twice at once (a moved session does not clash with itself)."""
    busy = await matching.busy_experts(
        ctx.s, list(expert_user_ids), start, end, exclude_session_id=except_session_id
    )
    if busy:
        people = await user_store.get_many(ctx.s, busy)
        names = [u.name or u.platform_id for u in people.values()]
        raise UserError(
            "expert_busy", names="、".join(sorted(names)), start=format_jp_datetime(start)
        )


async def _follow_up_at_once(ctx: Context, case: Case, session: SupportSession) -> None:
    """What the reminder pass would do first for an ended session, done now: mark it held (the
    case goes to 実施済(報告待ち)) and ask its experts for the report, recording that request
    in the ledger so the pass does not ask again."""
    port = FollowupReminders(lambda _s: ctx)
    await port.session_ended(ctx.s, session)
    key = f"report:{session.id}:request"
    won = await reminder_store.claim_steps(
        ctx.s, [reminder_store.Claim(key, session.id, "request", EXPERT)], ctx.now()
    )
    if key not in won:
        return
    experts = await session_changes.expert_ids(ctx.s, session.id)
    pending = PendingReport(
        session_id=session.id,
        case_id=case.id,
        case_no=case.case_no,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        report_due=session.report_due,
        expert_user_ids=tuple(experts),
    )
    step = Step("request", session.ends_at, (EXPERT,))
    for uid in experts:
        await port.report_pings(ctx.s, EXPERT, uid, [(pending, step)])


def is_recorded_answer(ctx: Context, session: SupportSession) -> bool:
    """An e-mail, phone or chat answer recorded once given (its end passed): held at once."""
    return session.method in REMOTE_METHODS and session.ends_at <= ctx.now()


def due_passed(ctx: Context, session: SupportSession) -> bool:
    """Whether a session's report due date is already behind us (a late record)."""
    return session.report_due < ctx.now().astimezone(JST).date()


async def _tell_participants(
    ctx: Context, req: SessionRequest, session: SupportSession, codes: list[str]
) -> None:
    text = session_text(ctx, req.case, session, await _names(ctx, codes))
    recorded = is_recorded_answer(ctx, session)
    later = _booking_notice_time(ctx, session, recorded)
    experts = await user_store.get_many(ctx.s, req.expert_user_ids)
    for uid in req.expert_user_ids:
        user = experts.get(uid)
        if user is not None:
            await ctx.notifier.to_user(
                user,
                Outbound(
                    text=t(
                        "session_recorded_expert" if recorded else "session_scheduled_expert",
                        details=text,
                    )
                ),
                case_id=req.case.id,
                dedupe_key=f"session:{session.id}:expert:{uid}",
                not_before=later,
            )
    for officer in await officers_involved(ctx, req.case, codes):
        await ctx.notifier.to_user(
            officer,
            Outbound(
                text=t(
                    "session_recorded_officer" if recorded else "session_scheduled_officer",
                    details=text,
                )
            ),
            case_id=req.case.id,
            dedupe_key=f"session:{session.id}:officer:{officer.id}",
            not_before=later,
        )


def _booking_notice_time(
    ctx: Context, session: SupportSession, recorded: bool
) -> dt.datetime | None:
    """A booking is a routine notice: it waits for the next 開庁日 office hours, unless the
    session is within the next two 開庁日 (people may have to prepare or travel). A session
    recorded after the fact concerns nobody's plans, so its notice always waits."""
    if recorded or session.starts_at <= ctx.now():
        return ctx.routine_notice_time()
    return ctx.session_notice_time([session.starts_at])


async def officers_involved(ctx: Context, case: Case, codes: list[str]) -> list[User]:
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
    """The session as every notice shows it, its id first (cancel and move name it)."""
    return t(
        "session_details",
        session_id=session.id,
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
    # Each bad part named with its own reason, not the whole usage again.
    if day is None:
        raise UserError("schedule_bad_date", text=tokens[1][:30])
    if at is None:
        raise UserError("schedule_bad_time", text=tokens[2][:30])
    if hours is None:
        raise UserError("schedule_bad_hours", text=tokens[3][:30])
    if method is None:
        raise UserError("schedule_bad_method", text=tokens[4][:30])
    if method in REMOTE_METHODS:
        day = _recent_past(day, ctx.now().astimezone(JST).date(), tokens[1])
    extra: list[str] = []
    place_parts: list[str] = []
    for tok in tokens[5:]:
        if tok.startswith("+") and len(tok) > 1:
            found = await resolve_municipality(ctx.s, tok[1:], ctx.profile.prefecture_code)
            outside = [] if found else outside_prefecture(tok[1:], ctx.profile.prefecture_code)
            if outside:
                raise UserError(
                    "municipality_outside",
                    text=tok[1:30],
                    where="、".join(dict.fromkeys(m.prefecture_name for m in outside)),
                    prefecture=ctx.profile.prefecture,
                )
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
    details = session_text(ctx, case, session, munis)
    if is_recorded_answer(ctx, session):
        text = t("session_recorded_staff", status=label(case.status), details=details)
        if due_passed(ctx, session):
            text += "\n" + t("report_due_passed", due=format_jp(session.report_due))
    else:
        text = t("session_scheduled_staff", status=label(case.status), details=details)
    late = rules.report_due_flag(ctx.profile, session.report_due)
    if late is not None:  # the 履行期限 passes before the report is owed
        text += "\n" + t(late.key, **late.params)
    return [Outbound(text=text)]


def _recent_past(day: dt.date, today: dt.date, typed: str) -> dt.date:
    """An answer already given is in the past: a day typed without its year (11月10日) that the
    date reader placed next year, because it had passed, means this year's (within half a
    year)."""
    if day <= today or re.search(r"\d{4}", normalize(typed)):
        return day
    try:
        earlier = day.replace(year=day.year - 1)
    except ValueError:  # 2月29日
        return day
    return earlier if earlier <= today and (today - earlier).days <= 183 else day


def register(router: Router) -> None:
    router.dx_command("schedule", schedule_command)


def approval_skipped(profile: ProgramProfile, case: Case, expert_user_ids: Sequence[int]) -> bool:
    """True when the program has the prefecture approve a case's expert and none of these
    experts is the approved one (staff may schedule directly; this says it went unapproved)."""
    return (
        profile.match_approver == "prefecture"
        and case.approved_expert_user_id not in expert_user_ids
    )
