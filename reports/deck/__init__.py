"""PowerPoint decks built from the data (python-pptx): 16:9, native editable charts and tables,
Japanese text with an East Asian font, and never an empty placeholder.

Kinds:

- ``summary`` — any period: overview, KPIs against targets, monthly trend, domains,
  municipalities, expert utilisation and fairness, highlights, issues and learnings, survey,
  next steps, and an appendix table of every session of the period.
- ``monthly`` — 月例業務報告: the same for one month, opening with the month's figures.
- ``completion`` — 事業完了報告 (≥ 10 body slides): a contents slide, then the outline the
  profile declares (``completion_report``: sections of known kinds, e.g. Yamagata's §3(3) ①–⑦);
  a profile that declares none gets the generic outline.

The package, by concern: ``data`` (what the deck reads from the store), ``narrative`` (the
sentences), ``builder`` (python-pptx building blocks and the East Asian font), ``slides`` (the
generic slides), ``sections`` (each section kind a profile may name, mapped to its slide),
``outlines`` (which sections for which kind, the profile's completion outline, the file).
"""

from reports.deck import lazy_pillow  # noqa: F401  # before python-pptx: see the module

# isort: split
from reports.deck.builder import FONT, DeckBuilder
from reports.deck.data import (
    KINDS,
    DeckData,
    DeckKind,
    Highlight,
    MuniLine,
    default_period,
    load_deck_data,
    month_period,
)
from reports.deck.narrative import (
    Narrative,
    NarrativeLLM,
    highlight_lines,
    issue_lines,
    narrate,
    next_step_lines,
)
from reports.deck.outlines import PPTX, DeckFile, build_deck, deck_file

__all__ = [
    "FONT",
    "KINDS",
    "PPTX",
    "DeckBuilder",
    "DeckData",
    "DeckFile",
    "DeckKind",
    "Highlight",
    "MuniLine",
    "Narrative",
    "NarrativeLLM",
    "build_deck",
    "deck_file",
    "default_period",
    "highlight_lines",
    "issue_lines",
    "load_deck_data",
    "month_period",
    "narrate",
    "next_step_lines",
]
