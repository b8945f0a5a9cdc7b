"""The reminder pass: one idempotent sweep that moves ended sessions on, sends the due pings,
chases surveys and the monthly report. APScheduler runs it in-process every few minutes;
`dxbot remind --now ISO` runs the same pass for cron deployments and tests.

Every ping is claimed in the ledger under a unique key in the same transaction that writes its
outbox message, so a restart sends nothing twice, and two processes running the pass at once
send each ping exactly once. Delivery itself is the outbox's job (retried until it succeeds).
What a ping says and who it goes to is the port's business (handlers/followup_reminders.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from reminders import deadlines, deliverable_pass
from reminders.calendar import BusinessCalendar
from reminders.clock import JST, Clock
from reminders.planner import EXPERT, STAFF, ReportState, Step, goal_step, in_office_hours, plan
from store import reminders as store
from store import stages as stage_store
from store.db import Database, Session
from store.models import SupportSession
from store.profiles import ProgramProfile
from store.reminders import PendingReport
from store.sessions import REVIEW
from store.stages import GoalGap

log = logging.getLogger("dxbot.reminders")


@dataclass(frozen=True)
class QueueFlag:
    """A wait of the desk's queue older than the profile allows (handlers/queue.py): told to the
    staff in their bundled reminder once per 開庁日 (ledger key ``queue:<ref>:<date>``)."""

    ref: str  # <kind>:<case id>[/<session id>], stable per wait
    line: str
    session_id: int | None = None


class ReminderPort(deliverable_pass.DeliverablePort, Protocol):
    """What the pass asks of the journeys (implemented in handlers/followup_reminders.py)."""

    async def session_ended(self, s: Session, session: SupportSession) -> bool:
        """Move an ended session on; False when another pass already did."""
        ...

    async def report_pings(
        self,
        s: Session,
        audience: str,
        user_id: int | None,
        items: list[tuple[PendingReport, Step]],
        queue: Sequence[QueueFlag] = (),
    ) -> int | None: ...

    async def queue_flags(self, s: Session) -> list[QueueFlag]:
        """The flagged waits of the desk's queue now."""
        ...

    async def survey_ping(self, s: Session, session_id: int, step: str) -> int | None: ...

    async def survey_grace_over(self, s: Session, case_id: int) -> bool:
        """Close the case if its survey grace period is over; False when nothing changed."""
        ...

    async def monthly_ping(
        self, s: Session, year: int, month: int, due: dt.date, step: str
    ) -> int | None: ...

    async def goal_ping(self, s: Session, gaps: list[GoalGap]) -> None:
        """Tell the staff of engagements still without a goal (each claimed in the ledger)."""
        ...


@dataclass
class PassReport:
    ended: int = 0
    sent: list[str] = field(default_factory=list)
    collapsed: int = 0


async def run_pass(
    db: Database,
    clock: Clock,
    profile: ProgramProfile,
    calendar: BusinessCalendar,
    port: ReminderPort,
) -> PassReport:
    now = clock.now()
    report = PassReport()
    async with db.transaction() as s:
        for session in await store.ended_unmarked(s, profile.id, now):
            if await port.session_ended(s, session):
                report.ended += 1
    async with db.transaction() as s:  # the profile's deliverables: items due (a new month's)
        await deliverable_pass.refresh(s, profile, calendar, now)
    if not in_office_hours(now, calendar, profile.reminders):
        return report
    async with db.transaction() as s:
        await _report_pings(s, now, profile, calendar, port, report)
    async with db.transaction() as s:
        await _survey_pings(s, now, profile, calendar, port, report)
    async with db.transaction() as s:
        await _monthly_pings(s, now, profile, calendar, port, report)
    async with db.transaction() as s:
        report.sent += await deliverable_pass.pings(s, now, profile, calendar, port)
    async with db.transaction() as s:
        await _goal_pings(s, now, profile, calendar, port, report)
    return report


async def _report_pings(
    s: Session,
    now: dt.datetime,
    profile: ProgramProfile,
    calendar: BusinessCalendar,
    port: ReminderPort,
    report: PassReport,
) -> None:
    pending = await store.pending_reports(s, profile.id, now)
    ids = [p.session_id for p in pending]
    sent_steps = await store.ledger_steps(s, ids)
    snoozes = await store.last_snoozes(s, ids)
    decisions = []
    claims: list[store.Claim] = []
    for p in pending:
        state = ReportState(
            p.session_id,
            p.ends_at,
            p.report_due,
            snoozes.get(p.session_id),
            # Waiting for the staff's review: the staff are reminded, not the expert.
            p.handed_in_at if p.stage == REVIEW else None,
        )
        decided = plan(state, now, sent_steps.get(p.session_id, set()), calendar, profile.reminders)
        decisions.append((p, decided))
        claims += [
            store.Claim(f"report:{p.session_id}:{st.name}", p.session_id, st.name, "collapsed")
            for st in decided.collapse
        ]
        claims += [
            store.Claim(
                f"report:{p.session_id}:{st.name}", p.session_id, st.name, ",".join(st.audience)
            )
            for st in decided.send
        ]
    won = await store.claim_steps(s, claims, now)
    bundles: dict[tuple[str, int | None], list[tuple[PendingReport, Step]]] = defaultdict(list)
    for p, decided in decisions:
        report.collapsed += sum(
            f"report:{p.session_id}:{st.name}" in won for st in decided.collapse
        )
        for step in decided.send:
            if f"report:{p.session_id}:{step.name}" not in won:
                continue  # another pass got there first
            for audience in step.audience:
                if audience == EXPERT:
                    for expert_id in p.expert_user_ids:
                        bundles[(EXPERT, expert_id)].append((p, step))
                else:
                    bundles[(audience, None)].append((p, step))
    queue = await _queue_flags(s, now, port)
    if queue:
        bundles.setdefault((STAFF, None), [])
    for (audience, uid), items in bundles.items():
        if audience == STAFF:
            await port.report_pings(s, audience, uid, items, queue=queue)
            report.sent.extend(f"staff queue {f.ref}" for f in queue)
        else:
            await port.report_pings(s, audience, uid, items)
        report.sent.extend(
            f"{audience}{'' if uid is None else ':' + str(uid)} {p.case_no} {st.name}"
            for p, st in items
        )


