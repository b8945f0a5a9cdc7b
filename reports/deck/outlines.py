"""The outlines: which slides, in which order, for each kind of deck — and the deck file itself.

``summary`` and ``monthly`` use the generic outline (the monthly one opens with the month's
figures). A ``completion`` report (事業完了報告, ≥ 10 body slides) opens with a contents slide
and follows the outline its profile declares (``completion_report``: sections of known kinds,
e.g. Yamagata's §3(3) ①–⑦); a program whose profile declares none gets the generic outline.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.catalog import t
from reports.deck.builder import DeckBuilder
from reports.deck.data import DeckData
from reports.deck.engagements import with_engagements
from reports.deck.events import with_events
from reports.deck.sections import draw
from reports.deck.slides import period_text, slide_contents, slide_month_summary, slide_title
from reports.deck.stages import with_stages
from store.profiles import ReportSection, SectionKind

PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

# The generic outline: each section's kind and the catalogue key of its title.
GENERIC: tuple[tuple[SectionKind, str], ...] = (
    ("overview", "deck_overview_title"),
    ("kpis", "deck_kpi_title"),
    ("monthly_trend", "deck_trend_title"),
    ("domains", "deck_domains_title"),
    ("municipalities", "deck_munis_title"),
    ("experts", "deck_experts_title"),
    ("highlights", "deck_highlights_title"),
    ("issues", "deck_issues_title"),
    ("surveys", "deck_survey_title"),
    ("next_steps", "deck_next_title"),
    ("sessions_appendix", "deck_appendix_title"),
)


def generic_outline() -> tuple[ReportSection, ...]:
    return tuple(ReportSection(id=kind, title=t(key), content=kind) for kind, key in GENERIC)


def outline(d: DeckData) -> tuple[ReportSection, ...]:
    """The sections of the deck after its title slide (a monthly deck's month figures aside)."""
    if d.kind == "monthly":
        if d.profile.monthly_report is not None:  # the program's 月次報告 contents
            return d.profile.monthly_report.sections
        return generic_outline()[1:]  # the month's figures replace the overview
    declared = d.profile.completion_report if d.kind == "completion" else None
    if declared is not None:
        return declared.sections
    if d.kind == "summary":
        return with_events(d, with_stages(d, with_engagements(d, generic_outline())))
    return with_events(d, generic_outline())  # a completion deck without a declared outline


def build_deck(d: DeckData) -> tuple[bytes, int]:
    """The .pptx bytes and the slide count: the title slide, then the outline of the kind (and
    of the program, for a completion report, listed on a contents slide)."""
    b = DeckBuilder()
    slide_title(b, d)
    sections = outline(d)
    if d.kind == "completion":
        slide_contents(b, d, [s.title for s in sections])
    elif d.kind == "monthly":
        slide_month_summary(b, d)
    for section in sections:
        for page in section.pages:
            draw(b, d, page)
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
