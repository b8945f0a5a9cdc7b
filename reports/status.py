"""Read models for `/status` and `dxbot status`: what each role sees of the program.

Pure over ``store.reporting`` queries and the 開庁日 calendar; no chat code. The rendering to a
short chat text is ``reports.render_status``.

- Staff, prefecture and admin: the program (per track done / target / minimum, hours and the pace
  needed per remaining 開庁日; cases by status; reports overdue and due in the next 3 開庁日 with
  their holders; sessions this week; municipalities at or near a cap; sessions per expert with
  the spread; survey averages).
- An officer: their municipality. An expert: their assignments and pending reports.
- Anyone: one case they may see, with its history.

Pace: the goal of a track is its target (〜程度), else its minimum (以上). The pace needed is
what remains of the goal divided by the 開庁日 left until the term end (today included); a track
is *behind* when it has held fewer sessions than a straight line from the term start to the
goal would have reached by yesterday, rounded down (so a fraction of a session is not "behind").
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import statistics
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from reminders.calendar import BusinessCalendar
from reminders.clock import JST
from reports import queue as queue_view
from reports import stages as stage_view
from reports import structure_view
from store import engagements as engagement_store
from store import reporting
from store import stages as stage_store
from store.db import Session
from store.profiles import ProgramProfile, Track
from store.reporting import (
    CaseDetail,
    CaseRow,
    CountingWindow,
    ExpertFigures,
    Figures,
    MunicipalityFigures,
    OnsiteRuleFigures,
    SessionRow,
    SurveySummary,
    TrackFigures,
    counting_window,
    onsite_rules,
)
from store.scope import EVERYTHING, Scope

DUE_SOON_OPEN_DAYS = 3
LIST_LIMIT = 5
JSON_LIST_LIMIT = 500  # the JSON lists every report due (a chat message shows five)

TrackState = Literal["behind", "on_track", "achieved", "no_goal"]


# --- the term and the pace ------------------------------------------------------------------------


@dataclass(frozen=True)
class TermClock:
    """Open days of the term: in all, already gone (before today), and left (from today)."""

    total: int
    elapsed: int
    remaining: int

    @property
    def fraction_elapsed(self) -> float:
        return self.elapsed / self.total if self.total else 1.0


@lru_cache(maxsize=64)
def open_days(cal: BusinessCalendar, start: dt.date, end: dt.date) -> tuple[dt.date, ...]:
    """The 開庁日 of a range, remembered: a term's list is asked for on every `/status`, and
    walking a year day by day through the holiday tables costs more than all the SQL."""
    return tuple(cal.open_days_between(start, end))


def term_clock(cal: BusinessCalendar, start: dt.date, end: dt.date, today: dt.date) -> TermClock:
    days = open_days(cal, start, end)
    elapsed = bisect.bisect_left(days, today)
    return TermClock(len(days), elapsed, len(days) - elapsed)


@dataclass(frozen=True)
class TrackProgress:
    """One track's figures (``store.reporting.counting``) against its goal."""

    track_id: str
    name: str
    kind: str
    target: int | None
    minimum: int | None
    held: int
    scheduled: int
    cancelled: int
    hours_held: float
    onsite_held: int
    minimum_onsite: int | None
    goal: int | None
    remaining: int
    pace_needed: float | None
    pace_current: float | None
    expected_by_now: float | None
    state: TrackState
    minimum_behind: bool

    @property
    def shortfall(self) -> float:
        """How far behind the straight line, as a share of the goal (for worst-first order)."""
        if not self.goal or self.expected_by_now is None:
            return 0.0
        return (self.expected_by_now - self.held) / self.goal

    @property
    def minimum_unmet(self) -> bool:
        return self.minimum is not None and self.held < self.minimum


STATE_ORDER: dict[TrackState, int] = {"behind": 0, "on_track": 1, "no_goal": 2, "achieved": 3}


