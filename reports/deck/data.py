"""What a deck reads from the store: one ``DeckData`` of every figure the slides show, loaded by
``load_deck_data`` with a dozen statements, so the slides only lay the figures out and never
query anything themselves."""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from bot.core.catalog import t
from reminders.calendar import BusinessCalendar
from reminders.clock import JST
from reports import stages as stage_view
from reports.masking import Masker
from reports.status import (
    ExpertSpread,
    Period,
    TermClock,
    TrackProgress,
    expert_spread,
    progress_of_tracks,
    term_clock,
)
from reports.structure_view import StructureView
from reports.structure_view import build as build_structure
from store import engagements as engagement_store
from store import reference, reporting
from store import stages as stage_store
from store.db import Session
from store.profiles import ProgramProfile
from store.reporting import (
    CaseRow,
    CountingWindow,
    Figures,
    OnsiteRuleFigures,
    SessionRow,
    SurveySummary,
    count_state,
    counting_window,
    onsite_rules,
)
from store.scope import EVERYTHING, Scope

if TYPE_CHECKING:  # the narrative reads DeckData; DeckData only carries a Narrative
    from reports.deck.narrative import Narrative

DeckKind = Literal["summary", "monthly", "completion"]
KINDS: tuple[DeckKind, ...] = ("summary", "monthly", "completion")
UPCOMING_DAYS = 31

# --- the period -------------------------------------------------------------------------------------


def default_period(kind: DeckKind, profile: ProgramProfile, today: dt.date) -> Period:
    """completion: the whole term; monthly: the previous month (the one being reported);
    summary: from the term start to today."""
    if kind == "completion":
        return Period(profile.term_start, profile.term_end)
    if kind == "monthly":
        first = today.replace(day=1)
        last_month_end = first - dt.timedelta(days=1)
        return month_period(last_month_end.year, last_month_end.month)
    return Period(profile.term_start, max(min(today, profile.term_end), profile.term_start))


def month_period(year: int, month: int) -> Period:
    return Period(
        dt.date(year, month, 1), dt.date(year, month, _calendar.monthrange(year, month)[1])
    )


# --- the data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MuniLine:
    code: str
    name: str
    sessions: int
    hours: float
    by_track: dict[str, int]
    domains: list[str]


@dataclass(frozen=True)
class Comment:
    """A survey's free comment, masked like the 相談事例集 (names, e-mail, phone)."""

    municipality: str
    satisfaction: int | None
    text: str


@dataclass(frozen=True)
class IssueGroup:
    """The issues the reports named in one category of the domain taxonomy."""

    category: str
    n: int
    example: str


@dataclass(frozen=True)
class Highlight:
    municipality: str
    domain: str
    text: str


@dataclass
class DeckData:
    """Everything the slides show, computed once from the rows (the slides only lay it out)."""

    profile: ProgramProfile
    kind: DeckKind
    period: Period
    now: dt.datetime
    scope_label: str
    cutoff: dt.datetime  # figures are as of this moment: the period end, or now if earlier
    window: CountingWindow  # the term (sessions outside it count nowhere)
    clock: TermClock
    figures: Figures  # from the term start to the period end (store.reporting.counting)
    period_figures: Figures  # the period's own days (the same as figures from the term start)
    tracks: list[TrackProgress]
    onsite: list[OnsiteRuleFigures]
    months: list[tuple[int, int]]
    monthly: dict[str, list[int]]
    sessions: list[SessionRow]
    domains: list[tuple[str, int]]
    municipalities: list[MuniLine]
    total_municipalities: int
    experts: ExpertSpread
    survey: SurveySummary
    cases_opened: int
    reports: Counter[str]
    joint: list[SessionRow]
    roles: dict[str, int]
    highlights: list[Highlight]
    issues: list[IssueGroup]
    comments: list[Comment]
    upcoming: list[SessionRow]
    narrative: Narrative | None = None
    # Engaged vs expected municipalities per engagement track (store/engagements.py); an
    # officer's deck holds their municipality's only.
    engagements: list[engagement_store.TrackEngagements] = field(default_factory=list)
    # The municipality × stage matrix (reports/stages.py); None without a stage model. An
    # officer's deck holds their municipality's row only.
    stages: stage_view.StageMatrix | None = None
    # Events held vs expected and the deliverables (reports/structure_view.py), as of the deck's
    # cut-off; None for an officer's deck or a profile that declares neither.
    structure: StructureView | None = None

    @property
    def held(self) -> list[SessionRow]:
        return [r for r in self.sessions if self.state(r) == "held"]

    def state(self, r: SessionRow) -> reporting.CountState:
        return count_state(r.status, r.starts_at, r.ends_at, self.cutoff, self.window)

    def track_name(self, track_id: str) -> str:
        try:
            return self.profile.track(track_id).name
        except KeyError:
            return track_id

    def track_label(self, track_id: str) -> str:
        """The profile's short label of the track (its name when it declares none)."""
        try:
            return self.profile.track(track_id).label
        except KeyError:
            return track_id


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=JST)


