"""Tables that never run off a slide: each cell's text is measured (full-width Japanese one em
a character, half-width Latin about 0.6 em, greedy wrapping at the column's width, Latin words
kept whole), so each row's height is known before the slide is drawn; the columns are sized to
their content; numbers are right-aligned; and the rows are split over as many slides as their
measured heights need, the header repeated on each.

The measure is deliberately generous (LibreOffice and PowerPoint grow a row to fit its text, so
a row measured too short would push the table over the footer): line height 1.5 em (Noto Sans
CJK's line is 1.45 em; Yu Gothic's a little less), the cell margins the builder writes.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pptx.slide import Slide

from bot.core.catalog import t

PT_PER_IN = 72.0
LINE_EM = 1.5  # line height in em
CELL_PAD_X_PT = 7.2 * 2  # the default left and right cell margins (0.1 in each)
CELL_PAD_Y_PT = 2.16 * 2 + 1.5  # the builder's top and bottom margins (0.03 in) and a hair
NUMERIC = re.compile(r"^[-－+]?[\d,.]+\s*(%|％|h|時間|件|回|人|日)?$|^[－—-]$")
_LATIN = re.compile(r"[A-Za-z0-9@#$%&*+=/._:;'\"()\[\]<>-]+")  # a word kept whole
_WORD = re.compile(rf"{_LATIN.pattern}|\s+|.", re.S)  # the tokens wrapping goes by


def _measure(c: str) -> float:
    """A character's advance in em, a little generous (DejaVu/Noto metrics)."""
    if unicodedata.east_asian_width(c) in ("W", "F", "A"):
        return 1.0
    if c == " ":
        return 0.32
    if c.isupper() or c in "@%&#MW":
        return 0.75
    if c.isdigit():
        return 0.64
    if c in ".,:;'|!il()[]":
        return 0.36
    return 0.62


class _Chars(dict[str, tuple[float, bool, bool]]):
    """Each character met so far: (advance in em, wide, whitespace), measured on first use.
    Japanese text is one token a character, so the measure runs per character in a deck's
    tables; a dictionary lookup keeps that cheap (unicodedata and the generic sums per
    character were a third of a large deck's build)."""

    def __missing__(self, c: str) -> tuple[float, bool, bool]:
        em = _measure(c)
        self[c] = got = (em, em == 1.0, c.isspace())
        return got


class _Kinds(dict[int, str]):
    """``str.translate`` table: each character as W (wide), N (narrow) or S (whitespace), so
    that the changes between Japanese and Latin text are counted by ``str.count``."""

    def __missing__(self, code: int) -> str:
        _, wide, space = _CHARS[chr(code)]
        self[code] = kind = "S" if space else "W" if wide else "N"
        return kind


class _Ems(dict[str, float]):
    """Each character's advance alone, for ``sum(map(...))`` over a whole line."""

    def __missing__(self, c: str) -> float:
        self[c] = em = _CHARS[c][0]
        return em


_CHARS = _Chars()
_KINDS = _Kinds()
_EMS = _Ems()


def char_em(c: str) -> float:
    """A character's advance in em: full-width (and ambiguous-width) 1, half-width Latin
    0.32–0.75 by letter shape."""
    return _CHARS[c][0]


AUTOSPACE_EM = 0.25  # LibreOffice's space between Japanese and Latin text, at each change


def text_em(text: str) -> float:
    """The text's width on one line, in em: its characters' advances plus the autospace at
    each change between wide and narrow characters (whitespace between them: no change)."""
    width = sum(map(_EMS.__getitem__, text))
    kinds = text.translate(_KINDS)
    changes = kinds.count("WN") + kinds.count("NW")
    return width + changes * AUTOSPACE_EM


# The greedy sum below adds word by word, text_em character by character: the two can differ
# in the last bits, so a paragraph is taken as one line without the walk only well inside it.
_SURELY = 1e-6


def lines_needed(text: str, width_em: float) -> int:
    """Lines the text takes in a box ``width_em`` wide: greedy wrapping, Latin words whole (a
    word wider than a line is broken anywhere), Japanese anywhere, explicit newlines kept."""
    width_em = max(width_em, 1.0)
    chars = _CHARS
    total = 0
    for para in text.split("\n") or [""]:
        if text_em(para) < width_em - _SURELY:  # one line, whatever the order of the sums
            total += 1
            continue
        lines, used, last = 1, 0.0, None  # last: the previous word's last character is wide
        for token in _WORD.findall(para):
            if len(token) == 1:  # a Japanese character, a space, a one-letter word
                w, first, space = chars[token]
                end = first
            else:
                w, space = text_em(token), token.isspace()
                first, end = chars[token[0]][1], chars[token[-1]][1]
            if space:
                used += w
                last = None
                continue
            if last is not None and last != first:
                w += AUTOSPACE_EM
            last = end
            if used + w <= width_em:
                used += w
                continue
            if w <= width_em:
                lines, used = lines + 1, w
                continue
            for c in token:  # longer than a line: broken anywhere
                cw = chars[c][0]
                if used + cw > width_em:
                    lines, used = lines + 1, 0.0
                used += cw
        total += lines
    return total


def text_height_pt(lines: Sequence[str], width_pt: float, size: float, gap_pt: float = 0) -> float:
    """The height of paragraphs of ``size`` pt in a text box ``width_pt`` wide (inner width)."""
    return sum(lines_needed(x, width_pt / size) * size * LINE_EM + gap_pt for x in lines)


def is_number(text: str) -> bool:
    return bool(NUMERIC.match(text.strip()))