def track_progress(track: Track, count: TrackFigures, clock: TermClock) -> TrackProgress:
    """Held sessions against the goal; scheduled ones are shown beside, never counted."""
    goal = track.target if track.target is not None else track.minimum
    held = count.held
    remaining = max((goal or 0) - held, 0)
    pace_needed = remaining / clock.remaining if goal is not None and clock.remaining else None
    pace_current = held / clock.elapsed if clock.elapsed else None
    expected = goal * clock.fraction_elapsed if goal is not None else None
    state: TrackState
    if goal is None:
        state = "no_goal"
    elif held >= goal:
        state = "achieved"
    elif held < math.floor(expected or 0) or (clock.remaining == 0 and held < goal):
        state = "behind"
    else:
        state = "on_track"
    minimum_behind = (
        track.minimum is not None
        and held < track.minimum
        and held < math.floor(track.minimum * clock.fraction_elapsed)
    )
    return TrackProgress(
        track_id=track.id,
        name=track.name,
        kind=track.kind,
        target=track.target,
        minimum=track.minimum,
        held=held,
        scheduled=count.scheduled,
        cancelled=count.cancelled,
        hours_held=count.hours_held,
        onsite_held=count.onsite_held,
        minimum_onsite=track.minimum_onsite,
        goal=goal,
        remaining=remaining,
        pace_needed=pace_needed,
        pace_current=pace_current,
        expected_by_now=expected,
        state=state,
        minimum_behind=minimum_behind,
    )


def progress_of_tracks(
    profile: ProgramProfile, figures: Figures, clock: TermClock
) -> list[TrackProgress]:
    """Every track of the profile, worst first. On-site minimums (a track's own, or a program
    rule across tracks) are judged by ``counting.onsite_rules`` and shown as flags."""
    out = [track_progress(t, figures.track(t.id), clock) for t in profile.tracks]
    order = {t.id: i for i, t in enumerate(profile.tracks)}
    return sorted(out, key=lambda p: (STATE_ORDER[p.state], -p.shortfall, order[p.track_id]))


# --- caps and fairness ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CapWatch:
    """Municipalities at or one short of a track's per-municipality cap (most used first).

    A cap counts held and scheduled sessions (a booking uses it up): the pairs are
    (name, held + scheduled)."""

    track_id: str
    track_name: str
    cap: int
    at_cap: list[tuple[str, int]]
    near_cap: list[tuple[str, int]]
    municipalities: int


def cap_watch(profile: ProgramProfile, rows: list[MunicipalityFigures]) -> list[CapWatch]:
    out = []
    for track in profile.tracks:
        if track.per_municipality_cap is None:
            continue
        cap = track.per_municipality_cap
        mine = [r for r in rows if r.track_id == track.id and r.booked]
        at = [(r.name, r.booked) for r in mine if r.booked >= cap]
        # "Near" is one session left; with a cap of 1 every municipality is one away, so no.
        near = [(r.name, r.booked) for r in mine if cap > 1 and r.booked == cap - 1]
        out.append(CapWatch(track.id, track.name, cap, at, near, len(mine)))
    return out


@dataclass(frozen=True)
class ExpertSpread:
    """Sessions assigned per expert (held + scheduled: the workload fairness compares)."""

    experts: list[ExpertFigures]
    minimum: int
    maximum: int
    mean: float
    stdev: float

    @property
    def busiest(self) -> ExpertFigures | None:
        return max(self.experts, key=lambda e: (e.assigned, -e.user_id), default=None)

    @property
    def idlest(self) -> ExpertFigures | None:
        return min(self.experts, key=lambda e: (e.assigned, e.user_id), default=None)

    @property
    def held(self) -> int:
        return sum(e.held for e in self.experts)

    @property
    def scheduled(self) -> int:
        return sum(e.scheduled for e in self.experts)

    @property
    def hours_held(self) -> float:
        return sum(e.hours_held for e in self.experts)


