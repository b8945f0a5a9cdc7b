"""The ``engagements`` section: per engagement track, the municipalities engaged against those
the profile expects, each one's theme, goal (取組目標) and stage, and the municipalities the track
serves that are not yet served — what a prefecture reads to see whether Kumamoto's 8 BPR
municipalities or Nagano's 25 are all under way. Tables and text only (no chart), so a deck's
charts stay what its other slides draw.

The summary deck shows it after the municipalities for a program with engagement tracks
(``with_engagements``); a completion outline may name it like any section kind.
"""

from __future__ import annotations

from pptx.slide import Slide

from bot.core.catalog import t
from reports.deck.builder import TOP_NOTE, Box, DeckBuilder
from reports.deck.data import DeckData
from reports.engagement_view import names_with_more, stage_label
from store.engagements import TrackEngagements
from store.profiles import ReportSection

NOT_SERVED_NAMES = 12
TABLE = Box(0.6, 1.95, 12.13, 4.2)
BOTTOM = Box(0.6, 6.2, 12.13, 0.8)


def _rows(d: DeckData, item: TrackEngagements) -> list[list[str]]:
    return [
        [
            e.municipality_name,
            e.theme or "－",
            e.goal or t("plan_goal_unset"),
            stage_label(d.profile, e.stage),
        ]
        for e in item.engaged
    ]


def _track_slides(b: DeckBuilder, d: DeckData, title: str, item: TrackEngagements) -> None:
    rows = _rows(d, item)
    summary = t(
        "deck_engagements_summary",
        track=item.track_name,
        engaged=len(item.engaged),
        expected=item.expected,
    )
    # An officer's deck is their own municipality's: no list of the others.
    names = [n for _, n in item.not_served] if not d.scope_label else []

    def decorate(slide: Slide, n: int, pages: int) -> None:
        b.text(slide, [summary], TOP_NOTE, size=14, bullet=False)
        if names:
            text = t(
                "deck_engagements_not_served",
                n=len(names),
                names=names_with_more(names, NOT_SERVED_NAMES),
            )
            b.text(slide, [text], BOTTOM, size=11, bullet=False)

    if not rows:
        slide = b.slide(title)
        b.text(slide, [t("deck_engagements_none")], TABLE, size=16)
        decorate(slide, 1, 1)
        return
    b.paged_table(
        title,
        [t(f"deck_engagements_col_{k}") for k in ("municipality", "theme", "goal", "stage")],
        rows,
        TABLE,
        size=11,
        decorate=decorate,
    )


def slide_engagements(b: DeckBuilder, d: DeckData, title: str) -> None:
    """One slide (or a few pages) per engagement track."""
    if not d.engagements:
        b.text(b.slide(title), [t("deck_engagements_none")])
        return
    for item in d.engagements:
        _track_slides(b, d, title, item)


def with_engagements(d: DeckData, sections: tuple[ReportSection, ...]) -> tuple[ReportSection, ...]:
    """The summary deck's outline with the engagements after the municipalities, for a program
    whose profile has engagement tracks (and an outline that does not show them already)."""
    if not any(tr.expected_municipalities for tr in d.profile.tracks):
        return sections
    if any(p.content == "engagements" for s in sections for p in s.pages):
        return sections
    section = ReportSection(
        id="engagements", title=t("deck_engagements_title"), content="engagements"
    )
    at = next(
        (i + 1 for i, s in enumerate(sections) if s.content == "municipalities"), len(sections)
    )
    return (*sections[:at], section, *sections[at:])