def _longest_word(text: str) -> float:
    """The widest of the text's unbreakable words in em, 1 when it has none. A Latin letter
    is never wider than the word it is in, so every character alone and every Latin word are
    compared rather than the text's tokens one by one."""
    singles = [_CHARS[c][0] for c in set(text) if not _CHARS[c][2]]
    words = [text_em(w) for w in _LATIN.findall(text)]
    return max(singles + words, default=1)


def column_widths(
    headers: Sequence[str], rows: Sequence[Sequence[str]], width_in: float, size: float
) -> list[float]:
    """Column widths in inches summing to ``width_in``, sized to their content: a column whose
    widest cell fits in a fair share keeps exactly that width; the others share what remains in
    proportion to their widest cell (water filling); spare room goes to every column alike."""
    n = len(headers)
    total_pt = width_in * PT_PER_IN
    need = []
    for j in range(n):
        column = "\n".join([headers[j], *(r[j] for r in rows)])
        widest = max(text_em(line) for line in column.split("\n"))
        # A column is never narrower than its longest unbreakable word (a Latin word, or any
        # other character alone) or four characters.
        words = _longest_word(column)
        need.append(  # bold headers and rounding: a tenth to spare
            (
                widest * size * 1.1 + CELL_PAD_X_PT,
                max(words, min(widest, 4.0)) * size * 1.1 + CELL_PAD_X_PT,
            )
        )
    wanted = [w for w, _ in need]
    if sum(wanted) <= total_pt:
        spare = (total_pt - sum(wanted)) / n
        return [(w + spare) / PT_PER_IN for w in wanted]
    fixed: dict[int, float] = {}
    while True:
        rest = total_pt - sum(fixed.values())
        open_ = [j for j in range(n) if j not in fixed]
        share = rest / len(open_)
        small = [j for j in open_ if wanted[j] <= share]
        if not small or len(small) == len(open_):
            break
        for j in small:
            fixed[j] = wanted[j]
    rest = total_pt - sum(fixed.values())
    open_ = [j for j in range(n) if j not in fixed]
    weight = sum(wanted[j] for j in open_)
    out = [
        fixed.get(j, rest * wanted[j] / weight if weight else rest / len(open_)) for j in range(n)
    ]
    # Each open column at least its minimum (its longest word), taken from the widest.
    for j in open_:
        floor = need[j][1]
        if out[j] < floor:
            widest_j = max(open_, key=lambda k: out[k] - need[k][1])
            give = min(floor - out[j], out[widest_j] - need[widest_j][1])
            if give > 0:
                out[widest_j] -= give
                out[j] += give
    return [w / PT_PER_IN for w in out]


WRAP_SLACK = 0.88  # line-breaking rules (no break before 」、) etc.) fill lines less than greedy


def row_height_pt(cells: Sequence[str], widths_in: Sequence[float], size: float) -> float:
    lines = max(
        lines_needed(c or "－", (w * PT_PER_IN - CELL_PAD_X_PT) / size * WRAP_SLACK)
        for c, w in zip(cells, widths_in, strict=True)
    )
    return lines * size * LINE_EM + CELL_PAD_Y_PT


@dataclass(frozen=True)
class TableLayout:
    widths: list[float]  # inches
    header_pt: float
    rows_pt: list[float]
    right: list[bool]  # right-aligned columns (numbers)

    def height_in(self, first: int, last: int) -> float:
        return (self.header_pt + sum(self.rows_pt[first:last])) / PT_PER_IN


def layout(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    width_in: float,
    size: float,
    widths: Sequence[float] | None = None,
) -> TableLayout:
    if widths is None:
        col = column_widths(headers, rows, width_in, size)
    else:
        total = sum(widths)
        col = [width_in * w / total for w in widths]
    right = [
        bool(rows) and all(is_number(r[j]) for r in rows if r[j]) and any(r[j] for r in rows)
        for j in range(len(headers))
    ]
    return TableLayout(
        col,
        row_height_pt(headers, col, size),
        [row_height_pt(r, col, size) for r in rows],
        right,
    )


def paginate(lay: TableLayout, height_in: float) -> list[tuple[int, int]]:
    """Row ranges [first, last) whose measured heights, under the header, fit ``height_in``
    (a row taller than a whole page gets a page of its own)."""
    room = height_in * PT_PER_IN - lay.header_pt
    pages, first, used = [], 0, 0.0
    for i, h in enumerate(lay.rows_pt):
        if i > first and used + h > room:
            pages.append((first, i))
            first, used = i, 0.0
        used += h
    if first < len(lay.rows_pt):
        pages.append((first, len(lay.rows_pt)))
    return pages


def page_title(title: str, n: int, pages: int) -> str:
    return title + (t("deck_page", page=n, pages=pages) if pages > 1 else "")


Decorate = Callable[[Slide, int, int], None]


def fit_size(lines: Sequence[str], width_in: float, height_in: float, size: float) -> float:
    """The largest font size ≤ ``size`` (in half points, down to 8 pt) at which the paragraphs
    fit the box, with the builder's 6 pt after each paragraph and 0.1 in insets."""
    inner_w = (width_in - 0.2) * PT_PER_IN
    inner_h = (height_in - 0.1) * PT_PER_IN
    s = size
    while s > 8 and text_height_pt(lines, inner_w, s, gap_pt=6) > inner_h:
        s -= 0.5
    return s


def ceil_lines(text: str, width_in: float, size: float) -> int:
    return math.ceil(lines_needed(text, (width_in - 0.2) * PT_PER_IN / size))