def expert_spread(experts: list[ExpertFigures]) -> ExpertSpread:
    """Population standard deviation: the roster is the whole population, not a sample."""
    counts = [e.assigned for e in experts]
    if not counts:
        return ExpertSpread([], 0, 0, 0.0, 0.0)
    return ExpertSpread(
        sorted(experts, key=lambda e: (-e.assigned, e.user_id)),
        min(counts),
        max(counts),
        statistics.fmean(counts),
        statistics.pstdev(counts),
    )


# --- shortfalls -----------------------------------------------------------------------------------

FlagKind = Literal[
    "reports_overdue", "behind_target", "minimum_not_met", "onsite_minimum_not_met", "cap_reached"
]


@dataclass(frozen=True)
class Flag:
    """A shortfall to act on; ``render_status.flag_text`` puts it in words."""

    kind: FlagKind
    tracks: tuple[str, ...] = ()
    held: int = 0
    needed: int = 0
    municipality: str = ""


def program_flags(
    profile: ProgramProfile,
    tracks: list[TrackProgress],
    onsite: list[OnsiteRuleFigures],
    overdue: int,
) -> list[Flag]:
    """Overdue reports; tracks behind their goal's pace; minimums not yet met; on-site
    minimums not yet met (Yamagata's covers both accompaniment themes)."""
    out = [Flag("reports_overdue", held=overdue)] if overdue else []
    order = {t.id: i for i, t in enumerate(profile.tracks)}
    for tp in sorted(tracks, key=lambda p: order[p.track_id]):
        if tp.state == "behind" and tp.goal is not None:
            out.append(Flag("behind_target", (tp.track_id,), tp.held, tp.goal))
    for tp in sorted(tracks, key=lambda p: order[p.track_id]):
        if tp.minimum_unmet and tp.minimum is not None:
            out.append(Flag("minimum_not_met", (tp.track_id,), tp.held, tp.minimum))
    for rule in onsite:
        if not rule.met:
            out.append(Flag("onsite_minimum_not_met", rule.tracks, rule.onsite_held, rule.minimum))
    return out


# --- the views ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start 00:00 JST, the day after end 00:00 JST) as aware datetimes."""
        return (
            dt.datetime.combine(self.start, dt.time(0), tzinfo=JST),
            dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(0), tzinfo=JST),
        )


def week_of(day: dt.date) -> Period:
    monday = day - dt.timedelta(days=day.weekday())
    return Period(monday, monday + dt.timedelta(days=6))


@dataclass(frozen=True)
class ProgramStatus:
    program_id: str
    program_name: str
    as_of: dt.datetime
    term: Period
    window: CountingWindow
    clock: TermClock
    figures: Figures
    tracks: list[TrackProgress]
    onsite: list[OnsiteRuleFigures]
    flags: list[Flag]
    cases_by_status: dict[str, int]
    pending: reporting.PendingReports
    week: Period
    week_sessions: int
    week_rows: list[SessionRow]
    caps: list[CapWatch]
    municipalities_covered: int  # with at least one held session
    experts: ExpertSpread
    survey: SurveySummary
    # The municipality × stage matrix (reports/stages.py); None without a stage model.
    stages: stage_view.StageMatrix | None = None
    # Engaged vs expected municipalities per engagement track, and those not yet served
    # (store/engagements.py, reports/engagement_view.py); empty without engagement tracks.
    engagements: list[engagement_store.TrackEngagements] = field(default_factory=list)
    # Deliverables overdue and due soon, events held vs expected (reports/structure_view.py);
    # None when the profile declares neither.
    structure: structure_view.StructureView | None = None
    # What waits for whom, oldest first (reports/queue.py): the view leads with it.
    queue: queue_view.QueueView | None = None


@dataclass(frozen=True)
class CapUse:
    track_id: str
    track_name: str
    held: int
    scheduled: int
    cap: int

    @property
    def booked(self) -> int:
        return self.held + self.scheduled


