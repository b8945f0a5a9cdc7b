"""Decks as a prefecture official sees them: every deck kind of every shipped program, converted
to PDF by LibreOffice headless, with no text cut or hidden.

Each program's demo database is seeded once (the files do not depend on the engine, so SQLite),
every deck kind is built from it — summary, monthly, the completion report midway through the
term (中間) and at its end — and all the files are converted in ONE soffice call. Then, per
deck: one PDF page per slide, and every text of each slide's shapes and table cells appears in
``pdftotext``'s text of that page cropped to the slide (a row LibreOffice pushed off the slide is
cut from the crop and fails), none of it under the footer (a table drawn into the footer fails).

Skipped only where soffice or pdftotext is absent locally; CI (``CI=true``, ``.ci/run``
installs LibreOffice and poppler-utils) fails instead.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pptx import Presentation

from bot.demo import seed_demo
from reminders.calendar import BusinessCalendar
from reminders.clock import JST
from reports import deck
from reports.deck import tables
from reports.deck.builder import BODY
from store.db import Database
from store.migrate import upgrade
from store.profiles import ProgramProfile, load_profile
from store.seed import seed_program

PROGRAMS = ("yamagata-2026", "kumamoto-2026", "nagano-2024", "miyazaki-2025", "saitama-2026")
# (kind, when): the completion report both midway (中間) and after the term's end.
BUILDS: tuple[tuple[deck.DeckKind, str], ...] = (
    ("summary", "mid"),
    ("monthly", "mid"),
    ("completion", "mid"),
    ("completion", "end"),
)
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOTEXT = shutil.which("pdftotext")
PAGE_W, PAGE_H = 960, 540  # points: 13.333 × 7.5 in
FOOTER_TOP = 7.0 * 72  # the footer's box starts at 7.05 in

needs_tools = pytest.mark.skipif(
    (SOFFICE is None or PDFTOTEXT is None) and os.environ.get("CI") != "true",
    reason="LibreOffice (soffice) or pdftotext is not installed here; .ci/run installs both",
)


def mid_term(p: ProgramProfile) -> dt.datetime:
    """About seven months into the term: the demo's history is behind, the term is not over."""
    return dt.datetime.combine(p.term_start + dt.timedelta(days=200), dt.time(18), tzinfo=JST)


def after_term(p: ProgramProfile) -> dt.datetime:
    return dt.datetime.combine(p.term_end + dt.timedelta(days=1), dt.time(10), tzinfo=JST)


async def seeded_demo(path: Path, profile: ProgramProfile) -> Database:
    """A migrated SQLite file holding the program and its demo history up to mid-term."""
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(db.engine)
    async with db.transaction() as s:
        await seed_program(s, profile, mid_term(profile))
        await seed_demo(s, profile, mid_term(profile))
    return db


async def build_file(
    db: Database, profile: ProgramProfile, kind: deck.DeckKind, now: dt.datetime
) -> bytes:
    cal = BusinessCalendar(profile.closed_days)
    async with db.transaction() as s:
        data = await deck.load_deck_data(
            s, profile, cal, now, kind, deck.default_period(kind, profile, now.date())
        )
    return deck.build_deck(data)[0]


@dataclass(frozen=True)
class Rendered:
    pptx: Path
    pdf: Path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    """Every build of every program, converted by one soffice call."""
    if SOFFICE is None or PDFTOTEXT is None:
        pytest.fail("soffice and pdftotext are needed on CI (.ci/run installs them)")
    root = tmp_path_factory.mktemp("render")

    async def build_all() -> dict[str, Path]:
        files = {}
        for pid in PROGRAMS:
            profile = load_profile(pid)
            db = await seeded_demo(root / f"{pid}.db", profile)
            try:
                for kind, when in BUILDS:
                    now = mid_term(profile) if when == "mid" else after_term(profile)
                    name = f"{pid}_{kind}_{when}"
                    files[name] = root / f"{name}.pptx"
                    files[name].write_bytes(await build_file(db, profile, kind, now))
            finally:
                await db.dispose()
        return files

    files = asyncio.run(build_all())
    files["canary"] = root / "canary.pptx"
    files["canary"].write_bytes(overflowing_deck())
    out = root / "pdf"
    run = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{root / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            *map(str, files.values()),
        ],
        capture_output=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr.decode()
    return {name: Rendered(path, out / f"{name}.pdf") for name, path in files.items()}


def overflowing_deck() -> bytes:
    """A deck whose one table is forced past the slide's bottom (40 rows drawn as if short):
    what the decks did before rows were measured. The check must find its last rows cut."""
    b = deck.DeckBuilder()
    slide = b.slide("canary")
    rows = [[f"行{i:02d}", f"{i}"] for i in range(40)]
    lay = tables.layout(["項目", "件数"], rows, BODY.width, 12)
    short = tables.TableLayout(lay.widths, 10.0, [10.0] * len(rows), lay.right)
    b.table(slide, ["項目", "件数"], rows, BODY, 12, lay=short)
    return b.finish("canary")


def slide_texts(slide: Any) -> list[str]:
    """The texts of a slide's shapes: each paragraph of a text frame, each table cell."""
    out = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            out += [p.text for p in shape.text_frame.paragraphs if p.text.strip()]
        if getattr(shape, "has_table", False):
            out += [c.text for row in shape.table.rows for c in row.cells if c.text.strip()]
    return out


def _squash(text: str) -> str:
    """pdftotext breaks lines where the text wrapped and drops a hyphen it wrapped at."""
    return re.sub(r"[\s\-]+", "", text)


