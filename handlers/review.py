"""Where a session report goes once the expert hands it in, as the track's profile says.

Without a review step the report reaches its receiver at once: the staff channel always gets
the file(s); where the profile says the report is submitted to the prefecture (Yamagata §6(4),
Saitama 表2-4/2-5), the prefecture channel gets them too, and the deadline is met then. A track
whose reports are made per municipality yields one file per municipality.

With a staff review step (the contractor checks before the report goes on), the staff get the
file(s) with 承認 / 差戻し; while the report waits the staff, not the expert, are reminded (the
reminder pass). 承認 sends it on to the receiver and meets the deadline; 差戻し asks for a reason
and sends the report back to the expert with it, who is then chased again.
"""

from __future__ import annotations

from bot.core.catalog import t
from bot.core.context import Context
from bot.core.conversation import Conversation
from bot.core.dates import normalize
from bot.core.errors import UserError
from bot.core.messages import Choice, FileOut, Outbound
from bot.core.permissions import Action, require
from bot.core.router import Router
from handlers.lifecycle import change_status
from reminders.calendar import format_jp
from reminders.clock import JST
from reports.session_report import build_report_files, report_rule
from store import cases as case_store
from store import reminders as reminder_store
from store import sessions as session_store
from store import users as user_store
from store.db import Session
from store.models import Case, SessionReport, SupportSession

REVIEW_FLOW = "report_review"
DECIDE = "report_review"  # the action id of 承認 / 差戻し
OPEN = "report_review_open"  # the action id that shows one waiting report


def _files(
    ctx: Context, case: Case, session: SupportSession, report: SessionReport
) -> tuple[FileOut, ...]:
    return tuple(
        FileOut(name=d.name, content=d.content, content_type=d.content_type, title=d.title)
        for d in build_report_files(ctx.profile, case, session, report)
    )


def receiver_word(ctx: Context, session: SupportSession) -> str:
    """Who the report is submitted to, in words: 県 or 事務局."""
    rule = report_rule(ctx.profile, session.track_id)
    return t("review_receiver_" + rule.submitted_to)


async def deliver(
    ctx: Context,
    case: Case,
    session: SupportSession,
    report: SessionReport,
    *,
    author: str,
    first: bool,
    approved: bool = False,
) -> None:
    """Send the report's file(s) to its receiver(s); on the first delivery, move the case on
    (報告済) and ask the officer for the survey. The caller has marked the session delivered."""
    rule = report_rule(ctx.profile, session.track_id)
    files = _files(ctx, case, session, report)
    if not approved:
        # Without a review the staff see the report now; with one they saw it at hand-in.
        await ctx.notifier.to_staff(
            Outbound(
                text=t(
                    "report_posted_staff",
                    case_no=case.case_no,
                    version=report.version,
                    expert=author,
                ),
                files=files,
            ),
            case_id=case.id,
            dedupe_key=f"report:{session.id}:v{report.version}",
        )
    if rule.submitted_to == "prefecture":
        await ctx.notifier.to_prefecture(
            Outbound(
                text=t(
                    "report_posted_prefecture",
                    case_no=case.case_no,
                    title=rule.title,
                    version=report.version,
                    count=len(files),
                ),
                files=files,
            ),
            case_id=case.id,
            dedupe_key=f"report:{session.id}:v{report.version}:prefecture",
        )
    if first:
        if case.status in ("held", "scheduled"):
            if case.status == "scheduled":
                await change_status(ctx, case, "held")
            await change_status(ctx, case, "reported")
        # Every session's first report asks for its survey, whatever the case's status: in
        # a case of several sessions the later reports find it already 報告済.
        await request_survey(ctx.s, ctx, session, case)


async def ask_review(
    ctx: Context, case: Case, session: SupportSession, report: SessionReport, *, author: str
) -> None:
    """The staff get the handed-in report with 承認 / 差戻し (in the channel, and each staff
    user directly, so a typed number answers it on LoGo Chat and the console)."""
    rule = report_rule(ctx.profile, session.track_id)
    request = Outbound(
        text=t(
            "review_request_staff",
            case_no=case.case_no,
            title=rule.title,
            version=report.version,
            expert=author,
            due=format_jp(session.report_due),
            receiver=receiver_word(ctx, session),
        ),
        files=_files(ctx, case, session, report),
        action_id=DECIDE,
        choices=_decision_choices(session, report),
    )
    key = f"review:{session.id}:v{report.version}"
    await ctx.notifier.to_staff(request, case_id=case.id, dedupe_key=key)
    direct = request.model_copy(update={"files": ()})
    for staff in await user_store.list_users(ctx.s, "staff"):
        await ctx.notifier.to_user(
            staff.user, direct, case_id=case.id, dedupe_key=f"{key}:{staff.user.id}"
        )


