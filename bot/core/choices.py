"""The one reader of answers to a numbered question.

On LoGo Chat and the console a question's choices are shown as numbered text, and people answer
by typing: the number (``1``, ``１``, ``1.``, ``1番``) or the label as shown, often typed with a
Japanese keyboard (full-width letters, hiragana for a katakana label, a trailing 「。」). Every
conversation asks its numbered questions through :func:`match`, so they all accept the same
variants and, when nothing matches, say the same thing: one sentence naming what is accepted.

Pure: no I/O, no state; the catalogue gives the sentence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.core.catalog import t
from bot.core.messages import Outbound

# Said after an answer often enough that it should not make a label unrecognisable.
_TRAILING = "。.!?、,"
_NUMBER_RE = re.compile(r"(\d{1,4})\s*(?:\.|番)?")
# Hiragana (ぁ..ゖ) to the katakana 0x60 code points above, so 「はい」 equals 「ハイ」.
_HIRA_TO_KATA = {c: c + 0x60 for c in range(0x3041, 0x3097)}

Option = tuple[str, str]
"""(label shown, value returned)."""

NoMatchReason = Literal["empty", "out_of_range", "ambiguous", "unknown"]


class Labelled(Protocol):
    """Anything shown as a choice (``bot.core.messages.Choice``)."""

    @property
    def label(self) -> str: ...

    @property
    def value(self) -> str: ...


@dataclass(frozen=True)
class Chosen:
    value: str
    number: int
    """1-based position of the choice, as it was shown."""


@dataclass(frozen=True)
class NoMatch:
    reason: NoMatchReason
    hint: str
    """One polite sentence saying what is accepted."""

    @property
    def meant_a_choice(self) -> bool:
        """A number out of range or a text naming two choices was surely meant as a choice
        (not as a free answer some flows also take), so the hint is the whole reply."""
        return self.reason in ("out_of_range", "ambiguous")


def options(choices: Iterable[Labelled]) -> list[Option]:
    return [(c.label, c.value) for c in choices]


def fold(text: str) -> str:
    """The form two spellings of one label share: NFKC (full-width → half-width, half-width
    katakana → full-width), no whitespace, no trailing 「。」「！」, Latin case-folded, hiragana
    as katakana."""
    s = "".join(unicodedata.normalize("NFKC", text).split()).rstrip(_TRAILING)
    return s.casefold().translate(_HIRA_TO_KATA)


def number_of(text: str) -> int | None:
    """The number typed as an answer (``1``, ``１``, `` 2. ``, ``3番``), or None."""
    s = unicodedata.normalize("NFKC", text).strip().rstrip("。!")
    m = _NUMBER_RE.fullmatch(s)
    return int(m.group(1)) if m else None


def hint_for(choices: Sequence[Option] | Sequence[Labelled]) -> str:
    """What the question accepts, in one sentence with its first label as the example."""
    opts = _as_options(choices)
    if not opts:
        return t("not_understood")
    if len(opts) == 1:
        return t("choice_hint_one", example=opts[0][0])
    return t("choice_hint", count=len(opts), example=opts[0][0])


def ask_again(question: Outbound) -> list[Outbound]:
    """The reply to an answer a flow cannot use at a numbered question: the hint, then the
    question again (so its numbers are on screen once more)."""
    return [Outbound(text=hint_for(question.choices)), question]


def match(choices: Sequence[Option] | Sequence[Labelled], text: str) -> Chosen | NoMatch:
    """The choice ``text`` names, by its number, its label or one of its aliases, or why none
    does."""
    opts = _as_options(choices)
    if not text.strip():
        return NoMatch("empty", hint_for(opts))
    found: dict[str, int] = {}
    number = number_of(text)
    if number is not None:
        if not 1 <= number <= len(opts):
            return NoMatch("out_of_range", hint_for(opts))
        found[opts[number - 1][1]] = number
    typed = fold(text)
    for i, ((label, value), aliases) in enumerate(zip(opts, _aliases(choices), strict=True), 1):
        if typed in (fold(label), *(fold(a) for a in aliases)):
            found.setdefault(value, i)
    if not found and number is None:
        found = _loosely(opts, typed)
    if len(found) > 1:
        return NoMatch("ambiguous", hint_for(opts))
    if not found:
        return NoMatch("unknown", hint_for(opts))
    ((value, position),) = found.items()
    return Chosen(value, position)


_HONORIFICS = tuple(fold(w) for w in ("さん", "様", "さま", "氏", "先生"))
_NOTE_RE = re.compile(r"[（(][^）)]*[）)]")


def _core(label: str) -> str:
    """A label without its bracketed note: 「3（ふつう）」 → 「3」, 「承認する（推奨）」 → 「承認する」."""
    return fold(_NOTE_RE.sub("", unicodedata.normalize("NFKC", label)))


def _loosely(opts: Sequence[Option], typed: str) -> dict[str, int]:
    """The choice a typed word names less exactly: a person's name with さん or without its
    spacing, the label without its bracketed note or only the note (「ふつう」), or the start
    of one label only (「小林」 for 「小林 大輔」, at least two characters)."""
    for suffix in _HONORIFICS:
        if typed.endswith(suffix) and len(typed) > len(suffix):
            typed = typed.removesuffix(suffix)
            break
    if not typed:
        return {}
    found: dict[str, int] = {}
    for i, (label, value) in enumerate(opts, start=1):
        notes = [fold(n[1:-1]) for n in _NOTE_RE.findall(unicodedata.normalize("NFKC", label))]
        if typed in (fold(label), _core(label), *notes):
            found.setdefault(value, i)
    if found or len(typed) < 2:
        return found
    for i, (label, value) in enumerate(opts, start=1):
        if fold(label).startswith(typed) or _core(label).startswith(typed):
            found.setdefault(value, i)
    return found


def _as_options(choices: Sequence[Option] | Sequence[Labelled]) -> list[Option]:
    return [c if isinstance(c, tuple) else (c.label, c.value) for c in choices]


def _aliases(choices: Sequence[Option] | Sequence[Labelled]) -> list[tuple[str, ...]]:
    """Each choice's other words (``Choice.aliases``), matched whole like its label."""
    return [() if isinstance(c, tuple) else tuple(getattr(c, "aliases", ())) for c in choices]
