"""The reminder planner, pure and table-driven: which pings are due for one session's report at
a given moment, given what the ledger already holds.

Each scenario is a session, a policy and a calendar period with its own traps (a national
holiday inside the deadline, the September 国民の休日, the year end). The planner is asked at
many moments — every 15 minutes for weeks, around the clock — exactly as the scheduler would,
and the resulting timeline must be the one the product promises: the request right after the
session, a reminder two 開庁日 before the due day, one on it, then daily on 開庁日 with staff
escalation and, once, the prefecture; nothing on a closed day or outside office hours; after
downtime only the latest step goes out; a snooze holds pings until the next 開庁日 morning but
never past the due day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from reminders.calendar import BusinessCalendar
from reminders.clock import JST
from reminders.deadlines import session_report_due
from reminders.planner import (
    EXPERT,
    PREFECTURE,
    STAFF,
    ReportState,
    in_office_hours,
    plan,
    report_steps,
    snoozed_until,
)
from store.profiles import ReminderPolicy

CAL = BusinessCalendar()
POLICY = ReminderPolicy()  # 9:00–17:00, before_due 2, prefecture after 3 overdue 開庁日


def at(text: str) -> dt.datetime:
    """'2026-11-19 15:00' in JST."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=JST)


def state(start: str, hours: float = 1.0, *, snoozed: str | None = None, n: int = 5) -> ReportState:
    starts = at(start)
    return ReportState(
        session_id=1,
        ends_at=starts + dt.timedelta(hours=hours),
        report_due=session_report_due(CAL, starts.date(), n),
        snoozed_at=at(snoozed) if snoozed else None,
    )


def simulate(
    st: ReportState,
    start: str,
    end: str,
    *,
    policy: ReminderPolicy = POLICY,
    every: dt.timedelta = dt.timedelta(minutes=15),
    cal: BusinessCalendar = CAL,
) -> list[tuple[str, str]]:
    """Run the planner like the scheduler does, recording what it sends and when."""
    sent: set[str] = set()
    timeline: list[tuple[str, str]] = []
    now = at(start)
    while now <= at(end):
        decided = plan(st, now, sent, cal, policy)
        assert not decided.collapse, f"nothing is missed when the pass runs: {now}"
        for step in decided.send:
            assert step.name not in sent, f"{step.name} twice at {now}"
            sent.add(step.name)
            timeline.append((now.strftime("%Y-%m-%d %H:%M"), step.name))
        now += every
    return timeline


# --- whole timelines ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timeline:
    id: str
    session: str  # start, 1 hour
    until: str
    expected: list[tuple[str, str]]
    hours: float = 1.0
    n: int = 5


TIMELINES = [
    Timeline(
        # Due 11/27 (5 開庁日 after 11/19: 11/23 勤労感謝の日 is skipped); 11/25 is two before.
        "november-with-holiday",
        "2026-11-19 14:00",
        "2026-12-04 18:00",
        [
            ("2026-11-19 15:00", "request"),
            ("2026-11-25 09:00", "before_due"),
            ("2026-11-27 09:00", "due_day"),
            ("2026-11-30 09:00", "overdue:1"),
            ("2026-12-01 09:00", "overdue:2"),
            ("2026-12-02 09:00", "overdue:3"),
            ("2026-12-02 09:00", "prefecture"),
            ("2026-12-03 09:00", "overdue:4"),
            ("2026-12-04 09:00", "overdue:5"),
        ],
    ),
    Timeline(
        # Silver week: 9/19–9/23 closed (敬老の日 9/21, 国民の休日 9/22, 秋分の日 9/23).
        "silver-week-kokumin-no-kyujitsu",
        "2026-09-17 10:00",
        "2026-10-02 18:00",
        [
            ("2026-09-17 11:00", "request"),
            ("2026-09-25 09:00", "before_due"),
            ("2026-09-29 09:00", "due_day"),
            ("2026-09-30 09:00", "overdue:1"),
            ("2026-10-01 09:00", "overdue:2"),
            ("2026-10-02 09:00", "overdue:3"),
            ("2026-10-02 09:00", "prefecture"),
        ],
    ),
    Timeline(
        # Year end: 12/29–1/3 closed, due 1/6; 1/11 成人の日 is skipped while overdue.
        "year-end",
        "2026-12-24 13:00",
        "2027-01-13 18:00",
        [
            ("2026-12-24 14:00", "request"),
            ("2027-01-04 09:00", "before_due"),
            ("2027-01-06 09:00", "due_day"),
            ("2027-01-07 09:00", "overdue:1"),
            ("2027-01-08 09:00", "overdue:2"),
            ("2027-01-12 09:00", "overdue:3"),
            ("2027-01-12 09:00", "prefecture"),
            ("2027-01-13 09:00", "overdue:4"),
        ],
    ),
    Timeline(
        # The session ends after office hours on a Friday: the request waits for Monday 9:00.
        "ends-after-hours-friday",
        "2026-11-20 16:00",
        "2026-11-24 12:00",
        [("2026-11-24 09:00", "request")],  # 11/23 (Mon) is 勤労感謝の日
        hours=2.0,
    ),
    Timeline(
        # A one-開庁日 deadline: no before_due step (it would fall before the session).
        "one-open-day-deadline",
        "2026-11-19 10:00",
        "2026-11-24 18:00",
        [
            ("2026-11-19 11:00", "request"),
            ("2026-11-20 09:00", "due_day"),
            ("2026-11-24 09:00", "overdue:1"),
        ],
        n=1,
    ),
]


