"""The outlines: which slides, in which order, for each kind of deck — and the deck file itself.

``summary`` and ``monthly`` use the generic outline (the monthly one opens with the month's
figures). A ``completion`` report (事業完了報告, ≥ 10 body slides) follows the outline its program
asks for: for Yamagata FY2026, §3(3) ①–⑦ of the specification; other programs get the generic
outline plus a contents slide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.core.catalog import t
from reminders.calendar import format_jp
from reports.deck.builder import LEFT, RIGHT, Box, DeckBuilder
from reports.deck.data import DeckData, in_jst
from reports.deck.narrative import next_step_lines, num
from reports.deck.slides import (
    SlideFn,
    period_text,
    short,
    slide_appendix,
    slide_contents,
    slide_domains,
    slide_experts,
    slide_highlights,
    slide_issues,
    slide_kpi,
    slide_month_summary,
    slide_municipalities,
    slide_next,
    slide_overview,
    slide_survey,
    slide_title,
    slide_trend,
)

PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

# --- Yamagata §3(3) ①–⑦ ----------------------------------------------------------------------------


def y_purpose(b: DeckBuilder, d: DeckData) -> None:
    slide_overview(b, d, "deck_y1_title")


def y_collaboration(b: DeckBuilder, d: DeckData) -> None:
    slide = b.slide(t("deck_y4_title"))
    acc = [tp for tp in d.tracks if tp.kind in ("accompaniment", "bpr")]
    lines = [
        t(
            "deck_y4_joint",
            n=len(d.joint),
            munis=len({c for r in d.joint for c, _ in r.municipalities}),
        ),
        *[
            t(
                "deck_y4_track",
                name=short(tp.name, 40),
                held=tp.held,
                minimum=tp.minimum if tp.minimum is not None else "－",
                onsite=tp.onsite_held,
            )
            for tp in acc
        ],
        t("deck_y4_effect" if d.joint else "deck_y4_none"),
    ]
    b.text(slide, lines, LEFT, size=15)
    rows = [
        [
            format_jp(in_jst(r.starts_at).date()),
            "・".join(r.municipality_names),
            short(d.track_name(r.track_id), 14),
        ]
        for r in d.joint[:10]
    ]
    if rows:
        b.table(
            slide,
            [t("deck_col_date"), t("deck_col_municipality"), t("deck_col_track")],
            rows,
            RIGHT,
            widths=(2, 3, 2.2),
            size=11,
        )
    else:
        b.text(slide, [t("deck_y4_hint")], RIGHT, size=14)


def y_pool(b: DeckBuilder, d: DeckData) -> None:
    slide_experts(b, d, "deck_y3_title")
    slide = b.slides[-1]
    lines = [
        t("deck_y3_proposal"),
        t("deck_y3_issue", max=d.experts.maximum, min=d.experts.minimum),
    ]
    b.text(slide, lines, Box(9.0, 4.2, 3.73, 2.7), size=12)


def y_structure(b: DeckBuilder, d: DeckData) -> None:
    slide = b.slide(t("deck_y5_title"))
    roles = ("prefecture", "staff", "expert", "officer")
    rows = [[t(f"deck_role_{r}"), str(d.roles.get(r, 0)), t(f"deck_role_duty_{r}")] for r in roles]
    b.table(
        slide,
        [t("deck_col_role"), t("deck_col_people"), t("deck_col_duty")],
        rows,
        Box(0.6, 1.35, 12.13, 2.6),
        widths=(2, 1, 8),
        size=12,
    )
    approver = t(f"deck_y5_approver_{d.profile.match_approver}")
    submitted = d.reports["on_time"] + d.reports["late"]
    lines = [
        t("deck_y5_flow", approver=approver),
        t(
            "deck_y5_reports",
            on_time=d.reports["on_time"],
            submitted=submitted,
            days=d.profile.default_track.report_open_days,
        ),
        t("deck_y5_cost"),
    ]
    b.text(slide, lines, Box(0.6, 4.2, 12.13, 2.7), size=14)


def y_roadmap(b: DeckBuilder, d: DeckData) -> None:
    slide = b.slide(t("deck_y6_title"))
    top = "、".join(name for name, _ in d.domains[:3]) or t("deck_unclassified")
    uncovered = max(d.total_municipalities - len({m.code for m in d.municipalities}), 0)
    rows = [
        [t("deck_y6_short"), t("deck_y6_short_text", overdue=d.reports["overdue"], top=top)],
        [t("deck_y6_mid"), t("deck_y6_mid_text", n=uncovered)],
        [t("deck_y6_long"), t("deck_y6_long_text")],
    ]
    b.table(
        slide,
        [t("deck_col_horizon"), t("deck_col_actions")],
        rows,
        Box(0.6, 1.35, 12.13, 3.2),
        widths=(1.6, 8),
        size=13,
    )
    b.text(
        slide, [short(x, 110) for x in next_step_lines(d)][:4], Box(0.6, 4.8, 12.13, 2.1), size=14
    )


def y_proposals(b: DeckBuilder, d: DeckData) -> None:
    slide = b.slide(t("deck_y7_title"))
    top = "、".join(name for name, _ in d.domains[:3]) or t("deck_unclassified")
    avg = num(d.survey.average, 2) if d.survey.average is not None else "－"
    lines = [
        t("deck_y7_domains", top=top),
        t("deck_y7_pool", n=len(d.experts.experts)),
        t("deck_y7_joint", n=len(d.joint)) if d.joint else t("deck_y7_joint_none"),
        t("deck_y7_survey", avg=avg, n=d.survey.answered),
        t("deck_y7_reports"),
    ]
    b.text(slide, lines, size=16)


# --- outlines ---------------------------------------------------------------------------------------

GENERIC: tuple[SlideFn, ...] = (
    slide_overview,
    slide_kpi,
    slide_trend,
    slide_domains,
    slide_municipalities,
    slide_experts,
    slide_highlights,
    slide_issues,
    slide_survey,
    slide_next,
    slide_appendix,
)

MONTHLY: tuple[SlideFn, ...] = (slide_month_summary, *GENERIC[1:])


def _titled(fn: Callable[[DeckBuilder, DeckData, str], None], key: str) -> SlideFn:
    return lambda b, d: fn(b, d, key)


YAMAGATA: tuple[SlideFn, ...] = (
    y_purpose,
    _titled(slide_kpi, "deck_y2_kpi_title"),
    _titled(slide_trend, "deck_y2_trend_title"),
    _titled(slide_domains, "deck_y2_domains_title"),
    _titled(slide_municipalities, "deck_y2_munis_title"),
    _titled(slide_highlights, "deck_y2_effects_title"),
    _titled(slide_survey, "deck_y2_survey_title"),
    y_pool,
    y_collaboration,
    y_structure,
    y_roadmap,
    y_proposals,
    slide_appendix,
)

COMPLETION_OUTLINES: dict[str, tuple[tuple[SlideFn, ...], tuple[str, ...]]] = {
    "yamagata-2026": (
        YAMAGATA,
        (
            "deck_y1_title",
            "deck_y2_title",
            "deck_y3_title",
            "deck_y4_title",
            "deck_y5_title",
            "deck_y6_title",
            "deck_y7_title",
            "deck_appendix_title",
        ),
    ),
}
GENERIC_CONTENTS = (
    "deck_overview_title",
    "deck_kpi_title",
    "deck_trend_title",
    "deck_domains_title",
    "deck_munis_title",
    "deck_experts_title",
    "deck_highlights_title",
    "deck_issues_title",
    "deck_survey_title",
    "deck_next_title",
    "deck_appendix_title",
)


def build_deck(d: DeckData) -> tuple[bytes, int]:
    """The .pptx bytes and the slide count: the title slide, then the outline of the kind (and
    of the program, for a completion report)."""
    b = DeckBuilder()
    slide_title(b, d)
    if d.kind == "completion":
        outline, contents = COMPLETION_OUTLINES.get(d.profile.id, (GENERIC, GENERIC_CONTENTS))
        slide_contents(b, d, [t(k) for k in contents])
        slides = outline
    elif d.kind == "monthly":
        slides = MONTHLY
    else:
        slides = GENERIC
    for fn in slides:
        fn(b, d)
    return b.finish(d.profile.name), len(b.slides)


@dataclass(frozen=True)
class DeckFile:
    name: str
    content: bytes
    title: str
    slides: int
    content_type: str = PPTX


def deck_file(d: DeckData) -> DeckFile:
    """Build the deck and name it after the program, the kind and the period."""
    content, slides = build_deck(d)
    start, end = d.period.start.strftime("%Y%m%d"), d.period.end.strftime("%Y%m%d")
    return DeckFile(
        name=f"{d.profile.id}_{d.kind}_{start}-{end}.pptx",
        content=content,
        title=t("deck_file_title", kind=t(f"deck_kind_{d.kind}"), period=period_text(d)),
        slides=slides,
    )
