"""The table measure gives exactly what its definition gives: the slides' row heights and
column widths are decided by it, so a faster way of computing it must not move a single row.

The reference below is the measure written as the module's docstrings state it (each token's
width from its characters' advances, the autospace at each change between wide and narrow
characters, greedy wrapping token by token); the module computes the same with lookups and
shortcuts. The texts are the kinds a deck's cells hold: Japanese sentences, municipality and
track names, dates, counts, case numbers, URLs, mixed Japanese and Latin, spaces of both widths,
half-width kana, explicit newlines.
"""

from __future__ import annotations

import itertools
import random

from reports.deck import tables

TEXTS = (
    "",
    " ",
    "－",
    "山形市",
    "伴走支援（電子申請・業務改革）",
    "現状を整理し、他団体の事例を紹介して進め方を助言した",
    "庁内の合意形成　担当者の不足　予算の確保",
    "2026/04/01 10:00",
    "12件",
    "1,234",
    "YMG-2026-0012",
    "https://example.lg.jp/dx/guide/very-long-path-without-any-break-at-all.html",
    "RPAとAI-OCRの導入（kintone・LoGoフォーム）を検討",
    "ﾊﾝｶｸｶﾀｶﾅ と Latin words mixed",
    "第1回：BPR step 0 → step 3、KPI 80%達成",
    "次回までに業務フローを整理する\n担当: 総務課 DX推進係",
    "é à ü — “quoted” ‘text’ … ★☆ ①②",
    "a",
    "W" * 40,
    "A very long English sentence about the digital transformation of municipal services.",
    "tab\tseparated\tcells",
    "  leading and trailing  ",
    "市町村職員（情報政策課）2名、専門家1名：オンライン",
)


def _em(c: str) -> float:
    """One character's advance: the module's own rule (what is under test is how the module
    sums, wraps and caches it, not the per-character table itself)."""
    return tables._measure(c)


def _wide(c: str) -> bool:
    return _em(c) == 1.0


def ref_text_em(text: str) -> float:
    width = sum(_em(c) for c in text)
    changes = sum(
        1
        for a, b in itertools.pairwise(text)
        if not a.isspace() and not b.isspace() and _wide(a) != _wide(b)
    )
    return width + changes * tables.AUTOSPACE_EM


def ref_lines_needed(text: str, width_em: float) -> int:
    width_em = max(width_em, 1.0)
    total = 0
    for para in text.split("\n"):
        lines, used, last = 1, 0.0, ""
        for token in tables._WORD.findall(para):
            w = ref_text_em(token)
            if token.isspace():
                used += w
                last = ""
                continue
            if last and _wide(last) != _wide(token[0]):
                w += tables.AUTOSPACE_EM
            last = token[-1]
            if used + w <= width_em:
                used += w
                continue
            if w <= width_em:
                lines, used = lines + 1, w
                continue
            for c in token:
                cw = _em(c)
                if used + cw > width_em:
                    lines, used = lines + 1, 0.0
                used += cw
        total += lines
    return total


def ref_longest_word(cells: list[str]) -> float:
    return max(
        (ref_text_em(w) for c in cells for w in tables._WORD.findall(c) if not w.isspace()),
        default=1,
    )


def _texts() -> list[str]:
    """The texts above, and random joins of their pieces (deterministic)."""
    rng = random.Random(15)
    pieces = [p for text in TEXTS for p in tables._WORD.findall(text)] or [""]
    made = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 60))) for _ in range(400)]
    return [*TEXTS, *made]


def test_width_of_a_line_is_the_definitions() -> None:
    for text in _texts():
        assert tables.text_em(text) == ref_text_em(text), text


def test_lines_of_a_wrapped_text_are_the_definitions() -> None:
    widths = (0.5, 1.0, 2.5, 4.0, 7.3, 10.0, 12.62, 20.0, 33.3, 60.0)
    for text in _texts():
        for width in widths:
            assert tables.lines_needed(text, width) == ref_lines_needed(text, width), (text, width)


def test_a_text_exactly_one_line_wide_is_measured_as_the_definition() -> None:
    """At the edge of the shortcut (a paragraph just about one line wide) the walk decides."""
    for text in _texts():
        width = ref_text_em(text)
        for w in (width, width - 1e-9, width + 1e-9, width - 1e-5, width + 1e-5):
            assert tables.lines_needed(text, w) == ref_lines_needed(text, w), (text, w)


def test_column_floor_is_the_longest_word_of_the_definition() -> None:
    rng = random.Random(7)
    texts = _texts()
    for _ in range(300):
        cells = rng.sample(texts, rng.randint(1, 8))
        assert tables._longest_word("\n".join(cells)) == ref_longest_word(cells), cells
    assert tables._longest_word("  \n ") == 1
