"""The pages of the web view, each scoped exactly like `/status` (``case_scope``): prefecture,
desk and admin see the program; an officer their municipality; an expert their assignments.
What a person may not see is a 404, never a 403 (a case number of another municipality is not
even confirmed to exist).

Figures come from the same read models as the chat (``reports.status``, ``store.reporting``);
the web's own lists from ``store.web_queries``. Files are built on request (POST with the CSRF
token) by the same builders as `/dx export` and `/deck`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.core.permissions import Action, can, case_scope, may_see_personal_data
from bot.web.app import FORM, VIEWER, Viewer, now_of, page, services_of
from bot.web.render import trend_chart
from reminders.calendar import BusinessCalendar
from reminders.clock import JST
from reports import deck, export, status
from reports.status import DUE_SOON_OPEN_DAYS
from store import cases as case_store
from store import engagements as engagement_store
from store import reporting, web_queries
from store import stages as stage_store
from store.audit import record
from store.db import Session
from store.profiles import ProgramProfile
from store.reference import loaded_municipalities
from store.reporting import counting_window
from store.scope import Scope
from store.web_queries import SORTS, CaseFilter

PENDING_LIMIT = 200


def viewer_of(request: web.Request) -> Viewer:
    viewer: Viewer = request[VIEWER]
    return viewer


def _scope(v: Viewer) -> Scope:
    return case_scope(v.actor)


def _track_names(v: Viewer) -> dict[str, str]:
    return {tr.id: tr.name for tr in v.profile.tracks}


def _nav(v: Viewer) -> list[tuple[str, str]]:
    items = [
        ("", "web_nav_overview"),
        ("cases", "web_nav_cases"),
        ("municipalities", "web_nav_municipalities"),
        ("experts", "web_nav_experts"),
        ("deadlines", "web_nav_deadlines"),
    ]
    if _downloads(v):
        items.append(("downloads", "web_nav_downloads"))
    return items


def _page(request: web.Request, template: str, active: str, **context: Any) -> web.Response:
    v = viewer_of(request)
    return page(
        request, template, nav=_nav(v), active=active, track_names=_track_names(v), **context
    )


# --- overview -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramOverview:
    """What the overview shows of the whole program: the figures of `/status` without its
    lists (the queue, this week's sessions, the stage matrix …, which the other pages show or
    which the page has no room for), so it costs the counting and a few index reads."""

    term: status.Period
    clock: status.TermClock
    tracks: list[status.TrackProgress]
    flags: list[status.Flag]
    cases_by_status: dict[str, int]
    pending: reporting.PendingReports
    survey: reporting.SurveySummary


async def program_overview(
    s: Session, profile: ProgramProfile, cal: BusinessCalendar, now: dt.datetime
) -> ProgramOverview:
    today = now.astimezone(JST).date()
    term = status.Period(profile.term_start, profile.term_end)
    clock = status.term_clock(cal, term.start, term.end, today)
    figures = await reporting.track_figures(s, profile.id, counting_window(profile), now)
    soon = cal.add_open_days(today, DUE_SOON_OPEN_DAYS)
    pending = await reporting.pending_reports(
        s, profile.id, now, today, soon, limit=0, people=False
    )
    tracks = status.progress_of_tracks(profile, figures, clock)
    onsite = reporting.onsite_rules(profile, figures)
    return ProgramOverview(
        term=term,
        clock=clock,
        tracks=tracks,
        flags=status.program_flags(profile, tracks, onsite, pending.overdue),
        cases_by_status=figures.cases_by_status,
        pending=pending,
        survey=await reporting.survey_summary(s, profile.id),
    )


async def overview(request: web.Request) -> web.Response:
    v = viewer_of(request)
    services, now = services_of(request), now_of(request)
    scope = _scope(v)
    async with services.db.transaction() as s:
        view: status.StatusView | ProgramOverview
        if scope.everything:
            view = await program_overview(s, v.profile, v.calendar, now)
        else:  # one municipality's or one expert's: a few rows, the view of `/status`
            view = await status.view_for(
                s,
                v.profile,
                v.calendar,
                now,
                scope,
                user_id=v.actor.user_id,
                name=v.actor.label,
            )
        trend = await web_queries.monthly_trend(
            s, v.profile.id, counting_window(v.profile), now, scope
        )
    flags = [
        reporting_flag_text(f, _track_names(v))
        for f in (view.flags if hasattr(view, "flags") else [])
    ]
    return _page(
        request,
        "overview.html",
        "",
        view=view,
        kind="ProgramStatus" if isinstance(view, ProgramOverview) else type(view).__name__,
        flags=flags,
        chart=trend_chart(trend, _track_names(v)),
        soon_days=DUE_SOON_OPEN_DAYS,
    )


def reporting_flag_text(flag: status.Flag, names: dict[str, str]) -> str:
    from reports.render_status import flag_text

    return flag_text(flag, names)


# --- cases ----------------------------------------------------------------------------------------


def _int(text: str, default: int) -> int:
    try:
        return max(1, int(text))
    except ValueError:
        return default


def parse_filter(query: Any, v: Viewer) -> CaseFilter:
    sort = query.get("sort", "no")
    expert = query.get("expert", "")
    month = query.get("month", "")
    return CaseFilter(
        status=query.get("status", "") if query.get("status", "") in case_store.STATUSES else "",
        track=query.get("track", "") if query.get("track", "") in _track_names(v) else "",
        municipality=query.get("municipality", "")[:6],
        expert=int(expert) if expert.isdigit() else None,
        month=month if len(month) == 7 and month[4] == "-" else "",
        text=query.get("q", "")[: web_queries.MAX_TEXT],
        sort=sort if sort in SORTS else "no",
        page=_int(query.get("page", "1"), 1),
    )


def _months(v: Viewer) -> list[str]:
    out = []
    y, m = v.profile.term_start.year, v.profile.term_start.month
    end = v.profile.term_end
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = y + (m == 12), m % 12 + 1
    return out


async def cases(request: web.Request) -> web.Response:
    v = viewer_of(request)
    services = services_of(request)
    f = parse_filter(request.query, v)
    async with services.db.transaction() as s:
        found = await web_queries.case_page(s, v.profile.id, _scope(v), f)
        munis, experts = await web_queries.filter_choices(s, v.profile.id, _scope(v))
    params = {
        "status": f.status,
        "track": f.track,
        "municipality": f.municipality,
        "expert": "" if f.expert is None else str(f.expert),
        "month": f.month,
        "q": f.text,
        "sort": f.sort,
    }
    kept = {k: val for k, val in params.items() if val}

    def page_url(n: int) -> str:
        return "?" + urlencode({**kept, "page": str(n)})

    first = (found.page - 1) * web_queries.PER_PAGE + 1 if found.total else 0
    return _page(
        request,
        "cases.html",
        "cases",
        found=found,
        f=f,
        params=params,
        first=first,
        last=first + len(found.rows) - 1 if found.rows else 0,
        prev_url=page_url(found.page - 1) if found.page > 1 else "",
        next_url=page_url(found.page + 1) if found.page < found.pages else "",
        statuses=list(case_store.STATUSES),
        municipalities=munis,
        experts=experts,
        months=_months(v),
        sorts=SORTS,
    )


async def case_page(request: web.Request) -> web.Response:
    v = viewer_of(request)
    services, now = services_of(request), now_of(request)
    case_no = request.match_info["case_no"]
    async with services.db.transaction() as s:
        case_id = await web_queries.visible_case_id(s, v.profile.id, case_no, _scope(v))
        if case_id is None:
            raise web.HTTPNotFound()
        view = await status.case_view(
            s,
            v.profile,
            v.calendar,
            now,
            case_id,
            show_personal=may_see_personal_data(v.actor),
        )
        if view is None:
            raise web.HTTPNotFound()
        versions = await web_queries.report_versions(s, case_id)
    from reports.render_status import report_state

    return _page(
        request,
        "case.html",
        "cases",
        v_case=view,
        c=view.detail.case,
        sessions=view.detail.sessions,
        history=view.detail.history,
        versions=versions,
        report_states={r.id: report_state(r, v.calendar, now) for r in view.detail.sessions},
        show_personal=view.show_personal,
    )


# --- municipalities and experts -------------------------------------------------------------------


async def municipalities(request: web.Request) -> web.Response:
    v = viewer_of(request)
    services, now = services_of(request), now_of(request)
    scope = _scope(v)
    code = scope.municipality_code
    async with services.db.transaction() as s:
        figures = await reporting.count_figures(
            s, v.profile.id, counting_window(v.profile), now, scope
        )
        engagements = await engagement_store.track_engagements(s, v.profile, code)
        matrix = None
        if v.profile.stage_model is not None:
            from reports import stages as stage_view

            matrix = stage_view.build(v.profile, await stage_store.matrix(s, v.profile.id, code))
        everyone = await loaded_municipalities(s, v.profile.prefecture_code)
    if code is not None:
        everyone = [m for m in everyone if m.code == code]
    elif scope.expert_user_id is not None:  # the municipalities of their sessions, no plans
        seen = {m.code for m in figures.municipalities}
        engagements, matrix = [], None
        everyone = [m for m in everyone if m.code in seen]
    per_muni: dict[str, dict[str, tuple[int, int]]] = {}
    for m in figures.municipalities:
        per_muni.setdefault(m.code, {})[m.track_id] = (m.held, m.scheduled)
    tracks = list(v.profile.tracks)
    rows = [
        (m.code, m.name, [per_muni.get(m.code, {}).get(tr.id, (0, 0)) for tr in tracks])
        for m in everyone
    ]
    # Most served first, then 団体コード order; the unserved at the end.
    rows.sort(key=lambda r: (-sum(h + sc for h, sc in r[2]), r[0]))
    return _page(
        request,
        "municipalities.html",
        "municipalities",
        tracks=tracks,
        rows=rows,
        engagements=engagements,
        matrix=matrix,
    )


async def experts(request: web.Request) -> web.Response:
    v = viewer_of(request)
    services, now = services_of(request), now_of(request)
    scope = _scope(v)
    async with services.db.transaction() as s:
        figures = await reporting.count_figures(
            s, v.profile.id, counting_window(v.profile), now, scope
        )
    spread = status.expert_spread(figures.experts)
    if scope.expert_user_id is not None:
        spread = status.expert_spread(
            [e for e in figures.experts if e.user_id == scope.expert_user_id]
        )
    return _page(request, "experts.html", "experts", spread=spread)


# --- deadlines ------------------------------------------------------------------------------------


async def deadlines(request: web.Request) -> web.Response:
    v = viewer_of(request)
    services, now = services_of(request), now_of(request)
    scope = _scope(v)
    today = now.astimezone(JST).date()
    soon = v.calendar.add_open_days(today, DUE_SOON_OPEN_DAYS)
    async with services.db.transaction() as s:
        pending = await reporting.pending_reports(
            s, v.profile.id, now, today, soon, scope, limit=PENDING_LIMIT
        )
        structure = None
        if scope.everything:
            from reports import structure_view

            structure = await structure_view.build(s, v.profile, v.calendar, now)
    overdue_days = {
        r.id: status.overdue_open_days(v.calendar, r.report_due, today) for r in pending.rows
    }
    return _page(
        request,
        "deadlines.html",
        "deadlines",
        pending=pending,
        overdue_days=overdue_days,
        structure=structure,
        soon_days=DUE_SOON_OPEN_DAYS,
        today=today,
    )


# --- downloads ------------------------------------------------------------------------------------

EXPORTS: tuple[tuple[export.Kind, export.Format], ...] = (
    ("cases", "csv"),
    ("cases", "xlsx"),
    ("sessions", "csv"),
    ("sessions", "xlsx"),
    ("reports", "csv"),
    ("reports", "xlsx"),
)


def _downloads(v: Viewer) -> bool:
    return can(v.actor, Action.EXPORT) or can(v.actor, Action.DECK)


async def downloads(request: web.Request) -> web.Response:
    v = viewer_of(request)
    if not _downloads(v):
        raise web.HTTPNotFound()
    return _page(
        request,
        "downloads.html",
        "downloads",
        exports=EXPORTS if can(v.actor, Action.EXPORT) else (),
        decks=deck.KINDS if can(v.actor, Action.DECK) else (),
    )


async def download(request: web.Request) -> web.StreamResponse:
    """Build the file asked for (same builders as the chat) and send it as an attachment."""
    v = viewer_of(request)
    form = request[FORM]
    what = str(form.get("what", ""))
    services, now = services_of(request), now_of(request)
    scope = _scope(v)
    kind, _, fmt = what.partition(".")
    async with services.db.transaction() as s:
        if kind == "deck" and can(v.actor, Action.DECK) and fmt in deck.KINDS:
            deck_kind: deck.DeckKind = fmt
            period = deck.default_period(deck_kind, v.profile, now.astimezone(JST).date())
            label = ""
            if scope.municipality_code is not None:
                label = await reporting.municipality_name(s, scope.municipality_code) or ""
            data = await deck.load_deck_data(
                s, v.profile, v.calendar, now, deck_kind, period, scope, label
            )
            build: Any = lambda: deck.deck_file(data)  # noqa: E731
        elif (kind, fmt) in EXPORTS and can(v.actor, Action.EXPORT):
            ex_kind: export.Kind = kind  # type: ignore[assignment]  # checked just above
            ex_fmt: export.Format = fmt  # type: ignore[assignment]
            tables = await export.load_tables(
                s, v.profile, ex_kind, now, scope, ledger=ex_fmt == "xlsx"
            )

            def build() -> Any:
                return export.export_file(v.profile, ex_kind, ex_fmt, now, tables)

        else:
            raise web.HTTPNotFound()
        await record(
            s,
            at=now,
            actor=v.actor.label,
            action="web_download",
            object_type="file",
            object_id=what[:60],
            program_id=v.profile.id,
        )
    f = await asyncio.to_thread(build)
    return web.Response(
        body=f.content,
        headers={"Content-Type": f.content_type, "Content-Disposition": _attachment(f.name)},
    )


def _attachment(name: str) -> str:
    from urllib.parse import quote

    ascii_name = name.encode("ascii", "replace").decode().replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", overview)
    app.router.add_get("/cases", cases)
    app.router.add_get("/cases/{case_no}", case_page)
    app.router.add_get("/municipalities", municipalities)
    app.router.add_get("/experts", experts)
    app.router.add_get("/deadlines", deadlines)
    app.router.add_get("/downloads", downloads)
    app.router.add_post("/downloads", download)