@dataclass(frozen=True)
class OfficerStatus:
    program_name: str
    as_of: dt.datetime
    municipality_code: str
    municipality_name: str
    figures: Figures
    cases_by_status: dict[str, int]
    open_cases: list[CaseRow]
    upcoming: list[SessionRow]
    caps: list[CapUse]
    pending: reporting.PendingReports
    flags: list[Flag]
    survey: SurveySummary
    # The waits of the municipality's cases, shown under each open case (reports/queue.py).
    queue: queue_view.QueueView | None = None


@dataclass(frozen=True)
class ExpertStatus:
    program_name: str
    as_of: dt.datetime
    name: str
    figures: Figures
    pending: reporting.PendingReports
    upcoming: list[SessionRow]
    held: int
    hours_held: float
    scheduled: int
    flags: list[Flag]
    # The waits of the expert's cases, theirs (reports to write) first (reports/queue.py).
    queue: queue_view.QueueView | None = None


@dataclass(frozen=True)
class CaseView:
    detail: CaseDetail
    track_name: str
    show_personal: bool
    today: dt.date
    calendar: BusinessCalendar = field(repr=False)


StatusView = ProgramStatus | OfficerStatus | ExpertStatus


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(JST).date()


async def program_status(
    s: Session,
    profile: ProgramProfile,
    cal: BusinessCalendar,
    now: dt.datetime,
    *,
    list_limit: int = LIST_LIMIT,
    lead: queue_view.Lead = "staff",
) -> ProgramStatus:
    """The whole program, for the desk and the prefecture: ten statements whatever the number
    of sessions (the figures come from the trigger-kept tallies; lists are limited)."""
    today = _today(now)
    term = Period(profile.term_start, profile.term_end)
    window = counting_window(profile)
    clock = term_clock(cal, term.start, term.end, today)
    week = week_of(today)
    figures = await reporting.count_figures(
        s, profile.id, window, now, starting=(week.start, week.end)
    )
    pending = await reporting.pending_reports(
        s,
        profile.id,
        now,
        today,
        cal.add_open_days(today, DUE_SOON_OPEN_DAYS),
        limit=list_limit,
        people=False,
    )
    week_rows = await reporting.first_sessions(s, profile.id, week.start, week.end, list_limit)
    await reporting.attach_people(s, pending.rows + week_rows)
    tracks = progress_of_tracks(profile, figures, clock)
    onsite = onsite_rules(profile, figures)
    return ProgramStatus(
        program_id=profile.id,
        program_name=profile.name,
        as_of=now,
        term=term,
        window=window,
        clock=clock,
        figures=figures,
        tracks=tracks,
        onsite=onsite,
        flags=program_flags(profile, tracks, onsite, pending.overdue),
        cases_by_status=figures.cases_by_status,
        pending=pending,
        week=week,
        week_sessions=figures.sessions_starting,
        week_rows=week_rows,
        caps=cap_watch(profile, figures.municipalities),
        municipalities_covered=len({m.code for m in figures.municipalities if m.held}),
        experts=expert_spread(figures.experts),
        survey=await reporting.survey_summary(s, profile.id),
        stages=stage_view.build(profile, await stage_store.matrix(s, profile.id))
        if profile.stage_model is not None
        else None,
        engagements=await engagement_store.track_engagements(s, profile),
        structure=await structure_view.build(s, profile, cal, now),
        queue=await queue_view.load(s, profile, cal, now, EVERYTHING, lead),
    )


