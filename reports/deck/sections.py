"""The section kinds a completion-report outline may name (store.profiles.SectionKind), each
mapped to the slide that draws it.

A profile's ``completion_report`` lists its sections by kind and title, so a specification's
outline (Yamagata §3(3) ①–⑦) is data; this module only knows how to draw each kind. The kinds
beyond the generic slides — the expert pool, joint work across municipalities, the structure,
the roadmap, the proposals — are what a verification report (検証報告) asks for; none names a
program.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import get_args

from bot.core.catalog import t
from reminders.calendar import format_jp
from reports.deck.builder import LEFT, RIGHT, Box, DeckBuilder
from reports.deck.data import DeckData, in_jst
from reports.deck.engagements import slide_engagements
from reports.deck.events import slide_events
from reports.deck.findings import finding, onsite_lines, shortfall_lines
from reports.deck.narrative import issue_lines, next_step_lines, num
from reports.deck.pages import (
    slide_daily_reports,
    slide_progress,
    slide_stage_kpis,
    slide_survey_comments,
)
from reports.deck.slides import (
    slide_appendix,
    slide_domains,
    slide_experts,
    slide_highlights,
    slide_kpi,
    slide_municipalities,
    slide_next,
    slide_overview,
    slide_survey,
    slide_text,
    slide_trend,
)
from reports.deck.stages import slide_stages
from store.profiles import ReportSlide, SectionKind


def slide_expert_pool(b: DeckBuilder, d: DeckData, title: str) -> None:
    """The experts' utilisation, and how the pool was run, in figures."""
    slide_experts(b, d, title)
    sp = d.experts
    if not sp.experts:
        return
    domains = "、".join(name for name, _ in d.domains[:4]) or t("deck_unclassified")
    idle = sum(1 for e in sp.experts if not e.assigned)
    lines = [
        t("deck_pool_line", n=len(sp.experts), max=sp.maximum, min=sp.minimum, mean=num(sp.mean)),
        t("deck_pool_domains", domains=domains),
        t("deck_pool_unassigned", n=idle) if idle else "",
    ]
    b.text(b.slides[-1], lines, Box(9.0, 4.2, 3.73, 2.7), size=12)


def slide_joint_work(b: DeckBuilder, d: DeckData, title: str) -> None:
    """Sessions shared by several municipalities: how many, the accompaniment held, and the
    on-site minimum flagged where it is not met (Yamagata §3(1)⑤)."""
    slide = b.slide(title)
    acc = [tp for tp in d.tracks if tp.kind in ("accompaniment", "bpr")]
    lines = [
        t(
            "deck_joint_joint",
            n=len(d.joint),
            munis=len({c for r in d.joint for c, _ in r.municipalities}),
        ),
        *[
            t(
                "deck_joint_track",
                name=d.track_label(tp.track_id),
                held=tp.held,
                minimum=tp.minimum if tp.minimum is not None else "－",
                onsite=tp.onsite_held,
            )
            for tp in acc
        ],
        *onsite_lines(d, "deck_joint_onsite_unmet"),
        t("deck_joint_effect") if d.joint else "",
    ]
    b.text(slide, lines, LEFT, size=15)
    rows = [
        [
            format_jp(in_jst(r.starts_at).date()),
            "・".join(r.municipality_names),
            d.track_label(r.track_id),
        ]
        for r in d.joint[:10]
    ]
    if rows:
        b.table(
            slide,
            [t("deck_col_date"), t("deck_col_municipality"), t("deck_col_track")],
            rows,
            RIGHT,
            size=11,
        )


def slide_structure(b: DeckBuilder, d: DeckData, title: str, sentences: Sequence[str] = ()) -> None:
    """Who does what, who decides, how reports kept their deadline, and the profile's own
    sentences (e.g. how costs are shared, which only the program can say). The people counted
    are those who took part (experts with sessions, municipalities supported), never the
    accounts registered."""
    slide = b.slide(title)
    roles = ("prefecture", "staff", "expert", "officer")
    rows = [[t(f"deck_role_{r}"), t(f"deck_role_duty_{r}")] for r in roles]
    b.table(
        slide,
        [t("deck_col_role"), t("deck_col_duty")],
        rows,
        Box(0.6, 1.35, 12.13, 2.6),
        size=12,
    )
    approver = t(f"deck_structure_approver_{d.profile.match_approver}")
    submitted = d.reports["on_time"] + d.reports["late"]
    lines = [
        t(
            "deck_structure_people",
            experts=sum(1 for e in d.experts.experts if e.assigned),
            munis=len(d.municipalities),
        ),
        t("deck_structure_flow", approver=approver),
        t(
            "deck_structure_reports",
            on_time=d.reports["on_time"],
            submitted=submitted,
            days=d.profile.default_track.report_open_days,
        ),
        *sentences,
    ]
    b.text(slide, lines, Box(0.6, 4.2, 12.13, 2.7), size=14)