@pytest.mark.parametrize("case", TIMELINES, ids=lambda c: c.id)
def test_timeline(case: Timeline) -> None:
    st = state(case.session, case.hours, n=case.n)
    assert simulate(st, case.session, case.until) == case.expected


def test_every_ping_is_on_an_open_day_inside_office_hours() -> None:
    st = state("2026-12-24 13:00")
    for when, _ in simulate(st, "2026-12-24 00:00", "2027-01-20 23:45"):
        moment = at(when)
        assert CAL.is_open(moment.date()), when
        assert dt.time(9, 0) <= moment.time() < dt.time(17, 0), when


@pytest.mark.parametrize(
    "now",
    [
        "2026-09-22 10:00",  # 国民の休日
        "2026-09-21 10:00",  # 敬老の日
        "2026-09-19 10:00",  # Saturday
        "2026-09-20 10:00",  # Sunday
        "2026-12-29 10:00",  # 年末
        "2027-01-03 10:00",  # 年始
        "2027-01-11 10:00",  # 成人の日
        "2026-11-23 10:00",  # 勤労感謝の日
        "2026-11-24 08:59",  # open day, before office hours
        "2026-11-24 17:00",  # open day, office closed (end is exclusive)
        "2026-11-24 23:00",
    ],
)
def test_nothing_on_closed_days_or_outside_office_hours(now: str) -> None:
    # A session long overdue: every step would be due, yet nothing goes out at these times.
    st = state("2026-09-01 10:00")
    decided = plan(st, at(now), set(), CAL, POLICY)
    assert decided.send == () and decided.collapse == ()
    assert not in_office_hours(at(now), CAL, POLICY)


def test_office_hours_come_from_the_policy() -> None:
    late_start = ReminderPolicy(office_start=dt.time(10, 0), office_end=dt.time(16, 0))
    st = state("2026-11-19 14:00")
    timeline = simulate(st, "2026-11-19 14:00", "2026-11-27 18:00", policy=late_start)
    assert timeline == [
        ("2026-11-19 15:00", "request"),
        ("2026-11-25 10:00", "before_due"),
        ("2026-11-27 10:00", "due_day"),
    ]
    assert plan(st, at("2026-11-27 09:30"), {"request", "before_due"}, CAL, late_start).send == ()
    assert plan(st, at("2026-11-27 16:00"), {"request", "before_due"}, CAL, late_start).send == ()


def test_the_time_zone_of_now_does_not_matter() -> None:
    st = state("2026-11-19 14:00")
    utc = at("2026-11-27 09:00").astimezone(dt.UTC)  # 00:00 UTC
    assert [s.name for s in plan(st, utc, {"request", "before_due"}, CAL, POLICY).send] == [
        "due_day"
    ]


# --- audiences and escalation ----------------------------------------------------------------------