def missing_from(page_text: str, texts: list[str]) -> list[str]:
    """The words of ``texts`` not on the page, each occurrence consumed once (a row cut whose
    words also appear in a row above still fails), longest first."""
    page = _squash(page_text)
    words = sorted((w for x in texts for w in x.replace("-", "").split()), key=len, reverse=True)
    missing = []
    for word in words:
        at = page.find(word)
        if at < 0:
            missing.append(word)
        else:
            page = page[:at] + "\0" + page[at + len(word) :]
    return missing


WORD = re.compile(
    r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>'
)
BOX = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)


def overlapping_words(bbox_html: str) -> dict[int, list[tuple[str, str]]]:
    """Per page, pairs of words drawn over each other (a row shorter than its text: its last
    line under the next row, or below the table) — hidden text that is still in the PDF."""
    out = {}
    for n, page in enumerate(bbox_html.split("<page ")[1:], start=1):
        words = sorted(
            ((float(a), float(b), float(c), float(d), w) for a, b, c, d, w in BOX.findall(page)),
            key=lambda w: w[1],
        )
        hits = []
        for i, (x0, y0, x1, y1, w) in enumerate(words):
            for u0, v0, u1, v1, z in words[i + 1 :]:
                if v0 >= y1:
                    break
                across = min(x1, u1) - max(x0, u0)
                down = min(y1, v1) - max(y0, v0)
                if across > 1 and down > 0.3 * min(y1 - y0, v1 - v0):
                    hits.append((w, z))
        if hits:
            out[n] = hits[:4]
    return out


def words_in_footer_band(bbox_html: str) -> list[list[str]]:
    """Per page, the words whose box reaches into the footer's band."""
    pages = bbox_html.split("<page ")[1:]
    return [[w for y0, y1, w in WORD.findall(p) if float(y1) > FOOTER_TOP] for p in pages]


@needs_tools
@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize("build", [f"{k}_{w}" for k, w in BUILDS])
def test_every_text_of_every_slide_is_on_its_rendered_page(
    rendered: dict[str, Rendered], program: str, build: str
) -> None:
    r = rendered[f"{program}_{build}"]
    prs = Presentation(str(r.pptx))
    pages = _page_texts(r.pdf)
    assert len(pages) == len(prs.slides)  # one page per slide
    cut = {}
    for n, (slide, page) in enumerate(zip(prs.slides, pages, strict=True), start=1):
        missing = missing_from(page, slide_texts(slide))
        if missing:
            cut[n] = missing[:5]
    assert not cut, f"text cut or hidden (slide: words): {cut}"
    bbox = subprocess.run(
        [str(PDFTOTEXT), "-bbox", str(r.pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    into_footer = {
        n: [w for w in words if _squash(w) not in _footer_of(slide)]
        for n, (slide, words) in enumerate(
            zip(prs.slides, words_in_footer_band(bbox), strict=True), start=1
        )
    }
    assert not {n: w for n, w in into_footer.items() if w}, "body text drawn into the footer"
    assert not overlapping_words(bbox), "text drawn over other text (a row too short)"


def _page_texts(pdf: Path) -> list[str]:
    """Each page's text cropped to the slide, in drawing order (-raw: a wrapped cell's lines
    stay together, not interleaved with the next column's)."""
    crop = ["-x", "0", "-y", "0", "-W", str(PAGE_W), "-H", str(PAGE_H)]
    text = subprocess.run(
        [str(PDFTOTEXT), "-raw", *crop, str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1]  # each page ends in a form feed


def _footer_of(slide: Any) -> str:
    """The squashed text of the slide's footer (its last text box, at 7.05 in); empty on the
    title slide, which has none."""
    boxes = [sh for sh in slide.shapes if sh.has_text_frame and sh.top > 6.9 * 914400]
    return _squash(boxes[-1].text_frame.text) if boxes else ""


@needs_tools
def test_a_table_run_off_the_slide_is_caught(rendered: dict[str, Rendered]) -> None:
    r = rendered["canary"]
    prs = Presentation(str(r.pptx))
    page = _page_texts(r.pdf)[0]
    missing = missing_from(page, slide_texts(prs.slides[0]))
    assert "行39" in missing and "行00" not in missing


def test_the_checker_catches_a_cut_row() -> None:
    """A row missing from the rendered page is reported (what a table off the slide does)."""
    texts = ["2026年10月26日(月)", "NAG-2024-0007", "提出済 11/27"]
    page = "2026年10月26日(月)\nNAG-2024-0007\n提出済 11/27\n"
    assert missing_from(page, texts) == []
    assert missing_from(page, [*texts, "2026年10月26日(月)"]) == ["2026年10月26日(月)"]
    assert missing_from("eL-\nQR の活用", ["eL-QR の活用"]) == []


def test_the_checker_catches_text_drawn_over_text() -> None:
    """A row's last line drawn under the next row's first line is reported."""

    def word(x: float, y: float, text: str) -> str:
        return f'<word xMin="{x}" yMin="{y}" xMax="{x + 40}" yMax="{y + 12}">{text}</word>'

    clean = "<page >" + word(10, 10, "長野市") + word(10, 24, "北相木村")
    hidden = "<page >" + word(10, 10, "（月））") + word(10, 14, "北相木村")
    assert overlapping_words(clean) == {}
    assert overlapping_words(hidden) == {1: [("（月））", "北相木村")]}