async def _queue_flags(s: Session, now: dt.datetime, port: ReminderPort) -> list[QueueFlag]:
    """The flagged waits not yet told today: each claimed as ``queue:<ref>:<date>``, so it
    joins the staff's bundled reminder once per 開庁日 whatever the passes and replicas."""
    flags = await port.queue_flags(s)
    if not flags:
        return []
    today = now.astimezone(JST).date().isoformat()
    claims = [store.Claim(f"queue:{f.ref}:{today}", None, "queue", STAFF) for f in flags]
    won = await store.claim_steps(s, claims, now)
    return [f for f, c in zip(flags, claims, strict=True) if c.key in won]


async def _survey_pings(
    s: Session,
    now: dt.datetime,
    profile: ProgramProfile,
    calendar: BusinessCalendar,
    port: ReminderPort,
    report: PassReport,
) -> None:
    today = now.astimezone(JST).date()
    for session_id, case_id, reported_at in await store.reported_without_survey(s, profile.id):
        day = reported_at.astimezone(JST).date()
        waited = calendar.open_days_until(day, today)
        if waited >= profile.survey.grace_open_days:
            if await store.claim_step(
                s,
                key=f"survey:{session_id}:grace",
                session_id=session_id,
                step="survey_grace",
                recipient="",
                now=now,
            ):
                if await port.survey_grace_over(s, case_id):
                    report.sent.append(f"case {case_id} closed after the survey grace period")
        elif waited >= profile.survey.reminder_after_open_days:
            if await store.claim_step(
                s,
                key=f"survey:{session_id}:reminder",
                session_id=session_id,
                step="survey_reminder",
                recipient="officer",
                now=now,
            ):
                await port.survey_ping(s, session_id, "reminder")
                report.sent.append(f"officer survey reminder for session {session_id}")


async def _monthly_pings(
    s: Session,
    now: dt.datetime,
    profile: ProgramProfile,
    calendar: BusinessCalendar,
    port: ReminderPort,
    report: PassReport,
) -> None:
    """Chase the monthly report (月例業務報告) of each month whose deadline is near.

    Usually that is last month's report. In the program's final month two are open: last
    month's (due the 10th) and the final month's own (due at the term's end), so both are
    considered — checking only the final month's would silently drop February's reminders.
    """
    d = profile.deadlines
    if d.monthly_report_day is None:
        return
    today = now.astimezone(JST).date()
    prev = today.replace(day=1) - dt.timedelta(days=1)
    final = (profile.term_end.year, profile.term_end.month) if d.final_month_report_due else None
    months = [(prev.year, prev.month)]
    if final == (today.year, today.month):
        months.append(final)
    for year, month in months:
        if not profile.term_start <= dt.date(year, month, 1) <= profile.term_end:
            continue
        due = deadlines.monthly_report_due(
            calendar,
            year,
            month,
            d.monthly_report_day,
            d.monthly_report_closed_day_rule,
            final_month_due=d.final_month_report_due if final else None,
            final_month=final,
        )
        step = _monthly_step(today, due, calendar)
        if step is None:
            continue
        key = f"monthly:{profile.id}:{year}-{month:02d}:{step}"
        if await store.claim_step(
            s, key=key, session_id=None, step=f"monthly_{step}", recipient="staff", now=now
        ):
            await port.monthly_ping(s, year, month, due, step)
            report.sent.append(f"staff monthly report {year}-{month:02d} {step}")


async def _goal_pings(
    s: Session,
    now: dt.datetime,
    profile: ProgramProfile,
    calendar: BusinessCalendar,
    port: ReminderPort,
    report: PassReport,
) -> None:
    """Staff are told once per case of an engagement with no 取組目標 after its N-th held session
    (``stage_model.goal_set_by_session``; Kumamoto §2.1(2) 支援3回目を目途に)."""
    model = profile.stage_model
    if model is None or model.goal_set_by_session is None:
        return
    gaps = await stage_store.goal_gaps(s, profile.id, model.goal_set_by_session, now)
    due = [g for g in gaps if goal_step(g.nth_ended_at, now, calendar, profile.reminders)]
    claims = [store.Claim(stage_store.goal_key(g.case_id), None, "goal", STAFF) for g in due]
    won = await store.claim_steps(s, claims, now)
    told = [g for g in due if stage_store.goal_key(g.case_id) in won]
    if told:
        await port.goal_ping(s, told)
        report.sent.extend(f"staff goal {g.case_no}" for g in told)


def _monthly_step(today: dt.date, due: dt.date, calendar: BusinessCalendar) -> str | None:
    """'before' from three 開庁日 ahead, 'due' on the due day — or, when the due day is closed
    (a profile may keep 翌月10日 as is, and the 10th can be a Sunday), on the last 開庁日
    before it: pings go out on open days only, so a 'due' ping on a closed day is never sent."""
    last = calendar.previous_open_day(due, include_self=True)
    before = due
    for _ in range(3):
        before = calendar.previous_open_day(before)
    if today == last:
        return "due"
    if before <= today < last:
        return "before"
    return None