def _decision_choices(session: SupportSession, report: SessionReport) -> tuple[Choice, ...]:
    return (
        Choice(
            label=t("choice_review_approve"),
            value=f"{session.id}:{report.version}:approve",
            style="primary",
        ),
        Choice(
            label=t("choice_review_return"),
            value=f"{session.id}:{report.version}:return",
            style="danger",
        ),
    )


async def request_survey(s: Session, ctx: Context, session: SupportSession, case: Case) -> None:
    """Ask the requesting officer for the survey, once per session."""
    if not await reminder_store.claim_step(
        s,
        key=f"survey:{session.id}:request",
        session_id=session.id,
        step="survey_request",
        recipient="officer",
        now=ctx.now(),
    ):
        return
    officer = await user_store.get(s, case.requester_user_id) if case.requester_user_id else None
    if officer is None or not officer.active:
        return
    day = format_jp(session.starts_at.astimezone(JST).date())
    await ctx.notifier.to_user(
        officer,
        Outbound(
            text=t("survey_request", case_no=case.case_no, day=day),
            action_id="survey_start",
            choices=(
                Choice(label=t("survey_choice_start"), value=str(session.id), style="primary"),
            ),
        ),
        case_id=case.id,
        dedupe_key=f"survey:{session.id}:request",
    )


# --- the staff's decision -----------------------------------------------------------------------


async def _waiting(
    ctx: Context, session_id: int, version: int | None
) -> tuple[SupportSession, Case, SessionReport]:
    """The session, locked, whose report (this version, when given) waits for review."""
    session = await session_store.session_for_update(ctx.s, session_id)
    case = await case_store.get(ctx.s, session.case_id) if session is not None else None
    report = await session_store.current_report(ctx.s, session_id) if session else None
    if (
        session is None
        or case is None
        or case.program_id != ctx.profile.id
        or report is None
        or session.report_stage != session_store.REVIEW
        or (version is not None and report.version != version)
    ):
        raise UserError("review_nothing", ref=str(session_id))
    return session, case, report


def _parse(value: str) -> tuple[int, int | None, str]:
    parts = normalize(value).strip().split(":", 2)
    if not parts[0].isdigit():
        raise UserError("review_nothing", ref=parts[0][:30] or "（未指定）")
    version = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    return int(parts[0]), version, parts[2] if len(parts) > 2 else ""


async def _approve(
    ctx: Context, session: SupportSession, case: Case, report: SessionReport
) -> list[Outbound]:
    first = await session_store.approve_report(
        ctx.s, session, version=report.version, now=ctx.now(), actor=ctx.actor.label
    )
    author = ""
    if report.author_user_id is not None:
        user = await user_store.get(ctx.s, report.author_user_id)
        author = (user.name or user.platform_id) if user else ""
    await deliver(ctx, case, session, report, author=author, first=first, approved=True)
    receiver = receiver_word(ctx, session)
    for expert in await session_store.experts_of(ctx.s, session.id):
        await ctx.notifier.to_user(
            expert,
            Outbound(
                text=t(
                    "review_approved_expert",
                    case_no=case.case_no,
                    version=report.version,
                    receiver=receiver,
                )
            ),
            case_id=case.id,
            dedupe_key=f"review:{session.id}:v{report.version}:approved:{expert.id}",
        )
    return [
        Outbound(
            text=t(
                "review_approved_staff",
                case_no=case.case_no,
                version=report.version,
                receiver=receiver,
            )
        )
    ]


