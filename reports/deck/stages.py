"""The ``stages`` section: the municipality × stage table of a program with a stage model
(Nagano's steps 0–3 with a KPI each, Kumamoto's BPR process), ○ reached with the KPI met, △
reached with the KPI not met yet or not asked, — not reached; with the count per stage on top
and the stages' names as the key below. A table only (no chart).

The summary deck shows it after the engagements for a program with a stage model
(``with_stages``); a completion outline may name it like any section kind.
"""

from __future__ import annotations

from pptx.slide import Slide

from bot.core.catalog import t
from reports.deck.builder import TOP_NOTE, Box, DeckBuilder
from reports.deck.data import DeckData
from reports.stages import StageMatrix
from store.profiles import ReportSection

TABLE = Box(0.6, 1.95, 12.13, 4.0)
KEY = Box(0.6, 6.0, 12.13, 1.0)


def _rows(m: StageMatrix, several_tracks: bool, track_names: dict[str, str]) -> list[list[str]]:
    out = []
    for r in m.rows:
        name = r.municipality_name
        if several_tracks:
            name += f"（{track_names.get(r.track_id, r.track_id)}）"
        current = t("stage_label", number=r.stage, name="").strip() if r.stage is not None else "－"
        marks = [c.mark(st) for c, st in zip(r.cells, m.model.stages, strict=True)]
        out.append([name, current, *marks])
    return out


def slide_stages(b: DeckBuilder, d: DeckData, title: str) -> None:
    """The matrix over a few pages of ``ROWS`` municipalities (the rest counted, not drawn)."""
    m = d.stages
    if m is None:
        b.text(b.slide(title), [t("stage_no_model")])
        return
    several = len({r.track_id for r in m.rows}) > 1
    rows = _rows(m, several, {tr.id: tr.label for tr in d.profile.tracks})
    counts = "　".join(
        t("deck_stages_count", number=c.stage.number, reached=c.reached, met=c.kpi_met)
        for c in m.counts
    )
    key = "／".join(t("stage_label", number=st.number, name=st.name) for st in m.model.stages)
    headers = [
        t("deck_stages_municipality"),
        t("deck_stages_current"),
        *(t("stage_label", number=st.number, name="").strip() for st in m.model.stages),
    ]
    summary = [t("deck_stages_summary", model=m.model.name, total=len(m.rows)), counts]

    def decorate(slide: Slide, n: int, pages: int) -> None:
        b.text(slide, summary, TOP_NOTE, size=11, bullet=False)
        b.text(slide, [t("deck_stages_legend"), key], KEY, size=9, bullet=False)

    if not rows:
        slide = b.slide(title)
        b.text(slide, [t("deck_stages_none")], TABLE, size=16)
        decorate(slide, 1, 1)
        return
    b.paged_table(title, headers, rows, TABLE, size=11, decorate=decorate)


def with_stages(d: DeckData, sections: tuple[ReportSection, ...]) -> tuple[ReportSection, ...]:
    """The summary deck's outline with the stage matrix after the engagements (else after the
    municipalities), for a program with a stage model whose outline does not show it already."""
    if d.profile.stage_model is None:
        return sections
    if any(p.content == "stages" for s in sections for p in s.pages):
        return sections
    section = ReportSection(id="stages", title=t("deck_stages_title"), content="stages")
    after = [
        i + 1 for i, s in enumerate(sections) if s.content in ("engagements", "municipalities")
    ]
    at = max(after) if after else len(sections)
    return (*sections[:at], section, *sections[at:])
