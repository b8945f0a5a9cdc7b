"""The generic slides: each function adds one slide (or a few pages of one table) to the deck from
the figures in ``DeckData``, with a title from the catalogue and never an empty placeholder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from pptx.enum.chart import XL_CHART_TYPE
from pptx.slide import Slide

from bot.core.catalog import t
from reminders.calendar import format_jp
from reports.deck.builder import BODY, LEFT, RIGHT, TOP_NOTE, UNDER_NOTE, Box, DeckBuilder
from reports.deck.data import DeckData, in_jst
from reports.deck.narrative import highlight_lines, issue_lines, next_step_lines, num
from store.reporting import SessionRow

APPENDIX_LIMIT = 480  # sessions listed in an appendix (about 30 slides); the rest counted
# Satisfaction 5 → 1 as an ordinal palette: one hue, darker for more satisfied (never red).
SATISFACTION_COLORS = ("08306B", "2171B5", "4292C6", "9ECAE1", "C6DBEF")
HIDE_ZERO = '0;-0;""'  # no "0" label on a bar for a track without that kind of goal

SlideFn = Callable[[DeckBuilder, DeckData], None]


def short(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, an ellipsis where it was cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def period_text(d: DeckData) -> str:
    return t("deck_period", start=format_jp(d.period.start), end=format_jp(d.period.end))


def _track_label(d: DeckData, track_id: str) -> str:
    return d.track_label(track_id)


def slide_title(b: DeckBuilder, d: DeckData) -> None:
    p = d.profile
    month = t("deck_month", year=d.period.start.year, month=d.period.start.month)
    if d.kind == "monthly":
        own = p.monthly_report.title if p.monthly_report and p.monthly_report.title else ""
        title = f"{own}（{month}）" if own else t("deck_title_monthly", month=month)
    else:
        outline = p.completion_report if d.kind == "completion" else None
        title = outline.title if outline and outline.title else t(f"deck_title_{d.kind}")
    scope = t("deck_scope", name=d.scope_label) if d.scope_label else ""
    subtitle = t(
        "deck_subtitle",
        program=p.name,
        prefecture=p.prefecture,
        period=period_text(d),
        scope=scope,
        made=format_jp(in_jst(d.now).date()),
    )
    cutoff = in_jst(d.cutoff).date()
    if d.kind == "completion" and cutoff < p.term_end:  # built before the term is over
        title += t("deck_interim_mark")
        pct = num(d.clock.fraction_elapsed * 100, 0)
        subtitle += "\n" + t("deck_interim_note", date=format_jp(cutoff), pct=pct)
    b.title_slide(title, subtitle)


def slide_contents(b: DeckBuilder, d: DeckData, items: Sequence[str]) -> None:
    slide = b.slide(t("deck_contents_title"))
    b.text(slide, items, size=20, bullet=False)


def slide_overview(b: DeckBuilder, d: DeckData, title: str | None = None) -> None:
    heading = title or t("deck_overview_title")
    p = d.profile
    slide = b.slide(heading)
    covered = len({m.code for m in d.municipalities})
    lines = [
        t("deck_overview_program", name=p.name),
        t("deck_overview_term", start=format_jp(p.term_start), end=format_jp(p.term_end)),
        period_text(d),
        t("deck_overview_municipalities", total=d.total_municipalities, covered=covered),
        t("deck_overview_people", experts=d.roles.get("expert", 0), staff=d.roles.get("staff", 0)),
    ]
    b.text(slide, lines, Box(0.6, 1.35, 12.13, 2.3), size=16)
    rows = [
        [
            tr.name,
            str(tr.target) if tr.target is not None else "－",
            str(tr.minimum) if tr.minimum is not None else "－",
            str(tr.per_municipality_cap) if tr.per_municipality_cap else "－",
            num(tr.default_hours),
            t("deck_open_days", n=tr.report_open_days),
        ]
        for tr in p.tracks
    ]
    headers = [
        t(f"deck_col_{k}") for k in ("track", "target", "minimum", "cap", "hours", "deadline")
    ]
    if d.scope_label:  # an officer's deck: the program's targets are not theirs
        headers, rows = [headers[0], *headers[4:]], [[r[0], *r[4:]] for r in rows]
    b.table(slide, headers, rows, Box(0.6, 3.8, 12.13, 3.0), size=12)


def slide_month_summary(b: DeckBuilder, d: DeckData) -> None:
    slide = b.slide(
        t(
            "deck_month_title",
            month=t("deck_month", year=d.period.start.year, month=d.period.start.month),
        )
    )
    month = d.period_figures.tracks  # the counting module's, as /status counts
    lines = [
        t("deck_month_cases", n=d.cases_opened),
        t(
            "deck_month_sessions",
            n=sum(f.held for f in month.values()),
            hours=num(sum(f.hours_held for f in month.values())),
        ),
        t(
            "deck_month_reports",
            on_time=d.reports["on_time"],
            late=d.reports["late"],
            pending=d.reports["pending"],
            overdue=d.reports["overdue"],
        ),
        t(
            "deck_month_survey",
            n=d.survey.answered,
            avg=num(d.survey.average, 2) if d.survey.average else "－",
        ),
        t("deck_month_municipalities", n=len(d.municipalities)),
    ]
    b.text(slide, lines, LEFT, size=18)
    rows = [[tr.name, str(month[tr.id].held if tr.id in month else 0)] for tr in d.profile.tracks]
    b.table(slide, [t("deck_col_track"), t("deck_col_sessions")], rows, RIGHT, size=13)


def slide_kpi(b: DeckBuilder, d: DeckData, title: str | None = None) -> None:
    heading = title or t("deck_kpi_title")
    slide = b.slide(heading)
    b.text(
        slide,
        [
            t(
                "deck_kpi_note_own" if d.scope_label else "deck_kpi_note",
                date=format_jp(in_jst(d.cutoff).date()),
            )
        ],
        TOP_NOTE,
        size=14,
        bullet=False,
    )
    cats = [_track_label(d, tp.track_id) for tp in d.tracks]
    goal, minimum = t("deck_series_goal"), t("deck_series_minimum")
    has_goals = any(tp.target or tp.minimum for tp in d.tracks)
    if has_goals:  # held as columns, the target and the minimum as marks on them
        b.chart(
            slide,
            XL_CHART_TYPE.COLUMN_CLUSTERED,
            cats,
            [
                (t("deck_series_held"), [tp.held for tp in d.tracks]),
                (goal, [tp.target for tp in d.tracks]),  # type: ignore[misc]
                (minimum, [tp.minimum for tp in d.tracks]),  # type: ignore[misc]
            ],
            Box(0.6, 1.95, 7.4, 4.95),
            label_format=HIDE_ZERO,
            value_title=t("deck_axis_sessions"),
            markers=(goal, minimum),
        )
    lines = []
    for tp in d.tracks:
        if tp.goal is None:
            lines.append(
                t(
                    "deck_kpi_line_nogoal",
                    name=_track_label(d, tp.track_id),
                    held=tp.held,
                    scheduled=tp.scheduled,
                )
            )
        else:
            lines.append(
                t(
                    "deck_kpi_line",
                    name=_track_label(d, tp.track_id),
                    held=tp.held,
                    goal=tp.goal,
                    rate=num(tp.held / tp.goal * 100 if tp.goal else 0),
                    state=t(f"deck_state_{tp.state}"),
                    scheduled=tp.scheduled,
                )
            )
    for rule in d.onsite:  # on-site minimums (Yamagata's spans both accompaniment themes)
        lines.append(
            t(
                "deck_kpi_onsite",
                names="・".join(d.track_label(x) for x in rule.tracks),
                onsite=rule.onsite_held,
                minimum=rule.minimum,
                state=t("deck_state_achieved" if rule.met else "deck_onsite_unmet"),
            )
        )
    # No target chart for a program without targets: the figures as text, full width.
    box = Box(8.2, 1.95, 4.53, 4.95) if has_goals else Box(0.6, 1.95, 12.13, 4.95)
    b.text(slide, lines, box, size=13 if has_goals else 18)


def slide_trend(b: DeckBuilder, d: DeckData, title: str | None = None) -> None:
    heading = title or t("deck_trend_title")
    slide = b.slide(heading)
    cats = [t("deck_month_short", month=m) for _, m in d.months]
    series = [(_track_label(d, tid), values) for tid, values in d.monthly.items()]
    b.chart(
        slide,
        XL_CHART_TYPE.COLUMN_STACKED,
        cats,
        series,
        BODY,
        label_format=HIDE_ZERO,
        value_title=t("deck_axis_sessions"),
        category_title=t("deck_axis_month"),
    )


def slide_domains(b: DeckBuilder, d: DeckData, title: str | None = None) -> None:
    heading = title or t("deck_domains_title")
    slide = b.slide(heading)
    if not d.domains:
        b.text(slide, [t("deck_no_cases")])
        return
    top = d.domains[:10]
    b.chart(
        slide,
        XL_CHART_TYPE.BAR_CLUSTERED,
        [name for name, _ in top],
        [(t("deck_series_cases"), [n for _, n in top])],
        Box(0.6, 1.35, 8.2, 5.55),
        legend=False,
        value_title=t("deck_axis_cases"),
    )
    lines = [t("deck_domains_total", n=d.cases_opened)]
    if len(d.domains) > len(top):
        lines.append(t("deck_domains_more", n=len(d.domains) - len(top)))
    b.text(slide, lines, Box(9.0, 1.35, 3.73, 5.55), size=14)


def slide_municipalities(b: DeckBuilder, d: DeckData, title: str | None = None) -> None:
    heading = title or t("deck_munis_title")
    lines = d.municipalities
    if not lines:
        slide = b.slide(heading)
        b.text(slide, [t("deck_no_sessions")])
        return
    rows = [
        [
            m.name,
            str(m.sessions),
            num(m.hours),
            "・".join(f"{d.track_label(k)} {v}" for k, v in m.by_track.items()),
            "、".join(m.domains) or "－",
        ]
        for m in lines
    ]
    note = t("deck_munis_note", covered=len(lines), total=d.total_municipalities)

    def decorate(slide: Slide, n: int, pages: int) -> None:
        b.text(slide, [note], TOP_NOTE, size=14, bullet=False)

    b.paged_table(
        heading,
        [t(f"deck_col_{k}") for k in ("municipality", "sessions", "hours", "by_track", "domains")],
        rows,
        UNDER_NOTE,
        size=12,
        decorate=decorate,
    )


def slide_experts(b: DeckBuilder, d: DeckData, title: str | None = None) -> None:
    heading = title or t("deck_experts_title")
    slide = b.slide(heading)
    sp = d.experts
    if not sp.experts:
        b.text(slide, [t("deck_no_experts")])
        return
    shown = sp.experts[:15]
    b.chart(
        slide,
        XL_CHART_TYPE.COLUMN_CLUSTERED,
        [e.name for e in shown],
        [
            (t("deck_series_held"), [e.held for e in shown]),
            (t("deck_series_scheduled"), [e.scheduled for e in shown]),
        ],
        Box(0.6, 1.35, 8.2, 5.55),
        label_format=HIDE_ZERO,
        value_title=t("deck_axis_assigned"),
    )
    lines = [
        t("deck_experts_count", n=len(sp.experts)),
        t(
            "deck_experts_spread",
            max=sp.maximum,
            min=sp.minimum,
            mean=num(sp.mean),
            stdev=num(sp.stdev),
        ),
        t(
            "deck_experts_hours",
            held=sp.held,
            hours=num(sp.hours_held),
            scheduled=sp.scheduled,
        ),
    ]
    b.text(slide, lines, Box(9.0, 1.35, 3.73, 5.55), size=14)


def slide_highlights(b: DeckBuilder, d: DeckData, title: str | None = None) -> None:
    heading = title or t("deck_highlights_title")
    slide = b.slide(heading)
    b.text(slide, highlight_lines(d), size=16)


def slide_issues(b: DeckBuilder, d: DeckData, title: str | None = None) -> None:
    heading = title or t("deck_issues_title")
    slide = b.slide(heading)
    b.text(slide, issue_lines(d), size=16)


def slide_survey(b: DeckBuilder, d: DeckData, title: str | None = None) -> None:
    heading = title or t("deck_survey_title")
    slide = b.slide(heading)
    sv = d.survey
    if not sv.answered:
        b.text(slide, [t("deck_no_survey", waiting=sv.requested_unanswered)])
        return
    b.chart(
        slide,
        XL_CHART_TYPE.PIE,
        [t("deck_satisfaction", n=k) for k in range(5, 0, -1)],
        [(t("deck_series_answers"), [sv.by_satisfaction.get(k, 0) for k in range(5, 0, -1)])],
        Box(0.6, 1.35, 5.9, 5.55),
        point_colors=SATISFACTION_COLORS,
    )
    keys = ("resolved", "partly", "not_yet")
    b.chart(
        slide,
        XL_CHART_TYPE.BAR_CLUSTERED,
        [t(f"sv_resolved_{k}") for k in keys],
        [(t("deck_series_answers"), [sv.by_resolved.get(k, 0) for k in keys])],
        Box(6.7, 1.35, 6.03, 3.6),
        legend=False,
        value_title=t("deck_axis_answers"),
    )
    b.text(
        slide,
        [
            t(
                "deck_survey_line",
                n=sv.answered,
                avg=num(sv.average, 2) if sv.average is not None else "－",
            )
        ],
        Box(6.7, 5.1, 6.03, 1.8),
        size=16,
    )


def slide_text(b: DeckBuilder, d: DeckData, title: str, lines: Sequence[str]) -> None:
    """A slide of fixed sentences a profile gives (a completion-report section of kind text)."""
    slide = b.slide(title)
    b.text(slide, list(lines), size=16)


def slide_next(b: DeckBuilder, d: DeckData, title: str | None = None) -> None:
    heading = title or t("deck_next_title")
    slide = b.slide(heading)
    b.text(slide, next_step_lines(d), size=16)


def _report_cell(r: SessionRow, cutoff: dt.datetime, today: dt.date) -> str:
    if r.report_submitted_at is not None:
        return t("deck_report_done", date=in_jst(r.report_submitted_at).strftime("%m/%d"))
    if r.ends_at > cutoff:
        return t("deck_report_planned")
    return t("deck_report_overdue") if r.report_due < today else t("deck_report_pending")


def slide_appendix(b: DeckBuilder, d: DeckData, title: str | None = None) -> None:
    heading = title or t("deck_appendix_title")
    rows = d.sessions
    if not rows:
        slide = b.slide(heading)
        b.text(slide, [t("deck_no_sessions")])
        return
    today = in_jst(d.now).date()
    shown = rows[:APPENDIX_LIMIT]
    table_rows = [
        [
            format_jp(in_jst(r.starts_at).date()),
            r.case_no,
            "・".join(r.municipality_names),
            d.track_label(r.track_id),
            t(f"sv_method_{r.method}") if r.method in ("online", "onsite") else r.method,
            num(r.hours),
            "、".join(r.expert_names) or "－",
            _report_cell(r, d.cutoff, today),
        ]
        for r in shown
    ]
    more = len(rows) - len(shown)
    box = Box(BODY.left, BODY.top, BODY.width, BODY.height - (0.45 if more else 0))

    def decorate(slide: Slide, n: int, pages: int) -> None:
        if more and n == pages:
            note = t("deck_appendix_more", n=more)
            b.text(slide, [note], Box(0.6, 6.5, 12.13, 0.4), size=12, bullet=False)

    b.paged_table(
        heading,
        [
            t(f"deck_col_{k}")
            for k in (
                "date",
                "case",
                "municipality",
                "track",
                "method",
                "hours",
                "experts",
                "report",
            )
        ],
        table_rows,
        box,
        size=10,
        decorate=decorate,
    )
