"""The reminder pass's port (reminders.run.ReminderPort): what each ping of the follow-up says
and to whom — the expert's report reminders, the staff and prefecture escalations, the survey
reminders, the monthly 業務日報 pings — and the case moves the pass triggers (held when a session
ends, closed when the survey's grace period is over).

Kept apart from the report conversation (handlers/followup.py), which the chat drives.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence

from bot.core.catalog import t
from bot.core.context import Context
from bot.core.messages import Choice, Outbound
from handlers import queue as desk_queue
from handlers import stages
from handlers.deliverables import DeliverableReminders
from handlers.followup import has_open_sessions
from handlers.lifecycle import change_status
from handlers.report_drafts import jst_day, session_when
from reminders.calendar import format_jp
from reminders.clock import JST
from reminders.planner import EXPERT, PREFECTURE, STAFF, Step
from reminders.run import QueueFlag
from store import cases as case_store
from store import sessions as session_store
from store import users as user_store
from store.db import Session
from store.models import SupportSession
from store.reminders import PendingReport
from store.stages import GoalGap

REVIEW_STEP = "review@"  # reminders.planner.review_step names its steps so


class FollowupReminders(DeliverableReminders):
    """Implements reminders.run.ReminderPort: the words and recipients of each ping (the
    deliverables' own in handlers/deliverables.py)."""

    def __init__(self, make_context: Callable[[Session], Context]) -> None:
        self.make_context = make_context

    async def session_ended(self, s: Session, session: SupportSession) -> bool:
        """Mark the session held and move its case to 実施済(報告待ち), once.

        Two passes (two replicas) may both have read the session as 'scheduled': only the one
        that wins ``mark_held`` goes on, and the case row is read under a lock, so the status
        change (and its notifications) is recorded once, not once per pass.
        """
        ctx = self.make_context(s)
        if not await session_store.mark_held(s, session):
            return False
        case = await case_store.get_for_update(s, session.case_id)
        # A case already 報告済 for an earlier session waits again for this session's report.
        if case is not None and case.status in ("scheduled", "reported"):
            await change_status(ctx, case, "held", reason=t("reason_session_ended"))
        return True

    async def report_pings(
        self,
        s: Session,
        audience: str,
        user_id: int | None,
        items: list[tuple[PendingReport, Step]],
        queue: Sequence[QueueFlag] = (),
    ) -> int | None:
        ctx = self.make_context(s)
        today = ctx.now().date()
        lines = []
        for p, step in items:
            left = ctx.calendar.open_days_until(today, p.report_due)
            lines.append(
                t(
                    "ping_line",
                    session_id=p.session_id,
                    case_no=p.case_no,
                    day=session_when(p.starts_at, p.ends_at),
                    due=format_jp(p.report_due),
                    state=_due_state(step.name, left),
                )
            )
        body = "\n".join(lines)
        key = _ping_key(audience, user_id, today, items)
        if audience == EXPERT and user_id is not None:
            user = await user_store.get(s, user_id)
            if user is None or not user.active:
                return None
            first = any(st.name == "request" for _, st in items)
            # 「あとで」 holds pings only until the due day: past it, the line would promise
            # what the bot does not do.
            overdue = all(p.report_due < ctx.now().astimezone(JST).date() for p, _ in items)
            key_name = "ping_expert_overdue" if overdue else "ping_expert"
            message = Outbound(
                text=t("ping_expert_first" if first else key_name, lines=body),
                action_id="report_start",
                choices=tuple(
                    Choice(
                        label=t(
                            "ping_start",
                            case_no=p.case_no,
                            when=session_when(p.starts_at, p.ends_at),
                        ),
                        value=str(p.session_id),
                        style="primary",
                    )
                    for p, _ in items
                ),
            )
            await ctx.notifier.to_user(user, message, dedupe_key=key)
            return None
        if audience == STAFF:
            review = [(p, st) for p, st in items if st.name.startswith(REVIEW_STEP)]
            chase = [(p, st) for p, st in items if not st.name.startswith(REVIEW_STEP)]
            if chase:
                chase_body = "\n".join(
                    line
                    for line, (_, st) in zip(lines, items, strict=True)
                    if not st.name.startswith(REVIEW_STEP)
                )
                # The desk's flagged waits ride in the same message (handlers/queue.py).
                extra = desk_queue.staff_text(queue, {p.session_id for p, _ in items})
                await ctx.notifier.to_staff(
                    Outbound(text=t("ping_staff", lines=chase_body) + extra),
                    dedupe_key=_ping_key(audience, user_id, today, chase),
                )
            elif desk_queue.staff_lines(queue, {p.session_id for p, _ in items}):
                await ctx.notifier.to_staff(
                    Outbound(text=desk_queue.staff_message(queue)),
                    dedupe_key=desk_queue.dedupe_key(queue, today.isoformat()),
                )
            if review:
                await ctx.notifier.to_staff(
                    Outbound(
                        text=t(
                            "ping_staff_review",
                            lines="\n".join(
                                line
                                for line, (_, st) in zip(lines, items, strict=True)
                                if st.name.startswith(REVIEW_STEP)
                            ),
                        ),
                        action_id="report_review_open",
                        choices=tuple(
                            Choice(
                                label=t("review_open_choice", case_no=p.case_no),
                                value=str(p.session_id),
                            )
                            for p, _ in review
                        ),
                    ),
                    dedupe_key=_ping_key(audience, user_id, today, review),
                )
        elif audience == PREFECTURE:
            await ctx.notifier.to_prefecture(
                Outbound(text=t("ping_prefecture", lines=body)), dedupe_key=key
            )
        return None

    async def survey_ping(self, s: Session, session_id: int, step: str) -> int | None:
        ctx = self.make_context(s)
        found = await session_store.with_case(s, session_id)
        if found is None or found.requester is None or not found.requester.active:
            return None
        session, case, officer = found.session, found.case, found.requester
        await ctx.notifier.to_user(
            officer,
            Outbound(
                text=t(
                    "survey_reminder",
                    case_no=case.case_no,
                    day=format_jp(jst_day(session.starts_at)),
                ),
                action_id="survey_start",
                choices=(Choice(label=t("survey_choice_start"), value=str(session.id)),),
            ),
            case_id=case.id,
            dedupe_key=f"survey:{session_id}:{step}",
        )
        return None

    async def survey_grace_over(self, s: Session, case_id: int) -> bool:
        ctx = self.make_context(s)
        case = await case_store.get(s, case_id)
        if case is None or case.status != "reported" or await has_open_sessions(s, case):
            return False  # e.g. closed already by the grace period of its other session
        await change_status(ctx, case, "closed", reason=t("reason_survey_grace"))
        return True

    async def monthly_ping(
        self, s: Session, year: int, month: int, due: dt.date, step: str
    ) -> int | None:
        ctx = self.make_context(s)
        # The 'due' ping of a due day that is closed goes out on the last 開庁日 before it.
        key = (
            "monthly_due_closed" if step == "due" and ctx.now().date() != due else f"monthly_{step}"
        )
        await ctx.notifier.to_staff(
            Outbound(text=t(key, year=year, month=month, due=format_jp(due))),
            dedupe_key=f"monthly:{year}-{month}:{step}",
        )
        return None

    async def queue_flags(self, s: Session) -> list[QueueFlag]:
        return await desk_queue.flags(self.make_context(s))

    async def goal_ping(self, s: Session, gaps: list[GoalGap]) -> None:
        await stages.goal_ping(self.make_context(s), gaps)


def _ping_key(
    audience: str, user_id: int | None, day: dt.date, items: list[tuple[PendingReport, Step]]
) -> str:
    """The outbox dedupe key of one bundled ping. The (session, step) list is hashed: a bundle
    of a dozen reports would overflow the 200-character key column (PostgreSQL refuses the
    insert and the whole pass fails; SQLite silently accepts it)."""
    steps = ",".join(f"{p.session_id}.{st.name}" for p, st in items)
    digest = hashlib.sha256(steps.encode()).hexdigest()[:32]
    return f"ping:{audience}:{user_id}:{day.isoformat()}:{digest}"


def _due_state(step: str, left: int) -> str:
    # A first request can be late too: an answer recorded after its due date had passed.
    if step.startswith("overdue") or step == "prefecture" or left < 0:
        return t("ping_state_overdue", days=-left)
    if left == 0:
        return t("ping_state_today")
    return t("ping_state_left", days=left)