def _months(start: dt.date, end: dt.date) -> list[tuple[int, int]]:
    out = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def in_jst(value: dt.datetime) -> dt.datetime:
    return value.astimezone(JST)


async def load_deck_data(
    s: Session,
    profile: ProgramProfile,
    cal: BusinessCalendar,
    now: dt.datetime,
    kind: DeckKind,
    period: Period,
    scope: Scope = EVERYTHING,
    scope_label: str = "",
) -> DeckData:
    """A dozen statements: the term's sessions up to the period end (with people, reports and
    surveys), the cases, the figures (``store.reporting.counting``: from the term start to the
    period end, and of the period for the experts), the survey figures, the next month's
    sessions and the reference counts. Everything else is arithmetic over those rows, each
    classified by the same ``count_state``."""
    start_dt, end_dt = period.bounds()
    term_start = _day_start(profile.term_start)
    window = counting_window(profile)
    cutoff = min(now, end_dt)
    rows = await reporting.sessions_between(
        s, profile.id, min(term_start, start_dt), end_dt, scope, with_reports=True
    )
    rows = [r for r in rows if window.contains(r.starts_at)]
    cases = await reporting.case_rows(s, profile.id, now, scope, window=window)
    # As of now (a period reaching today or later) the figures are /status's: the whole term,
    # sessions still to come counted as scheduled; a past period's stop at its end.
    counted = window if cutoff >= now else window.until(period.end)
    figures = await reporting.direct_figures(s, profile.id, counted, cutoff, scope)
    in_period_window = CountingWindow(max(window.first, period.start), min(window.last, period.end))
    # The period's own figures (a month's): the same counting, over the period's days only.
    period_figures = (
        figures
        if period.start <= window.first
        else await reporting.direct_figures(s, profile.id, in_period_window, cutoff, scope)
    )
    survey = await reporting.survey_summary(s, profile.id, scope, start_dt, end_dt)
    upcoming = await reporting.sessions_between(
        s, profile.id, max(end_dt, now), end_dt + dt.timedelta(days=UPCOMING_DAYS), scope, limit=50
    )
    munis = await reporting.municipality_names(s, profile.prefecture_code)
    roles = await reporting.user_role_counts(s)
    masker = Masker(await reporting.people_names(s), munis, mask_places=False)
    clock = term_clock(cal, profile.term_start, profile.term_end, in_jst(cutoff).date())
    in_period = [r for r in rows if start_dt <= r.starts_at < end_dt]
    held_period = [
        r
        for r in in_period
        if count_state(r.status, r.starts_at, r.ends_at, cutoff, window) == "held"
    ]
    case_by_id = {c.id: c for c in cases}
    return DeckData(
        profile=profile,
        kind=kind,
        period=period,
        now=now,
        scope_label=scope_label,
        cutoff=cutoff,
        window=window,
        clock=clock,
        figures=figures,
        period_figures=period_figures,
        # An officer's deck is their municipality's own figures: the program's targets,
        # minimums and pace are the program's, not theirs, so none applies.
        tracks=progress_of_tracks(
            _without_goals(profile) if scope.municipality_code else profile, figures, clock
        ),
        onsite=[] if scope.municipality_code else onsite_rules(profile, figures),
        months=_months(min(profile.term_start, period.start), period.end),
        monthly=_monthly(
            profile,
            held_rows(rows, cutoff, window),
            _months(min(profile.term_start, period.start), period.end),
        ),
        sessions=in_period,
        domains=_domains(cases, start_dt, end_dt),
        municipalities=_municipalities(period_figures, held_period, case_by_id),
        total_municipalities=len(munis),
        experts=expert_spread(period_figures.experts),
        survey=survey,
        cases_opened=len([c for c in cases if start_dt <= c.opened_at < end_dt]),
        reports=_report_states(held_period, in_jst(now).date()),
        joint=[r for r in held_period if len(r.municipalities) > 1],
        roles=roles,
        highlights=_highlights(held_period, case_by_id, masker),
        issues=_issues(held_period, case_by_id, masker),
        comments=_comments(held_period, masker),
        upcoming=upcoming,
        engagements=await engagement_store.track_engagements(s, profile, scope.municipality_code),
        stages=stage_view.build(
            profile, await stage_store.matrix(s, profile.id, scope.municipality_code)
        )
        if profile.stage_model is not None
        else None,
        structure=None
        if scope.municipality_code
        else await build_structure(s, profile, cal, cutoff),
    )


def _without_goals(profile: ProgramProfile) -> ProgramProfile:
    tracks = tuple(
        tr.model_copy(update={"target": None, "minimum": None, "minimum_onsite": None})
        for tr in profile.tracks
    )
    return profile.model_copy(update={"tracks": tracks})


