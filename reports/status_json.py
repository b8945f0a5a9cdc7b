"""`dxbot status --json`: the status view as documented JSON (README "Status as JSON").

The boundary is these pydantic models: the JSON is their dump, so its shape is typed and
written down in one place. The figures are the view's own (``reports.status`` over
``store.reporting.counting``), so the JSON, `/status`, the decks and the exports agree. Role
scoping is the view's: staff, prefecture and admin get the program; an officer their
municipality (tracks count the sessions it took part in, with no program goals); an expert
their own assignments.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

from reminders.calendar import BusinessCalendar
from reminders.clock import JST
from reports import engagement_view
from reports import queue as queue_view
from reports import stages as stage_view
from reports.render_status import flag_text
from reports.status import (
    DUE_SOON_OPEN_DAYS,
    CaseView,
    Flag,
    OfficerStatus,
    ProgramStatus,
    StatusView,
    TrackState,
    overdue_open_days,
)
from reports.structure_view import (
    DeliverableJson,
    EventKindJson,
    deliverables_json,
    events_json,
)
from store.profiles import ProgramProfile
from store.reporting import (
    CountState,
    Figures,
    OnsiteRuleFigures,
    PendingReports,
    count_state,
    counting_window,
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class ProgramJson(_Model):
    id: str
    name: str
    term_start: dt.date
    term_end: dt.date
    last_service_day: dt.date  # sessions count from term_start to this day


class ScopeJson(_Model):
    kind: Literal["program", "municipality", "expert"]
    municipality_code: str | None = None
    municipality_name: str | None = None
    expert: str | None = None


class TrackJson(_Model):
    id: str
    name: str
    kind: str
    target: int | None
    minimum: int | None
    held: int
    scheduled: int
    cancelled: int
    hours_held: float
    onsite_held: int
    onsite_minimum: int | None
    state: TrackState


class MunicipalityTrackJson(_Model):
    held: int
    scheduled: int
    cap: int | None


class MunicipalityJson(_Model):
    code: str
    name: str
    tracks: dict[str, MunicipalityTrackJson]


class OnsiteRuleJson(_Model):
    tracks: list[str]
    minimum: int
    onsite_held: int
    met: bool
    program_rule: bool  # a rule across tracks (Yamagata §3(1)⑤), not one track's own


class ReportJson(_Model):
    session_id: int
    case_id: str
    municipalities: list[str]
    holders: list[str]
    due: dt.date
    overdue: bool
    open_days_late: int


class ReportsJson(_Model):
    overdue: int
    due_soon: int  # due within due_soon_open_days 開庁日 (an expert: every other pending one)
    due_soon_open_days: int
    items: list[ReportJson]


class FlagJson(_Model):
    kind: str
    text: str
    tracks: list[str]


class StatusJson(_Model):
    program: ProgramJson
    scope: ScopeJson
    as_of: dt.datetime
    tracks: list[TrackJson]
    municipalities: list[MunicipalityJson]
    onsite_rules: list[OnsiteRuleJson]
    reports: ReportsJson
    flags: list[FlagJson]
    # The stage model and the municipality × stage matrix (reports/stages.py); program view
    # of a program with a stage model only.
    stages: stage_view.StagesJson | None = None
    # Engaged vs expected municipalities per engagement track (reports/engagement_view.py);
    # program view only, empty for an officer or an expert.
    engagements: list[engagement_view.EngagementTrackJson] = []
    # Every deliverable item (D12: spec, title, due, done, overdue_open_days) and the events held
    # per kind against the profile's expected number (reports/structure_view.py); program view.
    deliverables: list[DeliverableJson] = []
    events: list[EventKindJson] = []
    # What waits for whom, in the view's order (the role's own first, then oldest first), every
    # wait with its age in 開庁日 and whether it is flagged (reports/queue.py; README).
    queue: queue_view.QueueJson | None = None


class CaseSessionJson(_Model):
    session_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    hours: float
    method: str
    municipalities: list[str]
    experts: list[str]
    count_state: CountState
    report_due: dt.date
    report_submitted_at: dt.datetime | None


class CaseJson(_Model):
    program: ProgramJson
    as_of: dt.datetime
    case_id: str
    municipality_code: str
    municipality_name: str
    status: str
    track_id: str
    track_name: str
    domains: list[str]
    held: int
    scheduled: int
    hours_held: float
    sessions: list[CaseSessionJson]


# --- building ---------------------------------------------------------------------------------------


def _program(profile: ProgramProfile) -> ProgramJson:
    return ProgramJson(
        id=profile.id,
        name=profile.name,
        term_start=profile.term_start,
        term_end=profile.term_end,
        last_service_day=profile.service_end,
    )


def _jst(value: dt.datetime) -> dt.datetime:
    return value.astimezone(JST)


def _municipalities(profile: ProgramProfile, figures: Figures) -> list[MunicipalityJson]:
    caps = {t.id: t.per_municipality_cap for t in profile.tracks}
    by_code: dict[str, tuple[str, dict[str, MunicipalityTrackJson]]] = {}
    for m in figures.municipalities:
        _name, tracks = by_code.setdefault(m.code, (m.name, {}))
        tracks[m.track_id] = MunicipalityTrackJson(
            held=m.held, scheduled=m.scheduled, cap=caps.get(m.track_id)
        )
    return [
        MunicipalityJson(code=code, name=name, tracks=tracks)
        for code, (name, tracks) in sorted(by_code.items())
    ]


def _onsite(rules: list[OnsiteRuleFigures]) -> list[OnsiteRuleJson]:
    return [
        OnsiteRuleJson(
            tracks=list(r.tracks),
            minimum=r.minimum,
            onsite_held=r.onsite_held,
            met=r.met,
            program_rule=r.program_rule,
        )
        for r in rules
    ]


def _reports(pending: PendingReports, cal: BusinessCalendar, today: dt.date) -> ReportsJson:
    return ReportsJson(
        overdue=pending.overdue,
        due_soon=pending.due_soon,
        due_soon_open_days=DUE_SOON_OPEN_DAYS,
        items=[
            ReportJson(
                session_id=r.id,
                case_id=r.case_no,
                municipalities=r.municipality_names,
                holders=r.expert_names,
                due=r.report_due,
                overdue=r.report_due < today,
                open_days_late=overdue_open_days(cal, r.report_due, today),
            )
            for r in pending.rows
        ],
    )


def _flags(profile: ProgramProfile, flags: list[Flag]) -> list[FlagJson]:
    names = {t.id: t.name for t in profile.tracks}
    return [FlagJson(kind=f.kind, text=flag_text(f, names), tracks=list(f.tracks)) for f in flags]


def _scoped_tracks(profile: ProgramProfile, figures: Figures) -> list[TrackJson]:
    """A municipality's or an expert's share of each track: no program goal applies to it."""
    out = []
    for t in profile.tracks:
        c = figures.track(t.id)
        out.append(
            TrackJson(
                id=t.id,
                name=t.name,
                kind=t.kind,
                target=None,
                minimum=None,
                held=c.held,
                scheduled=c.scheduled,
                cancelled=c.cancelled,
                hours_held=c.hours_held,
                onsite_held=c.onsite_held,
                onsite_minimum=None,
                state="no_goal",
            )
        )
    return out


def status_json(view: StatusView, profile: ProgramProfile, cal: BusinessCalendar) -> StatusJson:
    """The JSON of the view a role gets from `/status`."""
    today = _jst(view.as_of).date()
    if isinstance(view, ProgramStatus):
        order = {t.id: i for i, t in enumerate(profile.tracks)}
        tracks = [
            TrackJson(
                id=tp.track_id,
                name=tp.name,
                kind=tp.kind,
                target=tp.target,
                minimum=tp.minimum,
                held=tp.held,
                scheduled=tp.scheduled,
                cancelled=tp.cancelled,
                hours_held=tp.hours_held,
                onsite_held=tp.onsite_held,
                onsite_minimum=tp.minimum_onsite,
                state=tp.state,
            )
            for tp in sorted(view.tracks, key=lambda p: order[p.track_id])
        ]
        return StatusJson(
            program=_program(profile),
            scope=ScopeJson(kind="program"),
            as_of=_jst(view.as_of),
            tracks=tracks,
            municipalities=_municipalities(profile, view.figures),
            onsite_rules=_onsite(view.onsite),
            reports=_reports(view.pending, cal, today),
            flags=_flags(profile, view.flags),
            stages=None if view.stages is None else stage_view.to_json(view.stages),
            engagements=engagement_view.to_json(view.engagements),
            deliverables=deliverables_json(view.structure),
            events=events_json(view.structure),
            queue=None if view.queue is None else queue_view.to_json(view.queue),
        )
    if isinstance(view, OfficerStatus):
        scope = ScopeJson(
            kind="municipality",
            municipality_code=view.municipality_code,
            municipality_name=view.municipality_name,
        )
    else:
        scope = ScopeJson(kind="expert", expert=view.name)
    return StatusJson(
        program=_program(profile),
        scope=scope,
        as_of=_jst(view.as_of),
        tracks=_scoped_tracks(profile, view.figures),
        municipalities=_municipalities(profile, view.figures),
        onsite_rules=[],  # on-site minimums are the program's, not a share's
        reports=_reports(view.pending, cal, today),
        flags=_flags(profile, view.flags),
        queue=None if view.queue is None else queue_view.to_json(view.queue),
    )


def case_json(view: CaseView, profile: ProgramProfile, now: dt.datetime) -> CaseJson:
    """One case and its sessions, each with how the views count it."""
    c = view.detail.case
    window = counting_window(profile)
    return CaseJson(
        program=_program(profile),
        as_of=_jst(now),
        case_id=c.case_no,
        municipality_code=c.municipality_code,
        municipality_name=c.municipality_name,
        status=c.status,
        track_id=c.track_id,
        track_name=view.track_name,
        domains=list(c.domains),
        held=c.held,
        scheduled=c.scheduled,
        hours_held=c.hours_held,
        sessions=[
            CaseSessionJson(
                session_id=r.id,
                starts_at=_jst(r.starts_at),
                ends_at=_jst(r.ends_at),
                hours=r.hours,
                method=r.method,
                municipalities=r.municipality_names,
                experts=r.expert_names,
                count_state=count_state(r.status, r.starts_at, r.ends_at, now, window),
                report_due=r.report_due,
                report_submitted_at=_jst(r.report_submitted_at) if r.report_submitted_at else None,
            )
            for r in view.detail.sessions
        ],
    )


def dump(model: BaseModel) -> str:
    """Indented JSON with Japanese kept as written (UTF-8)."""
    return model.model_dump_json(indent=2)
