"""The ``engagements`` section: per engagement track, the municipalities engaged against those
the profile expects, each one's theme, goal (取組目標) and stage, and the municipalities the track
serves that are not yet served — what a prefecture reads to see whether Kumamoto's 8 BPR
municipalities or Nagano's 25 are all under way. Tables and text only (no chart), so a deck's
charts stay what its other slides draw.

The summary deck shows it after the municipalities for a program with engagement tracks
(``with_engagements``); a completion outline may name it like any section kind.
"""

from __future__ import annotations

from bot.core.catalog import t
from reports.deck.builder import TOP_NOTE, Box, DeckBuilder
from reports.deck.data import DeckData
from reports.deck.slides import short
from reports.engagement_view import names_with_more
from reports.plan_doc import stage_label
from store.engagements import TrackEngagements
from store.profiles import ReportSection

ROWS = 10
MAX_PAGES = 3
NOT_SERVED_NAMES = 12
TABLE = Box(0.6, 1.95, 12.13, 4.2)
BOTTOM = Box(0.6, 6.2, 12.13, 0.8)


def _rows(d: DeckData, item: TrackEngagements) -> list[list[str]]:
    return [
        [
            e.municipality_name,
            short(e.theme, 30) or "－",
            short(e.goal, 44) or t("plan_goal_unset"),
            short(stage_label(d.profile, e.stage), 20),
        ]
        for e in item.engaged
    ]


def _track_slides(b: DeckBuilder, d: DeckData, title: str, item: TrackEngagements) -> None:
    rows = _rows(d, item)
    pages = [rows[i : i + ROWS] for i in range(0, len(rows), ROWS)][:MAX_PAGES] or [[]]
    summary = t(
        "deck_engagements_summary",
        track=short(item.track_name, 40),
        engaged=len(item.engaged),
        expected=item.expected,
    )
    # An officer's deck is their own municipality's: no list of the others.
    names = [n for _, n in item.not_served] if not d.scope_label else []
    for n, page in enumerate(pages, start=1):
        suffix = t("deck_page", page=n, pages=len(pages)) if len(pages) > 1 else ""
        slide = b.slide(title + suffix)
        b.text(slide, [summary], TOP_NOTE, size=14, bullet=False)
        if page:
            b.table(
                slide,
                [
                    t(f"deck_engagements_col_{k}")
                    for k in ("municipality", "theme", "goal", "stage")
                ],
                page,
                TABLE,
                widths=(1.6, 3.2, 4.6, 2.6),
                size=11,
            )
        else:
            b.text(slide, [t("deck_engagements_none")], TABLE, size=16)
        if names:
            text = t(
                "deck_engagements_not_served",
                n=len(names),
                names=names_with_more(names, NOT_SERVED_NAMES),
            )
            b.text(slide, [text], BOTTOM, size=11, bullet=False)


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