def held_rows(
    rows: list[SessionRow], cutoff: dt.datetime, window: CountingWindow
) -> list[SessionRow]:
    return [
        r for r in rows if count_state(r.status, r.starts_at, r.ends_at, cutoff, window) == "held"
    ]


def _monthly(
    profile: ProgramProfile, held: list[SessionRow], months: list[tuple[int, int]]
) -> dict[str, list[int]]:
    """Held sessions per track and month (of their start)."""
    index = {ym: i for i, ym in enumerate(months)}
    out = {t_.id: [0] * len(months) for t_ in profile.tracks}
    for r in held:
        local = in_jst(r.starts_at)
        i = index.get((local.year, local.month))
        if i is not None and r.track_id in out:
            out[r.track_id][i] += 1
    return out


def _domains(cases: list[CaseRow], start: dt.datetime, end: dt.datetime) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    for c in cases:
        if start <= c.opened_at < end:
            counts.update(c.domains or [t("deck_unclassified")])
    return counts.most_common()


def _municipalities(
    figures: Figures, rows: list[SessionRow], cases: dict[int, CaseRow]
) -> list[MuniLine]:
    """The municipalities with sessions held in the period: their counts are the counting
    module's (as `/status` shows them; a joint session counts once for each), their main
    domains from the cases of the period's held sessions."""
    acc: dict[str, dict[str, Any]] = {}
    for m in figures.municipalities:
        if not m.held:
            continue
        a = acc.setdefault(m.code, {"name": m.name, "n": 0, "h": 0.0, "tracks": {}})
        a["n"] += m.held
        a["h"] += m.hours_held
        a["tracks"][m.track_id] = m.held
    domains: dict[str, Counter[str]] = {}
    for r in rows:
        case = cases.get(r.case_id)
        for code, _ in r.municipalities:
            domains.setdefault(code, Counter()).update(case.domains if case else [])
    lines = [
        MuniLine(
            code,
            a["name"],
            a["n"],
            a["h"],
            a["tracks"],
            [d for d, _ in domains.get(code, Counter()).most_common(2)],
        )
        for code, a in acc.items()
    ]
    return sorted(lines, key=lambda m: (-m.sessions, m.code))


def _report_states(rows: list[SessionRow], today: dt.date) -> Counter[str]:
    states: Counter[str] = Counter()
    for r in rows:
        if r.report_submitted_at is not None:
            late = in_jst(r.report_submitted_at).date() > r.report_due
            states["late" if late else "on_time"] += 1
        else:
            states["overdue" if r.report_due < today else "pending"] += 1
    return states


def _text_of(report: dict[str, Any] | None, key: str) -> str:
    value = (report or {}).get(key) or ""
    return " ".join(str(value).split())


def _highlights(
    rows: list[SessionRow], cases: dict[int, CaseRow], masker: Masker, limit: int = 6
) -> list[Highlight]:
    """The effects the experts reported, newest first, one per municipality and domain."""
    seen: set[tuple[str, str]] = set()
    out = []
    for r in sorted(rows, key=lambda r: r.starts_at, reverse=True):
        effect = _text_of(r.report, "effect")
        if not effect:
            continue
        case = cases.get(r.case_id)
        domain = (case.domains[0] if case and case.domains else "") or t("deck_unclassified")
        muni = r.municipality_names[0] if r.municipality_names else ""
        if (muni, domain) in seen:
            continue
        seen.add((muni, domain))
        out.append(Highlight(muni, domain, masker.text(effect)))
        if len(out) >= limit:
            break
    return out


def _issues(
    rows: list[SessionRow], cases: dict[int, CaseRow], masker: Masker, limit: int = 5
) -> list[IssueGroup]:
    """The issues the reports name, grouped by the domain (表1 taxonomy) of their case — never
    by identical wording — most frequent first, each with a masked example."""
    counts: Counter[str] = Counter()
    example: dict[str, str] = {}
    for r in sorted(rows, key=lambda r: r.starts_at, reverse=True):
        text = _text_of(r.report, "issues")
        if not text:
            continue
        case = cases.get(r.case_id)
        category = (_category_of(text) or (case.domains[0] if case and case.domains else "")) or t(
            "deck_issue_other"
        )
        counts[category] += 1
        example.setdefault(category, masker.text(text))
    return [IssueGroup(c, n, example[c]) for c, n in counts.most_common(limit)]


def _category_of(text: str) -> str:
    """The first domain of the taxonomy whose name or a keyword the text names."""
    for ref in reference.domains():
        if ref.name in text or any(k and k in text for k in ref.keywords):
            return ref.name
    return ""


def _comments(rows: list[SessionRow], masker: Masker) -> list[Comment]:
    return [
        Comment(
            "・".join(r.municipality_names),
            r.satisfaction,
            masker.text(" ".join(r.survey_comment.split())),
        )
        for r in sorted(rows, key=lambda r: r.starts_at)
        if r.survey_answered and r.survey_comment.strip()
    ]
