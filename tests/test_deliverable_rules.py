"""Each deliverable due rule (reminders/deliverables.py) against dates worked out by hand on the
2026–27 calendar: the New Year closure (12/29–1/3), Golden Week 2026 (4/29, 5/3–5/6 with the
振替休日), 成人の日 2027-01-11, month ends."""

from __future__ import annotations

import datetime as dt

import pytest

from reminders.calendar import BusinessCalendar
from reminders.deliverable_pass import step_for
from reminders.deliverables import DueItem, EventDay, due_items
from store.profile_structure import Deliverable
from store.profiles import ReminderPolicy

D = dt.date
CAL = BusinessCalendar()
TERM = (D(2026, 4, 1), D(2027, 3, 31))


def spec(id_: str, due: dict[str, object], name: str = "成果物") -> Deliverable:
    return Deliverable.model_validate({"id": id_, "name": name, "due": due})


def items(specs: list[Deliverable], **kw: object) -> list[DueItem]:
    return due_items(specs, *TERM, CAL, **kw)  # type: ignore[arg-type]


def test_fixed_date_is_due_on_its_date() -> None:
    (item,) = items([spec("completion", {"kind": "fixed_date", "date": "2027-03-19"})])
    assert (item.spec_id, item.period, item.due_on) == ("completion", "", D(2027, 3, 19))


@pytest.mark.parametrize(
    ("held", "due"),
    [
        # Fri 12/25: Mon 12/28 is the 1st 開庁日, 12/29–1/3 closed, 1/4 the 2nd, 1/5 the 3rd.
        (D(2026, 12, 25), D(2027, 1, 5)),
        # Thu 4/30: Fri 5/1 the 1st, 5/2–5/6 closed (5/6 振替休日), 5/7 the 2nd, 5/8 the 3rd.
        (D(2026, 4, 30), D(2026, 5, 8)),
        # A meeting on a Saturday buys no extra day: Mon, Tue, Wed.
        (D(2026, 6, 13), D(2026, 6, 17)),
    ],
)
def test_minutes_three_open_days_after_each_meeting(held: dt.date, due: dt.date) -> None:
    minutes = spec("minutes", {"kind": "after_event", "event": "meeting", "open_days": 3}, "議事録")
    events = [EventDay(12, "meeting", held), EventDay(13, "training", held)]
    (item,) = items([minutes], events=events)
    assert (item.period, item.event_id, item.due_on) == ("E12", 12, due)
    assert item.title == f"議事録（{held.month}/{held.day}）"


@pytest.mark.parametrize(
    ("held", "due"),
    [
        (D(2026, 5, 7), D(2026, 5, 1)),  # Thu after Golden Week: the Friday before it
        (D(2027, 1, 4), D(2026, 12, 28)),  # first 開庁日 of the year: Mon 12/28
        (D(2026, 6, 10), D(2026, 6, 9)),  # an ordinary Wednesday: Tuesday
    ],
)
def test_materials_the_open_day_before_each_meeting(held: dt.date, due: dt.date) -> None:
    materials = spec("materials", {"kind": "before_event", "event": "meeting", "open_days": 1})
    (item,) = items([materials], events=[EventDay(3, "meeting", held)])
    assert (item.period, item.due_on) == ("E3", due)


def test_after_last_session_waits_for_the_track_and_follows_the_last_one() -> None:
    report = spec("survey_report", {"kind": "after_last_session", "track": "hearing", "months": 1})
    assert items([report]) == []
    assert items([report], last_sessions={"haken": D(2026, 8, 3)}) == []
    (item,) = items([report], last_sessions={"hearing": D(2026, 8, 31)})
    assert item.due_on == D(2026, 9, 30)  # 8/31 + 1 month, clamped to September's end
    (item,) = items([report], last_sessions={"hearing": D(2027, 1, 31)})
    assert item.due_on == D(2027, 2, 28)


def test_after_term_start_counts_open_days_from_the_start() -> None:
    plan = spec("plan", {"kind": "after_term_start", "open_days": 5})
    db = spec("database", {"kind": "after_term_start", "open_days": 10})
    # Wed 4/1: 4/2, 4/3, 4/6, 4/7, 4/8 … 4/9, 4/10, 4/13, 4/14, 4/15.
    assert [i.due_on for i in items([plan, db])] == [D(2026, 4, 8), D(2026, 4, 15)]


def test_monthly_one_per_month_the_final_month_too() -> None:
    monthly = spec("monthly", {"kind": "monthly", "day": 10}, "月次報告")
    made = items([monthly])
    assert len(made) == 12
    assert (made[0].period, made[0].due_on, made[0].title) == (
        "2026-04",
        D(2026, 5, 10),
        "月次報告（4月分）",
    )
    assert (made[-1].period, made[-1].due_on) == ("2027-03", D(2027, 4, 10))
    # as_of: only the months that have begun.
    assert [i.period for i in items([monthly], as_of=D(2026, 6, 15))] == [
        "2026-04",
        "2026-05",
        "2026-06",
    ]


@pytest.mark.parametrize(
    ("rule", "due"),
    [
        ("as_is", D(2027, 1, 10)),  # a Sunday, kept
        ("next_open_day", D(2027, 1, 12)),  # Mon 1/11 is 成人の日
        ("previous_open_day", D(2027, 1, 8)),
    ],
)
def test_monthly_closed_day_rule(rule: str, due: dt.date) -> None:
    monthly = spec("monthly", {"kind": "monthly", "day": 10, "closed_day_rule": rule})
    december = [i for i in items([monthly]) if i.period == "2026-12"]
    assert [i.due_on for i in december] == [due]


POLICY = ReminderPolicy(before_due_open_days=2)


@pytest.mark.parametrize(
    ("today", "step"),
    [
        (D(2026, 12, 25), None),  # three 開庁日 ahead of Tue 1/5 (12/28, 1/4 lie between)
        (D(2026, 12, 28), "before"),  # two 開庁日 before: Mon 12/28, then 12/29–1/3 closed
        (D(2027, 1, 4), "before"),
        (D(2027, 1, 5), "due"),
        (D(2027, 1, 6), "overdue"),
    ],
)
def test_reminder_step_of_a_due_day_after_new_year(today: dt.date, step: str | None) -> None:
    assert step_for(D(2027, 1, 5), today, CAL, POLICY) == step


def test_the_due_step_of_a_closed_due_day_goes_out_on_the_last_open_day_before() -> None:
    # Due Sun 2027-01-10 (as_is): Fri 1/8 carries the 'due' step.
    assert step_for(D(2027, 1, 10), D(2027, 1, 8), CAL, POLICY) == "due"
    assert step_for(D(2027, 1, 10), D(2027, 1, 7), CAL, POLICY) == "before"