def test_audiences_expert_then_staff_then_prefecture_once() -> None:
    st = state("2026-11-19 14:00")
    sent = {"request", "before_due", "due_day"}
    # overdue:1 and :2 go to the expert and staff, not yet the prefecture
    for day, name in (("2026-11-30", "overdue:1"), ("2026-12-01", "overdue:2")):
        (step,) = plan(st, at(f"{day} 09:00"), sent, CAL, POLICY).send
        assert (step.name, step.audience) == (name, (EXPERT, STAFF))
        sent.add(name)
    third = plan(st, at("2026-12-02 09:00"), sent, CAL, POLICY).send
    assert [(s.name, s.audience) for s in third] == [
        ("overdue:3", (EXPERT, STAFF)),
        ("prefecture", (PREFECTURE,)),
    ]
    sent |= {s.name for s in third}
    fourth = plan(st, at("2026-12-03 09:00"), sent, CAL, POLICY).send
    assert [s.name for s in fourth] == ["overdue:4"]  # the prefecture hears once


def test_earlier_steps_go_to_the_expert_only() -> None:
    st = state("2026-11-19 14:00")
    assert plan(st, at("2026-11-19 15:00"), set(), CAL, POLICY).send[0].audience == (EXPERT,)
    assert plan(st, at("2026-11-25 09:00"), {"request"}, CAL, POLICY).send[0].audience == (EXPERT,)


@pytest.mark.parametrize(
    ("after", "first_day"),
    [(1, "2026-11-30"), (2, "2026-12-01"), (3, "2026-12-02"), (5, "2026-12-04")],
)
def test_prefecture_escalation_follows_the_profile(after: int, first_day: str) -> None:
    policy = ReminderPolicy(escalate_prefecture_after_overdue_open_days=after)
    st = state("2026-11-19 14:00")
    timeline = simulate(st, "2026-11-19 14:00", "2026-12-10 18:00", policy=policy)
    assert [when for when, name in timeline if name == "prefecture"] == [f"{first_day} 09:00"]


def test_no_before_due_step_when_the_policy_says_zero() -> None:
    policy = ReminderPolicy(before_due_open_days=0)
    st = state("2026-11-19 14:00")
    names = [n for _, n in simulate(st, "2026-11-19 14:00", "2026-11-27 18:00", policy=policy)]
    assert names == ["request", "due_day"]


def test_profile_closed_days_are_skipped() -> None:
    cal = BusinessCalendar([dt.date(2026, 11, 25)])  # a 庁舎 closure on the before-due day
    st = ReportState(1, at("2026-11-19 15:00"), session_report_due(cal, dt.date(2026, 11, 19)))
    assert st.report_due == dt.date(2026, 11, 30)
    timeline = simulate(st, "2026-11-19 14:00", "2026-11-30 18:00", cal=cal)
    assert timeline == [
        ("2026-11-19 15:00", "request"),
        ("2026-11-26 09:00", "before_due"),
        ("2026-11-30 09:00", "due_day"),
    ]


# --- after downtime: only the latest step goes out -----------------------------------------------


@dataclass(frozen=True)
class Downtime:
    id: str
    now: str
    sent: frozenset[str]
    send: list[str]
    collapse: list[str]


DOWNTIMES = [
    Downtime("down-before-the-session", "2026-11-30 10:00", frozenset(), ["overdue:1"],
             ["request", "before_due", "due_day"]),
    Downtime("request-sent-then-down", "2026-11-27 13:00", frozenset({"request"}),
             ["due_day"], ["before_due"]),
    Downtime("down-into-prefecture-escalation", "2026-12-02 16:59", frozenset({"request"}),
             ["overdue:3", "prefecture"], ["before_due", "due_day"]),
    # 23 開庁日 late: the year end (12/29–1/3) does not count.
    Downtime("down-for-weeks", "2027-01-05 09:00", frozenset({"request", "before_due"}),
             ["overdue:23", "prefecture"], ["due_day"]),
    Downtime("nothing-missed", "2026-11-25 09:00", frozenset({"request"}), ["before_due"], []),
    Downtime("all-sent-today", "2026-11-30 11:00",
             frozenset({"request", "before_due", "due_day", "overdue:1"}), [], []),
]  # fmt: skip


