"""The reminder planner: given the state of one session's report and the time, which pings are
due now. Pure — no I/O, no clock — so every deadline rule is tested at any date.

Steps for a session whose report is not in:
  request       right after the session ends (the first follow-up request, to the expert)
  before_due    ``before_due_open_days`` 開庁日 before the due day (to the expert)
  due_day       on the due day (to the expert)
  overdue:N     each 開庁日 after the due day (to the expert, escalated to staff)
  prefecture    once, when the report is ``escalate_prefecture_after_overdue_open_days`` late
While the report waits for the staff's review (a track with a review step), the expert is not
chased; instead:
  review@<hand-in>:N   each 開庁日 morning after the hand-in day (to staff), N 開庁日 waited
The prefecture escalation applies either way: the deadline is met only on delivery.
Pings go out only on a 開庁日 inside office hours (JST). After downtime, missed steps are
collapsed: only the latest step that has come due is sent; the earlier ones are recorded as
collapsed so they never go out late. A snooze (「あとで」) holds the expert's pings until the next
開庁日 morning, never past the due day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from reminders.calendar import BusinessCalendar
from reminders.clock import JST
from store.profiles import ReminderPolicy

EXPERT = "expert"
STAFF = "staff"
PREFECTURE = "prefecture"


@dataclass(frozen=True)
class ReportState:
    session_id: int
    ends_at: dt.datetime
    report_due: dt.date
    snoozed_at: dt.datetime | None = None
    # Set while the report waits for the staff's review: when the expert handed it in.
    in_review_since: dt.datetime | None = None


@dataclass(frozen=True)
class Step:
    name: str
    at: dt.datetime
    audience: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    send: tuple[Step, ...]
    collapse: tuple[Step, ...]


def in_office_hours(now: dt.datetime, cal: BusinessCalendar, policy: ReminderPolicy) -> bool:
    local = now.astimezone(JST)
    return cal.is_open(local.date()) and policy.office_start <= local.time() < policy.office_end


def _morning(day: dt.date, policy: ReminderPolicy) -> dt.datetime:
    return dt.datetime.combine(day, policy.office_start, tzinfo=JST)


def snoozed_until(
    snoozed_at: dt.datetime, due: dt.date, cal: BusinessCalendar, policy: ReminderPolicy
) -> dt.datetime:
    """The next 開庁日 morning after the snooze, but never later than the due day's morning."""
    nxt = cal.next_open_day(snoozed_at.astimezone(JST).date())
    return min(_morning(nxt, policy), _morning(max(due, snoozed_at.astimezone(JST).date()), policy))


def report_steps(
    state: ReportState, now: dt.datetime, cal: BusinessCalendar, policy: ReminderPolicy
) -> list[Step]:
    """Every step of the expert/staff track whose time has come, in time order."""
    due = state.report_due
    steps = [Step("request", state.ends_at, (EXPERT,))]
    before = _before_due_day(due, cal, policy.before_due_open_days)
    if before is not None and _morning(before, policy) > state.ends_at:
        steps.append(Step("before_due", _morning(before, policy), (EXPERT,)))
    if _morning(due, policy) > state.ends_at:
        steps.append(Step("due_day", _morning(due, policy), (EXPERT,)))
    today = now.astimezone(JST).date()
    if today > due:
        late = cal.open_days_until(due, today)
        if late >= 1:
            steps.append(Step(f"overdue:{late}", _morning(today, policy), (EXPERT, STAFF)))
    return [s for s in steps if s.at <= now]


def review_step(
    state: ReportState, now: dt.datetime, cal: BusinessCalendar, policy: ReminderPolicy
) -> Step | None:
    """Today's reminder to the staff of a report waiting for their review, if one is due.

    Named after the hand-in time, so a report sent back and handed in again is reminded
    afresh; a day missed during downtime is not sent late (the next day's step replaces it)."""
    if state.in_review_since is None:
        return None
    since = state.in_review_since.astimezone(JST)
    today = now.astimezone(JST).date()
    waited = cal.open_days_until(since.date(), today)
    if waited < 1 or now < _morning(today, policy):
        return None
    return Step(f"review@{since:%Y%m%d%H%M}:{waited}", _morning(today, policy), (STAFF,))


def goal_step(
    nth_ended_at: dt.datetime, now: dt.datetime, cal: BusinessCalendar, policy: ReminderPolicy
) -> Step | None:
    """The staff's reminder of an engagement with no 取組目標 (``stage_model.goal_set_by_session``):
    due once its N-th held session has ended, sent on a 開庁日 inside office hours; the pass
    claims ``goal:<case id>`` in the ledger, so it goes out once whatever the passes."""
    if nth_ended_at > now or not in_office_hours(now, cal, policy):
        return None
    return Step("goal", now, (STAFF,))


def _before_due_day(due: dt.date, cal: BusinessCalendar, n: int) -> dt.date | None:
    if n <= 0:
        return None
    day = due
    for _ in range(n):
        day = cal.previous_open_day(day)
    return day


def plan(
    state: ReportState,
    now: dt.datetime,
    sent: Collection[str],
    cal: BusinessCalendar,
    policy: ReminderPolicy,
) -> Plan:
    """What to send now for one session, given the steps already in the ledger."""
    if not in_office_hours(now, cal, policy):
        return Plan((), ())
    if state.in_review_since is not None:
        step = review_step(state, now, cal, policy)
        waiting = [step] if step is not None and step.name not in sent else []
        return Plan((*waiting, *_escalation(state, now, sent, cal, policy)), ())
    if state.snoozed_at is not None and now < snoozed_until(
        state.snoozed_at, state.report_due, cal, policy
    ):
        return Plan((), ())
    came_due = [s for s in report_steps(state, now, cal, policy) if s.name not in sent]
    send: list[Step] = []
    collapse: list[Step] = []
    if came_due:
        *older, latest = came_due
        send.append(latest)
        collapse.extend(older)
    send.extend(_escalation(state, now, sent, cal, policy))
    return Plan(tuple(send), tuple(collapse))


def _escalation(
    state: ReportState,
    now: dt.datetime,
    sent: Collection[str],
    cal: BusinessCalendar,
    policy: ReminderPolicy,
) -> list[Step]:
    """The prefecture is told once, when the report is late by the profile's 開庁日."""
    today = now.astimezone(JST).date()
    if today > state.report_due and "prefecture" not in sent:
        late = cal.open_days_until(state.report_due, today)
        if late >= policy.escalate_prefecture_after_overdue_open_days:
            return [Step("prefecture", _morning(today, policy), (PREFECTURE,))]
    return []
