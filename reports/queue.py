"""The desk's queue as each role reads it: every wait (``store.reporting.queue``) with its age in
開庁日, oldest first, flagged once older than the profile's ``queue`` setting, and the view models
of `/status` (the 10 oldest, then a count of the rest), `/dx queue` (all), the JSON and the staff's
bundled reminder.

Age: the 開庁日 after the day the wait began, up to and including today (``open_days_until``) —
a consultation opened on a Friday before a Monday holiday is 1 開庁日 old on Tuesday. A
deliverable ages from its due day (0 until it is past due). A wait is flagged when its age is
greater than its kind's number in the profile (``queue: {match: 2}``: on the 3rd 開庁日).

Order: the role's own waits lead (the prefecture's approvals for the prefecture, an expert's
reports for the expert), then the oldest first.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.core.catalog import t
from reminders.calendar import BusinessCalendar, format_jp
from reminders.clock import JST
from store.db import Session
from store.profiles import ProgramProfile, QueuePolicy
from store.reporting import queue as queue_store
from store.reporting.queue import Wait
from store.scope import Scope

STATUS_LIMIT = 10  # /status, the JSON's ``shown`` and the App Home list the 10 oldest
DELIVERABLES_AHEAD_OPEN_DAYS = 3  # deliverables due within this many 開庁日 are listed
COMMAND = "/dx queue"

Lead = Literal["staff", "prefecture", "officer", "expert"]


@dataclass(frozen=True)
class QueueItem:
    wait: Wait
    age: int  # 開庁日 waited (a deliverable: past its due day)
    limit: int  # the profile's number for this kind

    @property
    def flagged(self) -> bool:
        return self.age > self.limit


@dataclass(frozen=True)
class QueueView:
    as_of: dt.datetime
    lead: Lead
    items: tuple[QueueItem, ...]  # in the role's order

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def flagged(self) -> tuple[QueueItem, ...]:
        return tuple(i for i in self.items if i.flagged)

    @property
    def mine(self) -> int:
        """Waits the reader's role holds (the prefecture's approvals, an expert's reports)."""
        return sum(1 for i in self.items if i.wait.holder == self.lead)

    def head(self, limit: int = STATUS_LIMIT) -> tuple[QueueItem, ...]:
        return self.items[:limit]

    def rest(self, limit: int = STATUS_LIMIT) -> int:
        return max(self.total - limit, 0)

    def of_case(self, case_id: int) -> list[QueueItem]:
        return [i for i in self.items if i.wait.case_id == case_id]


class OpenDays:
    """The 開庁日 of one date range, read once: every age and deadline of a queue is then two
    binary searches, not a walk through the holiday tables per wait."""

    def __init__(self, cal: BusinessCalendar, first: dt.date, last: dt.date) -> None:
        self.days = cal.open_days_between(first, last)

    def after_until(self, start: dt.date, end: dt.date) -> int:
        """開庁日 in (start, end]; 0 when end is not after start."""
        if end <= start:
            return 0
        return bisect.bisect_right(self.days, end) - bisect.bisect_right(self.days, start)


def limit_of(policy: QueuePolicy, wait: Wait, days: OpenDays) -> int:
    """The profile's number for the wait's kind; a report with none set is flagged once past its
    due day (the 開庁日 from the session's day to its due day: the track's deadline)."""
    value = getattr(policy, wait.kind)
    if value is None:
        assert wait.due is not None
        return days.after_until(wait.since.astimezone(JST).date(), wait.due)
    assert isinstance(value, int)
    return value


def build(
    waits: list[Wait],
    policy: QueuePolicy,
    cal: BusinessCalendar,
    now: dt.datetime,
    lead: Lead = "staff",
) -> QueueView:
    """Age and flag every wait; order the role's own first, then the oldest first."""
    today = now.astimezone(JST).date()
    starts = [w.since.astimezone(JST).date() for w in waits]
    dues = [w.due for w in waits if w.due is not None]
    days = OpenDays(cal, min([today, *starts]), max([today, *dues]))
    items = [
        # Age: 開庁日 after the day the wait began, up to today (0 for a deliverable not yet due).
        QueueItem(w, days.after_until(start, today), limit_of(policy, w, days))
        for w, start in zip(waits, starts, strict=True)
    ]
    items.sort(
        key=lambda i: (
            lead in ("prefecture", "expert") and i.wait.holder != lead,
            i.wait.since,
            i.wait.ref,
            i.wait.session_id or 0,
        )
    )
    return QueueView(now, lead, tuple(items))


async def load(
    s: Session,
    profile: ProgramProfile,
    cal: BusinessCalendar,
    now: dt.datetime,
    scope: Scope,
    lead: Lead = "staff",
) -> QueueView:
    """The queue a scope may see, built (a handful of statements, whatever its length)."""
    today = now.astimezone(JST).date()
    waits = await queue_store.waits(
        s,
        profile.id,
        now,
        scope,
        deliverables_until=cal.add_open_days(today, DELIVERABLES_AHEAD_OPEN_DAYS),
    )
    return build(waits, profile.queue, cal, now, lead)