@pytest.mark.parametrize("case", DOWNTIMES, ids=lambda c: c.id)
def test_collapse_after_downtime(case: Downtime) -> None:
    st = state("2026-11-19 14:00")
    decided = plan(st, at(case.now), case.sent, CAL, POLICY)
    assert [s.name for s in decided.send] == case.send
    assert [s.name for s in decided.collapse] == case.collapse


def test_collapsed_steps_are_never_sent_later() -> None:
    st = state("2026-11-19 14:00")
    first = plan(st, at("2026-11-27 13:00"), set(), CAL, POLICY)
    sent = {s.name for s in (*first.send, *first.collapse)}
    assert sent == {"request", "before_due", "due_day"}
    # The rest of the day and the weekend bring nothing; Monday brings only overdue:1.
    for now in ("2026-11-27 16:45", "2026-11-28 10:00", "2026-11-30 08:59"):
        assert plan(st, at(now), sent, CAL, POLICY).send == ()
    assert [s.name for s in plan(st, at("2026-11-30 09:00"), sent, CAL, POLICY).send] == [
        "overdue:1"
    ]


def test_report_steps_lists_every_step_that_has_come_due() -> None:
    st = state("2026-11-19 14:00")
    names = [s.name for s in report_steps(st, at("2026-12-01 12:00"), CAL, POLICY)]
    assert names == ["request", "before_due", "due_day", "overdue:2"]
    assert report_steps(st, at("2026-11-19 14:59"), CAL, POLICY) == []


# --- snooze (「あとで」) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Snooze:
    id: str
    snoozed: str
    until: str


SNOOZES = [
    Snooze("afternoon-of-an-open-day", "2026-11-19 15:30", "2026-11-20 09:00"),
    Snooze("friday-to-tuesday-over-a-holiday", "2026-11-20 16:00", "2026-11-24 09:00"),
    Snooze("on-a-saturday", "2026-11-21 11:00", "2026-11-24 09:00"),
    Snooze("day-before-due", "2026-11-26 16:00", "2026-11-27 09:00"),
    # On the due day the next 開庁日 would be past it: held no later than the due morning.
    Snooze("on-the-due-day", "2026-11-27 08:00", "2026-11-27 09:00"),
    Snooze("after-the-due-day", "2026-11-30 10:00", "2026-11-30 09:00"),
]


@pytest.mark.parametrize("case", SNOOZES, ids=lambda c: c.id)
def test_snoozed_until(case: Snooze) -> None:
    due = dt.date(2026, 11, 27)
    assert snoozed_until(at(case.snoozed), due, CAL, POLICY) == at(case.until)


def test_snooze_holds_pings_until_the_next_open_day_morning() -> None:
    # Snoozed before office hours on the before-due day: that step waits a day.
    st = state("2026-11-19 14:00", snoozed="2026-11-25 08:30")
    assert plan(st, at("2026-11-25 09:00"), {"request"}, CAL, POLICY).send == ()
    assert plan(st, at("2026-11-25 16:45"), {"request"}, CAL, POLICY).send == ()
    late = plan(st, at("2026-11-26 09:00"), {"request"}, CAL, POLICY)
    assert [s.name for s in late.send] == ["before_due"]


def test_snooze_never_holds_past_the_due_day() -> None:
    st = state("2026-11-19 14:00", snoozed="2026-11-27 08:00")
    due_day = plan(st, at("2026-11-27 09:00"), {"request", "before_due"}, CAL, POLICY)
    assert [s.name for s in due_day.send] == ["due_day"]
    # Snoozing once overdue does not silence the daily reminder or the escalation.
    st = state("2026-11-19 14:00", snoozed="2026-12-01 10:00")
    sent = {"request", "before_due", "due_day", "overdue:1", "overdue:2"}
    assert [s.name for s in plan(st, at("2026-12-02 09:00"), sent, CAL, POLICY).send] == [
        "overdue:3",
        "prefecture",
    ]


def test_a_snooze_ends_and_the_timeline_continues() -> None:
    st = state("2026-11-19 14:00", snoozed="2026-11-19 15:30")
    assert simulate(st, "2026-11-19 15:30", "2026-11-27 18:00") == [
        # the request had already gone out at 15:00 in real life; here it waits for the morning
        ("2026-11-20 09:00", "request"),
        ("2026-11-25 09:00", "before_due"),
        ("2026-11-27 09:00", "due_day"),
    ]