def slide_roadmap(b: DeckBuilder, d: DeckData, title: str) -> None:
    """Short, mid and long term actions, from what is overdue, in demand and not yet reached
    over the term (each line only where its figure calls for it)."""
    slide = b.slide(title)
    top = "、".join(name for name, _ in d.domains[:3])
    short_term = [
        t("deck_roadmap_overdue", n=d.reports["overdue"]) if d.reports["overdue"] else "",
        t("deck_roadmap_top", top=top) if top else "",
    ]
    uncovered = uncovered_in_term(d)
    rows = [
        [t("deck_roadmap_short"), "、".join(x for x in short_term if x) or "－"],
        [t("deck_roadmap_mid"), t("deck_roadmap_mid_text", n=uncovered)],
        [t("deck_roadmap_long"), t("deck_roadmap_long_text")],
    ]
    used = b.table(
        slide,
        [t("deck_col_horizon"), t("deck_col_actions")],
        rows,
        Box(0.6, 1.35, 12.13, 3.2),
        size=13,
    )
    top_in = 1.35 + used + 0.25
    b.text(slide, next_step_lines(d)[:4], Box(0.6, top_in, 12.13, 6.9 - top_in), size=14)


def uncovered_in_term(d: DeckData) -> int:
    """Municipalities with no session held from the term's start (not just the period's)."""
    covered = {m.code for m in d.figures.municipalities if m.held}
    return max(d.total_municipalities - len(covered), 0)


def slide_proposals(b: DeckBuilder, d: DeckData, title: str) -> None:
    """Proposals for the prefecture's policy, from the domains, the pool, joint work, surveys."""
    slide = b.slide(title)
    top = "、".join(name for name, _ in d.domains[:3]) or t("deck_unclassified")
    avg = num(d.survey.average, 2) if d.survey.average is not None else "－"
    lines = [
        t("deck_proposals_domains", top=top),
        t("deck_proposals_pool", n=len(d.experts.experts)),
        t("deck_proposals_joint", n=len(d.joint)) if d.joint else t("deck_proposals_joint_none"),
        t("deck_proposals_survey", avg=avg, n=d.survey.answered),
        t("deck_proposals_reports"),
    ]
    b.text(slide, lines, size=16)


def slide_shortfalls_and_issues(b: DeckBuilder, d: DeckData, title: str) -> None:
    """The issues the reports name, by category, and every shortfall against the profile's
    rules (minimums, on-site minimums, expected municipalities, late reports, deliverables)."""
    lines = shortfall_lines(d)
    slide = b.slide(title)
    b.text(slide, issue_lines(d), Box(0.6, 1.35, 12.13, 3.3 if lines else 5.55), size=16)
    if lines:
        b.text(slide, [t("deck_short_title"), *lines], Box(0.6, 4.75, 12.13, 2.15), size=13)


Drawer = Callable[[DeckBuilder, DeckData, ReportSlide], None]

# Every section kind and its slide; a kind added to SectionKind without a drawer fails here.
DRAWERS: dict[SectionKind, Drawer] = {
    "overview": lambda b, d, s: slide_overview(b, d, s.title),
    "kpis": lambda b, d, s: slide_kpi(b, d, s.title),
    "monthly_trend": lambda b, d, s: slide_trend(b, d, s.title),
    "domains": lambda b, d, s: slide_domains(b, d, s.title),
    "municipalities": lambda b, d, s: slide_municipalities(b, d, s.title),
    "experts": lambda b, d, s: slide_experts(b, d, s.title),
    "expert_pool": lambda b, d, s: slide_expert_pool(b, d, s.title),
    "highlights": lambda b, d, s: slide_highlights(b, d, s.title),
    "issues": lambda b, d, s: slide_shortfalls_and_issues(b, d, s.title),
    "surveys": lambda b, d, s: slide_survey(b, d, s.title),
    "joint_work": lambda b, d, s: slide_joint_work(b, d, s.title),
    "structure": lambda b, d, s: slide_structure(b, d, s.title, s.text),
    "roadmap": lambda b, d, s: slide_roadmap(b, d, s.title),
    "proposals": lambda b, d, s: slide_proposals(b, d, s.title),
    "next_steps": lambda b, d, s: slide_next(b, d, s.title),
    "sessions_appendix": lambda b, d, s: slide_appendix(b, d, s.title),
    "engagements": lambda b, d, s: slide_engagements(b, d, s.title),
    "stages": lambda b, d, s: slide_stages(b, d, s.title),
    "events": lambda b, d, s: slide_events(b, d, s.title),
    "text": lambda b, d, s: slide_text(b, d, s.title, s.text),
    "daily_reports": lambda b, d, s: slide_daily_reports(b, d, s.title),
    "progress_by_municipality": lambda b, d, s: slide_progress(b, d, s.title),
    "survey_comments": lambda b, d, s: slide_survey_comments(b, d, s.title),
    "stage_kpis": lambda b, d, s: slide_stage_kpis(b, d, s.title),
}
if set(DRAWERS) != set(get_args(SectionKind)):  # import-time: a kind must never go undrawn
    raise RuntimeError(
        f"section kinds without a slide: {set(get_args(SectionKind)) - set(DRAWERS)}"
    )


def draw(b: DeckBuilder, d: DeckData, page: ReportSlide) -> None:
    """Add the slide(s) of one page of a section: titled with what they found, the section's
    heading above it (a kind that finds nothing keeps the heading as its title)."""
    found = finding(d, page.content)
    if found is None:
        DRAWERS[page.content](b, d, page)
        return
    b.kicker = page.title
    try:
        DRAWERS[page.content](b, d, page.model_copy(update={"title": found}))
    finally:
        b.kicker = ""