# --- words ----------------------------------------------------------------------------------------


def kind_label(w: Wait) -> str:
    return t(f"q_kind_{w.kind}", title=w.title)


def holder_label(w: Wait) -> str:
    holder = t(f"q_holder_{w.holder}")
    if w.holder == "expert" and w.people:
        return "、".join(w.people)
    if w.people:
        return t("q_holder_with_people", holder=holder, people="、".join(w.people))
    return holder


def age_label(item: QueueItem) -> str:
    w = item.wait
    if w.kind == "deliverable":
        return t("q_late", days=item.age) if item.age else ""
    return t("q_age", days=item.age) if item.age else t("q_age_today")


def line(item: QueueItem) -> str:
    """``・【要対応】SAI-2026-0001 さいたま市 マッチング待ち（事務局） 3開庁日経過``."""
    w = item.wait
    due = t("q_due", due=format_jp(w.due)) if w.due is not None else ""
    when = " ".join(part for part in (age_label(item), due) if part)
    return t(
        "q_line",
        flag=t("q_flag") if item.flagged else "",
        ref=w.ref,
        municipality=f"{w.municipality_name} " if w.municipality_name else "",
        kind=kind_label(w),
        holder=holder_label(w),
        age=when,
    ).rstrip()


def section_lines(view: QueueView, limit: int = STATUS_LIMIT) -> list[str]:
    """The block `/status` leads with: a header, the ``limit`` first, the count of the rest."""
    flagged = len(view.flagged)
    if view.lead == "prefecture":
        header = t("q_section_prefecture", total=view.total, mine=view.mine, flagged=flagged)
    elif view.lead == "expert":
        header = t("q_section_expert", total=view.total, flagged=flagged)
    else:
        header = t("q_section", total=view.total, flagged=flagged)
    lines = [header]
    if not view.items:
        return [*lines, t("q_none")]
    lines += [line(i) for i in view.head(limit)]
    if view.rest(limit):
        lines.append(t("q_rest", n=view.rest(limit)))
    return lines


def all_lines(view: QueueView) -> list[str]:
    """`/dx queue` and `dxbot queue`: every wait."""
    lines = [
        t(
            "q_all_header",
            date=format_jp(view.as_of.astimezone(JST).date()),
            total=view.total,
            flagged=len(view.flagged),
        )
    ]
    if not view.items:
        lines.append(t("q_none"))
    lines += [line(i) for i in view.items]
    lines.append(t("q_all_footer"))
    return lines


def officer_case_lines(view: QueueView | None, case_id: int) -> list[str]:
    """Under an officer's open case: what it waits for, who holds it, since how long."""
    if view is None:
        return []
    out = []
    for item in view.of_case(case_id):
        w = item.wait
        if w.kind == "survey":
            out.append(t("q_officer_survey_note", ref=w.ref))
            continue
        out.append(
            t("q_officer_waits", kind=kind_label(w), holder=holder_label(w), age=age_label(item))
        )
    return out


def ping_lines(items: list[QueueItem]) -> list[str]:
    """The flagged waits in the staff's bundled reminder."""
    return [line(i) for i in items]


# --- JSON -----------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class QueueItemJson(_Model):
    kind: str  # match | approval | schedule | report | review | survey | deliverable
    case_id: str  # the readable case id (SAI-2026-0001); a deliverable's D12
    session_id: int | None
    municipality_code: str
    municipality_name: str
    holder: str  # staff | prefecture | expert | officer
    people: list[str]
    since: dt.datetime
    age_open_days: int
    flag_after_open_days: int
    flagged: bool
    due: dt.date | None


class QueueJson(_Model):
    total: int
    flagged: int
    shown: int  # how many `/status` shows (the oldest); the JSON lists every wait
    command: str
    items: list[QueueItemJson]


class QueueListJson(QueueJson):
    """`dxbot queue --json`: the queue of one program at one time."""

    program: str
    as_of: dt.datetime


def to_json(view: QueueView) -> QueueJson:
    return QueueJson(
        total=view.total,
        flagged=len(view.flagged),
        shown=min(view.total, STATUS_LIMIT),
        command=COMMAND,
        items=[
            QueueItemJson(
                kind=i.wait.kind,
                case_id=i.wait.ref,
                session_id=i.wait.session_id,
                municipality_code=i.wait.municipality_code,
                municipality_name=i.wait.municipality_name,
                holder=i.wait.holder,
                people=list(i.wait.people),
                since=i.wait.since.astimezone(JST),
                age_open_days=i.age,
                flag_after_open_days=i.limit,
                flagged=i.flagged,
                due=i.wait.due,
            )
            for i in view.items
        ],
    )