async def officer_status(
    s: Session,
    profile: ProgramProfile,
    cal: BusinessCalendar,
    now: dt.datetime,
    municipality_code: str,
    municipality_name: str,
) -> OfficerStatus:
    """One municipality: its cases, its next sessions, its use of each capped track."""
    scope = Scope(municipality_code=municipality_code)
    today = _today(now)
    figures = await reporting.count_figures(s, profile.id, counting_window(profile), now, scope)
    caps = []
    for t in profile.tracks:
        if t.per_municipality_cap is None:
            continue
        m = figures.municipality(t.id, municipality_code)
        held, scheduled = (m.held, m.scheduled) if m else (0, 0)
        caps.append(CapUse(t.id, t.name, held, scheduled, t.per_municipality_cap))
    pending = await reporting.pending_reports(
        s, profile.id, now, today, cal.add_open_days(today, DUE_SOON_OPEN_DAYS), scope
    )
    flags = [Flag("reports_overdue", held=pending.overdue)] if pending.overdue else []
    flags += [
        Flag("cap_reached", (c.track_id,), c.booked, c.cap, municipality_name)
        for c in caps
        if c.booked >= c.cap
    ]
    return OfficerStatus(
        program_name=profile.name,
        as_of=now,
        municipality_code=municipality_code,
        municipality_name=municipality_name,
        figures=figures,
        cases_by_status=await reporting.case_status_counts(s, profile.id, scope),
        open_cases=await reporting.case_rows(s, profile.id, now, scope, open_only=True),
        upcoming=await reporting.sessions_between(s, profile.id, now, None, scope, limit=5),
        caps=caps,
        pending=pending,
        flags=flags,
        survey=await reporting.survey_summary(s, profile.id, scope),
        queue=await queue_view.load(s, profile, cal, now, scope, "officer"),
    )


async def expert_status(
    s: Session,
    profile: ProgramProfile,
    cal: BusinessCalendar,
    now: dt.datetime,
    user_id: int,
    name: str,
) -> ExpertStatus:
    """One expert: pending reports (all of them due or not, worst first) and next sessions."""
    scope = Scope(expert_user_id=user_id)
    today = _today(now)
    far = profile.term_end + dt.timedelta(days=366)  # every pending report, not only due soon
    pending = await reporting.pending_reports(s, profile.id, now, today, far, scope, limit=10)
    figures = await reporting.count_figures(s, profile.id, counting_window(profile), now, scope)
    tracks = figures.tracks.values()
    return ExpertStatus(
        program_name=profile.name,
        as_of=now,
        name=name,
        figures=figures,
        pending=pending,
        upcoming=await reporting.sessions_between(s, profile.id, now, None, scope, limit=5),
        held=sum(c.held for c in tracks),
        hours_held=sum(c.hours_held for c in tracks),
        scheduled=sum(c.scheduled for c in tracks),
        flags=[Flag("reports_overdue", held=pending.overdue)] if pending.overdue else [],
        queue=await queue_view.load(s, profile, cal, now, scope, "expert"),
    )


async def case_view(
    s: Session,
    profile: ProgramProfile,
    cal: BusinessCalendar,
    now: dt.datetime,
    case_id: int,
    *,
    show_personal: bool,
) -> CaseView | None:
    detail = await reporting.case_detail(s, profile.id, case_id, now, counting_window(profile))
    if detail is None:
        return None
    try:
        track_name = profile.track(detail.case.track_id).name
    except KeyError:
        track_name = detail.case.track_id
    return CaseView(detail, track_name, show_personal, _today(now), cal)


def overdue_open_days(cal: BusinessCalendar, due: dt.date, today: dt.date) -> int:
    """開庁日 past the due day (0 on the due day itself)."""
    if today <= due:
        return 0
    return len(open_days(cal, due + dt.timedelta(days=1), today))


async def view_for(
    s: Session,
    profile: ProgramProfile,
    cal: BusinessCalendar,
    now: dt.datetime,
    scope: Scope,
    *,
    user_id: int,
    name: str,
    list_limit: int = LIST_LIMIT,
    lead: queue_view.Lead = "staff",
) -> StatusView:
    """The view a role gets from `/status`: the program, a municipality, or an expert's own.
    ``lead``: whose waits lead the program's queue (the prefecture's for the prefecture)."""
    if scope.everything:
        return await program_status(s, profile, cal, now, list_limit=list_limit, lead=lead)
    if scope.municipality_code is not None:
        code = scope.municipality_code
        muni_name = await reporting.municipality_name(s, code)
        return await officer_status(s, profile, cal, now, code, muni_name or code)
    return await expert_status(s, profile, cal, now, user_id, name)