async def send_back(
    ctx: Context, session_id: int, version: int | None, reason: str
) -> list[Outbound]:
    """Return the report to its expert(s) with the reason; they are asked (and chased) again."""
    session, case, report = await _waiting(ctx, session_id, version)
    await session_store.return_report(
        ctx.s, session, reason, version=report.version, now=ctx.now(), actor=ctx.actor.label
    )
    for expert in await session_store.experts_of(ctx.s, session.id):
        await ctx.notifier.to_user(
            expert,
            Outbound(
                text=t(
                    "review_returned_expert",
                    case_no=case.case_no,
                    version=report.version,
                    reason=reason,
                    due=format_jp(session.report_due),
                ),
                action_id="report_start",
                choices=(
                    Choice(
                        label=t("review_choice_rewrite"), value=str(session.id), style="primary"
                    ),
                ),
            ),
            case_id=case.id,
            dedupe_key=f"review:{session.id}:v{report.version}:returned:{expert.id}",
        )
    return [Outbound(text=t("review_returned_staff", case_no=case.case_no, version=report.version))]


class ReviewFlow:
    """差戻し: asks the staff member for the reason, then sends the report back with it."""

    name = REVIEW_FLOW
    label = "報告の差戻し"

    async def start(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]:
        require(ctx.actor, Action.CHANGE_STATUS)
        session_id, version, _ = _parse(text)
        _, case, report = await _waiting(ctx, session_id, version)
        conv.data.update({"sid": session_id, "version": report.version})
        conv.goto("reason")
        return [Outbound(text=t("review_ask_reason", case_no=case.case_no))]

    async def on_input(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]:
        reason = text.strip()
        if not reason:
            return [Outbound(text=t("review_reason_required"))]
        if len(reason) > 1000:
            return [Outbound(text=t("answer_too_long", label="差戻しの理由", limit=1000))]
        conv.finish()
        return await send_back(ctx, int(conv.data["sid"]), int(conv.data["version"]), reason)


async def show(ctx: Context, value: str) -> list[Outbound]:
    """One waiting report, its fields and files, with 承認 / 差戻し."""
    require(ctx.actor, Action.CHANGE_STATUS)
    session_id, version, _ = _parse(value)
    session, case, report = await _waiting(ctx, session_id, version)
    author = ""
    if report.author_user_id is not None:
        user = await user_store.get(ctx.s, report.author_user_id)
        author = (user.name or user.platform_id) if user else ""
    rule = report_rule(ctx.profile, session.track_id)
    return [
        Outbound(
            text=t(
                "review_show",
                case_no=case.case_no,
                title=rule.title,
                version=report.version,
                expert=author,
                due=format_jp(session.report_due),
            ),
            files=_files(ctx, case, session, report),
            action_id=DECIDE,
            choices=_decision_choices(session, report),
        )
    ]


async def review_command(ctx: Context, args: str) -> list[Outbound]:
    """`/dx review` lists the reports waiting for review; `/dx review SESSION_ID` shows one."""
    require(ctx.actor, Action.CHANGE_STATUS)
    if args.strip():
        return await show(ctx, args.strip())
    waiting = await session_store.reports_in_review(ctx.s, ctx.profile.id)
    if not waiting:
        return [Outbound(text=t("review_none"))]
    cases = {c.id: c for c in [await case_store.get(ctx.s, w.case_id) for w in waiting] if c}
    return [
        Outbound(
            text=t("review_pick"),
            action_id=OPEN,
            choices=tuple(
                Choice(
                    label=t(
                        "review_pick_item",
                        case_no=cases[w.case_id].case_no if w.case_id in cases else "",
                        session_id=w.id,
                        day=format_jp(w.starts_at.astimezone(JST).date()),
                        due=format_jp(w.report_due),
                    ),
                    value=str(w.id),
                )
                for w in waiting[:25]
            ),
        )
    ]


def register(router: Router) -> None:
    engine = router.engine

    async def decide(ctx: Context, value: str) -> list[Outbound]:
        """承認 / 差戻し pressed (or typed as its number)."""
        require(ctx.actor, Action.CHANGE_STATUS)
        session_id, version, verdict = _parse(value)
        if verdict == "approve":
            session, case, report = await _waiting(ctx, session_id, version)
            return await _approve(ctx, session, case, report)
        if verdict.startswith("return"):
            reason = verdict.removeprefix("return").lstrip(":").strip()
            if reason:
                return await send_back(ctx, session_id, version, reason)
            return await engine.begin(ctx, REVIEW_FLOW, f"{session_id}:{version or ''}")
        raise UserError("review_nothing", ref=str(session_id))

    router.dx_command("review", review_command)
    router.action(DECIDE, decide)
    router.action(OPEN, show)
