"""The deck's sentences: highlights, issues and next steps, built from the data; when an LLM is
configured, ``narrate`` may supply better-worded ones (personal names masked by the LLM port),
and the data-built ones remain the fallback."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from pydantic import BaseModel, Field

from bot.core.catalog import t
from reports.deck.data import UPCOMING_DAYS, DeckData

# --- narrative --------------------------------------------------------------------------------------


class Narrative(BaseModel):
    """Sentences an LLM may word better; each list replaces the data-built one when not empty."""

    highlights: list[str] = Field(default_factory=list, max_length=6)
    issues: list[str] = Field(default_factory=list, max_length=6)
    next_steps: list[str] = Field(default_factory=list, max_length=6)


class NarrativeLLM(Protocol):
    enabled: bool

    async def extract(
        self, instructions: str, text: str, schema: type[Narrative], names: Iterable[str] = ()
    ) -> Narrative | None: ...


async def narrate(llm: NarrativeLLM, data: DeckData, names: Iterable[str]) -> Narrative | None:
    """Ask the LLM port for better-worded sentences from the data-built ones; None when it is
    off, slow or wrong (the deck then uses the data-built sentences)."""
    if not getattr(llm, "enabled", False):
        return None
    facts = "\n".join(
        [
            t("deck_llm_section_highlights"),
            *highlight_lines(data),
            t("deck_llm_section_issues"),
            *issue_lines(data),
            t("deck_llm_section_next"),
            *next_step_lines(data),
        ]
    )
    result = await llm.extract(t("deck_llm_instructions"), facts, Narrative, names)
    if result is None:
        return None
    cleaned = Narrative(
        highlights=[x.strip()[:160] for x in result.highlights if x.strip()],
        issues=[x.strip()[:160] for x in result.issues if x.strip()],
        next_steps=[x.strip()[:160] for x in result.next_steps if x.strip()],
    )
    return cleaned if (cleaned.highlights or cleaned.issues or cleaned.next_steps) else None


# --- sentences from the data ------------------------------------------------------------------------


def num(value: float, digits: int = 1) -> str:
    """A figure as people write it: 1.5, 2 (not 2.0), 0, 60 (digits=0)."""
    text = f"{value:.{digits}f}"
    if digits:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def highlight_lines(d: DeckData) -> list[str]:
    if d.narrative and d.narrative.highlights:
        return d.narrative.highlights
    if not d.highlights:
        return [t("deck_no_highlights")]
    return [
        t("deck_highlight", municipality=h.municipality, domain=h.domain, effect=h.text)
        for h in d.highlights
    ]


def issue_lines(d: DeckData) -> list[str]:
    if d.narrative and d.narrative.issues:
        return d.narrative.issues
    lines = [
        t("deck_issue_category", category=g.category, n=g.n, example=g.example) for g in d.issues
    ]
    submitted = d.reports["on_time"] + d.reports["late"]
    if submitted or d.reports["overdue"]:
        rate = d.reports["on_time"] / (submitted + d.reports["overdue"]) * 100
        lines.append(
            t(
                "deck_issue_reports",
                on_time=d.reports["on_time"],
                late=d.reports["late"],
                overdue=d.reports["overdue"],
                rate=num(rate),
            )
        )
    behind = [tp.name for tp in d.tracks if tp.state == "behind"]
    if behind:
        lines.append(t("deck_issue_behind", names="、".join(behind)))
    not_yet = d.survey.by_resolved.get("not_yet", 0)
    if not_yet:
        lines.append(t("deck_issue_unresolved", n=not_yet))
    if d.experts.experts and d.experts.maximum - d.experts.minimum >= 3:
        lines.append(t("deck_issue_fairness", max=d.experts.maximum, min=d.experts.minimum))
    return lines or [t("deck_no_issues")]


def next_step_lines(d: DeckData) -> list[str]:
    if d.narrative and d.narrative.next_steps:
        return d.narrative.next_steps
    lines = []
    for tp in d.tracks:
        if tp.goal is None or tp.state == "achieved":
            continue
        if tp.pace_needed is not None:
            lines.append(
                t(
                    "deck_next_track",
                    name=tp.name,
                    remaining=tp.remaining,
                    days=d.clock.remaining,
                    pace=num(tp.pace_needed * 5),
                )
            )
    # Over the term, not the period; the 相談窓口 is proposed only to a program that has one.
    uncovered = d.total_municipalities - len({m.code for m in d.figures.municipalities if m.held})
    if d.scope_label == "" and uncovered > 0:
        desk = any(tr.kind == "consultation" for tr in d.profile.tracks)
        lines.append(t("deck_next_uncovered" if desk else "deck_next_uncovered_term", n=uncovered))
    if d.upcoming:
        lines.append(t("deck_next_upcoming", n=len(d.upcoming), days=UPCOMING_DAYS))
    if d.reports["overdue"]:
        lines.append(t("deck_next_overdue", n=d.reports["overdue"]))
    return lines or [t("deck_next_none")]
