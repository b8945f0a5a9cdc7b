"""Matching (マッチング): propose experts for a case, with the reason for each, and record the
choice — straight away, or after a prefecture user's approval where the profile says so.

Ranking, in order: the expert the municipality named at intake when the rules allow them (else
the proposal says why not, Miyazaki ②); domain fit; on-site ability when the case wants a visit
(experts who cannot visit are left out of an on-site case); free at the preferred dates;
fairness — fewest sessions in this program first (Saitama §6(6)シ); then the roster order.

Who may be proposed or picked at all is the program rules' decision (store/rules.py, shared with
scheduling): an expert who did not consent to be listed (Saitama §6(3)ウ) is never proposed, one
who cannot visit is not proposed for an on-site case, and a case whose municipality its track
does not serve (Miyazaki's 標準化 track without 宮崎市・都城市, §6(1)ア) is not matched.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.core.catalog import t
from bot.core.context import Context
from bot.core.conversation import Conversation, ConversationEngine
from bot.core.errors import UserError
from bot.core.messages import Choice, Outbound
from bot.core.permissions import Action, require
from bot.core.router import Router
from handlers import experts
from handlers.lifecycle import change_status, load_case_for
from reminders.clock import JST
from store import matching, rules, users
from store.models import Case, User
from store.reference import names_by_code
from store.users import list_users

TOP_N = 3
PART_HOURS = {"am": (9, 12), "pm": (13, 17), "evening": (16, 18), "allday": (9, 17)}


@dataclass(frozen=True)
class Proposal:
    user: User
    score: tuple[int, int, int, int]
    reasons: list[str]


def _preferred_windows(case: Case) -> list[tuple[dt.datetime, dt.datetime]]:
    """Preferred dates as time windows (stored as display strings: 2026年12月3日(木) 午後)."""
    out = []
    for text in case.preferred_dates:
        m = re.match(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text)
        if not m:
            continue
        day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        start_h, end_h = 9, 17
        for part, label in (("am", "午前"), ("pm", "午後"), ("evening", "夕方")):
            if label in text:
                start_h, end_h = PART_HOURS[part]
        tm = re.search(r"(\d{1,2}):(\d{2})", text)
        if tm:
            start_h, end_h = int(tm.group(1)), min(int(tm.group(1)) + 2, 23)
        out.append(
            (
                dt.datetime.combine(day, dt.time(start_h), tzinfo=JST),
                dt.datetime.combine(day, dt.time(end_h), tzinfo=JST),
            )
        )
    return out


async def propose(ctx: Context, case: Case) -> list[Proposal]:
    loads = await matching.experts_with_load(ctx.s, ctx.profile.id)
    onsite_needed = case.preferred_method == "onsite"
    windows = _preferred_windows(case)
    proposals: list[Proposal] = []
    ids = [ld.user.id for ld in loads]
    busy_any: dict[int, int] = dict.fromkeys(ids, 0)
    for start, end in windows:
        for uid in await matching.busy_experts(ctx.s, ids, start, end):
            busy_any[uid] += 1
    eligible = [
        ld
        for ld in loads
        if rules.expert_refusal(
            ctx.profile, matching.facts_of(ld.user, ld.profile), case.preferred_method
        )
        is None
    ]
    least = min((ld.dispatches for ld in eligible), default=0)
    for ld in eligible:
        fit = [d for d in case.domains if d in ld.profile.domains]
        free = not windows or busy_any[ld.user.id] < len(windows)
        reasons = [
            t("reason_domains", domains="、".join(fit)) if fit else t("reason_no_domain"),
        ]
        if onsite_needed:
            reasons.append(t("reason_onsite"))
        if windows:
            reasons.append(t("reason_free") if free else t("reason_busy"))
        reasons.append(
            t("reason_load", n=ld.dispatches)
            + (t("reason_fewest") if ld.dispatches == least else "")
        )
        if ld.profile.qualifications:
            reasons.append("・".join(ld.profile.qualifications))
        if ld.user.id == case.preferred_expert_user_id:
            reasons.insert(0, t("reason_preferred"))
        score = (-len(fit), 0 if free else 1, ld.dispatches, ld.user.id)
        proposals.append(Proposal(ld.user, score, reasons))
    # The expert the municipality named at intake comes first when eligible (Miyazaki ②).
    proposals.sort(key=lambda p: (p.user.id != case.preferred_expert_user_id, p.score))
    return proposals[:TOP_N]


async def match_command(ctx: Context, args: str) -> list[Outbound]:
    require(ctx.actor, Action.MATCH)
    case = await load_case_for(ctx, args.strip().split(" ")[0])
    if case.status in ("closed", "withdrawn"):
        raise UserError("case_closed_for_matching", case_no=case.case_no)
    await _check_municipality(ctx, case)
    proposals = await propose(ctx, case)
    if not proposals:
        raise UserError("no_candidates", case_no=case.case_no)
    lines = [
        t(
            "proposal_line",
            rank=i,
            name=p.user.name or p.user.platform_id,
            reasons=" / ".join(p.reasons),
        )
        for i, p in enumerate(proposals, start=1)
    ]
    approver = t("approver_prefecture") if ctx.profile.match_approver == "prefecture" else ""
    note = await experts.preferred_note(ctx, case, [p.user.id for p in proposals])
    if note:
        lines.append(note)
    return [
        Outbound(
            text=t("proposal_header", case_no=case.case_no) + "\n" + "\n".join(lines) + approver,
            action_id="match_pick",
            choices=tuple(
                Choice(label=p.user.name or p.user.platform_id, value=f"{case.case_no}:{p.user.id}")
                for p in proposals
            ),
        )
    ]


async def pick(ctx: Context, value: str) -> list[Outbound]:
    """Staff chose an expert (button value or `/dx pick CASE EXPERT_ID`)."""
    require(ctx.actor, Action.MATCH)
    case_no, _, uid_text = value.replace(" ", ":").partition(":")
    case = await load_case_for(ctx, case_no)
    expert = await _expert(ctx, uid_text)
    if case.status in ("closed", "withdrawn"):
        raise UserError("case_closed_for_matching", case_no=case.case_no)
    await _check_municipality(ctx, case)
    facts = matching.facts_of(expert, await users.expert_profile(ctx.s, expert.id))
    refusal = rules.expert_refusal(ctx.profile, facts, case.preferred_method)
    if refusal is not None:
        raise UserError(refusal.key, **refusal.params)
    if case.status == "received":
        await change_status(ctx, case, "coordinating")
    if ctx.profile.match_approver == "prefecture":
        case.proposed_expert_user_id = expert.id
        case.match_state = "proposed"
        case.updated_at = ctx.now()  # the prefecture's wait starts now (store/reporting/queue.py)
        request = Outbound(
            text=t(
                "approval_request",
                case_no=case.case_no,
                name=expert.name or expert.platform_id,
                desc=case.description[:200],
            ),
            action_id="match_decide",
            choices=(
                Choice(label=t("choice_approve"), value=f"{case.case_no}:approve", style="primary"),
                Choice(label=t("choice_reject"), value=f"{case.case_no}:reject", style="danger"),
            ),
        )
        key = f"approval:{case.id}:{expert.id}:{ctx.inbound.event_id}"
        await ctx.notifier.to_prefecture(request, case_id=case.id, dedupe_key=key)
        # Each prefecture user also gets it directly, so a numbered reply works on LoGo Chat.
        for approver in await list_users(ctx.s, "prefecture"):
            await ctx.notifier.to_user(
                approver.user, request, case_id=case.id, dedupe_key=f"{key}:{approver.user.id}"
            )
        return [
            Outbound(
                text=t(
                    "awaiting_approval",
                    case_no=case.case_no,
                    name=expert.name or expert.platform_id,
                )
            )
        ]
    await _approve(ctx, case, expert)
    return [
        Outbound(text=t("match_done", case_no=case.case_no, name=expert.name or expert.platform_id))
    ]


async def _check_municipality(ctx: Context, case: Case) -> None:
    """A case whose track does not serve its municipality is not matched (store/rules.py)."""
    # A program past its last day of service books no new sessions, so proposes none either.
    ended = rules.new_work_refusal(ctx.profile, ctx.now(), "session")
    if ended is not None:
        raise UserError(ended.key, **ended.params)
    code = case.municipality_code
    refusal = rules.municipality_refusal(
        ctx.profile.track(case.track_id), [code], await names_by_code(ctx.s, [code])
    )
    if refusal is not None:
        raise UserError(refusal.key, **refusal.params)


async def _expert(ctx: Context, uid_text: str) -> User:
    user = None
    if uid_text.isdigit():
        user = await users.get(ctx.s, int(uid_text))
    if user is None or user.role != "expert" or not user.active:
        raise UserError("expert_unknown", text=uid_text[:30])
    return user


async def _approve(ctx: Context, case: Case, expert: User) -> None:
    case.approved_expert_user_id = expert.id
    case.proposed_expert_user_id = None
    case.match_state = "approved"
    case.updated_at = ctx.now()  # scheduling's wait starts now (store/reporting/queue.py)
    await ctx.notifier.to_user(
        expert,
        Outbound(text=t("expert_assigned", case_no=case.case_no, desc=case.description[:300])),
        case_id=case.id,
        dedupe_key=f"assigned:{case.id}:{expert.id}",
    )
    await ctx.notifier.to_staff(
        Outbound(
            text=t(
                "match_approved_staff", case_no=case.case_no, name=expert.name or expert.platform_id
            )
        ),
        case_id=case.id,
        dedupe_key=f"approved:{case.id}:{expert.id}",
    )


async def decide(
    ctx: Context, value: str, engine: ConversationEngine | None = None
) -> list[Outbound]:
    """A prefecture user approves or rejects the proposed expert; a rejection without a reason
    asks for it (with ``engine``) before anything changes."""
    require(ctx.actor, Action.APPROVE_MATCH)
    case_no, _, verdict = value.replace(" ", ":").partition(":")
    case = await load_case_for(ctx, case_no)
    if case.match_state != "proposed" or case.proposed_expert_user_id is None:
        raise UserError("nothing_to_approve", case_no=case.case_no)
    expert = await _expert(ctx, str(case.proposed_expert_user_id))
    if verdict.startswith("approve"):
        await _approve(ctx, case, expert)
        return [
            Outbound(
                text=t(
                    "approved_reply", case_no=case.case_no, name=expert.name or expert.platform_id
                )
            )
        ]
    reason = verdict.partition(":")[2].strip()
    if not reason:
        # A rejection by button carries no reason: the staff must know why to propose again.
        if engine is None:
            raise UserError("reject_reason_required")
        return await engine.begin(ctx, REJECT_FLOW, case.case_no)
    case.proposed_expert_user_id = None
    case.match_state = ""
    await ctx.notifier.to_staff(
        Outbound(
            text=t(
                "match_rejected_staff",
                case_no=case.case_no,
                name=expert.name or expert.platform_id,
                reason=reason or "（理由なし）",
            )
        ),
        case_id=case.id,
        dedupe_key=f"rejected:{case.id}:{expert.id}:{ctx.inbound.event_id}",
    )
    return [Outbound(text=t("rejected_reply", case_no=case.case_no))]


REJECT_FLOW = "match_reject"


class MatchRejectFlow:
    """The reason for rejecting a proposed expert, asked when the 差し戻す button gave none."""

    name = REJECT_FLOW
    label = "派遣人材の差し戻し"

    async def start(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]:
        require(ctx.actor, Action.APPROVE_MATCH)
        case = await load_case_for(ctx, text.strip())
        if case.match_state != "proposed" or case.proposed_expert_user_id is None:
            raise UserError("nothing_to_approve", case_no=case.case_no)
        expert = await _expert(ctx, str(case.proposed_expert_user_id))
        conv.data["case_no"] = case.case_no
        conv.goto("reason")
        return [
            Outbound(
                text=t(
                    "reject_ask_reason",
                    case_no=case.case_no,
                    name=expert.name or expert.platform_id,
                )
            )
        ]

    async def on_input(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]:
        reason = text.strip()
        if not reason:
            return [Outbound(text=t("reject_reason_required"))]
        conv.finish()
        return await decide(ctx, f"{conv.data['case_no']}:reject:{reason[:500]}")


async def approve_command(ctx: Context, args: str) -> list[Outbound]:
    return await decide(ctx, f"{args.strip()}:approve")


async def reject_command(
    ctx: Context, args: str, engine: ConversationEngine | None = None
) -> list[Outbound]:
    case_no, _, reason = args.strip().partition(" ")
    return await decide(ctx, f"{case_no}:reject:{reason}", engine)


async def pick_command(ctx: Context, args: str) -> list[Outbound]:
    """`/dx pick CASE PLATFORM_ID` — choose an expert by their chat id."""
    from store.users import find_by_platform_id

    case_no, _, who = args.strip().partition(" ")
    found = [u for u in await find_by_platform_id(ctx.s, who.strip()) if u.role == "expert"]
    if not found:
        raise UserError("expert_unknown", text=who.strip()[:30])
    return await pick(ctx, f"{case_no}:{found[0].id}")


def register(router: Router) -> None:
    router.dx_command("match", match_command)
    router.dx_command("pick", pick_command)
    router.dx_command("approve", approve_command)
    engine = router.engine

    async def reject(ctx: Context, args: str) -> list[Outbound]:
        return await reject_command(ctx, args, engine)

    async def decide_button(ctx: Context, value: str) -> list[Outbound]:
        return await decide(ctx, value, engine)

    router.dx_command("reject", reject)
    router.action("match_pick", pick)
    router.action("match_decide", decide_button)
