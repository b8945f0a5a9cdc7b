"""Rendered slides of each shipped program's completion report into docs/deck/ (README "Decks"):

    .venv/bin/python -m tools.deck_slides [--out docs/deck] [--dpi 60]

For each program it seeds a throwaway SQLite database with the program and its demo history at a
fixed date (about seven months into the term, so the reports are interim, 中間, and the pictures
do not change from run to run), builds the completion report, converts every deck in ONE
LibreOffice headless call, and turns three slides of each into PNG with poppler's pdftoppm: the
targets (kpis), the program's own section (the BPR step matrix, the 業務日報, the survey
comments, …) and a table. Needs soffice and pdftoppm (``.ci/run`` installs both).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from reminders.calendar import BusinessCalendar
from reports import deck
from reports.deck.builder import DeckBuilder
from reports.deck.outlines import outline
from reports.deck.sections import draw
from reports.deck.slides import slide_contents, slide_title
from store.profiles import load_profile
from tests.test_deck_render import PROGRAMS, mid_term, seeded_demo

# The program's own section first where it has one, then the targets and a table.
OWN = ("daily_reports", "stages", "progress_by_municipality", "survey_comments", "joint_work")
WANTED = (OWN, ("kpis",), ("engagements", "municipalities", "events"))


async def build(program: str, work: Path) -> tuple[Path, list[int]]:
    """The completion report's file and the slide numbers (1-based) to render."""
    profile = load_profile(program)
    db = await seeded_demo(work / f"{program}.db", profile)
    now = mid_term(profile)
    try:
        async with db.transaction() as s:
            data = await deck.load_deck_data(
                s,
                profile,
                BusinessCalendar(profile.closed_days),
                now,
                "completion",
                deck.default_period("completion", profile, now.date()),
            )
    finally:
        await db.dispose()
    b = DeckBuilder()  # build_deck's steps, noting where each section kind's slides start
    slide_title(b, data)
    sections = outline(data)
    slide_contents(b, data, [s.title for s in sections])
    first: dict[str, int] = {}
    for section in sections:
        for page in section.pages:
            first.setdefault(page.content, len(b.slides) + 1)
            draw(b, data, page)
    path = work / f"{program}.pptx"
    path.write_bytes(b.finish(profile.name))
    picks = []
    for kinds in WANTED:
        n = next((first[k] for k in kinds if k in first), None)
        if n is not None and n not in picks:
            picks.append(n)
    return path, picks


async def build_all(work: Path) -> dict[str, tuple[Path, list[int]]]:
    return {program: await build(program, work) for program in PROGRAMS}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.deck_slides")
    p.add_argument("--out", type=Path, default=Path("docs/deck"))
    p.add_argument("--dpi", type=int, default=60)
    args = p.parse_args(argv)
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None or shutil.which("pdftoppm") is None:
        print("soffice and pdftoppm are needed (LibreOffice, poppler-utils)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        built = asyncio.run(build_all(work))
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{work / 'lo'}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(work),
                *(str(path) for path, _ in built.values()),
            ],
            check=True,
            capture_output=True,
        )
        for old in args.out.glob("*.png"):
            old.unlink()
        for program, (path, picks) in built.items():
            for i, n in enumerate(picks, start=1):
                target = args.out / f"{program}-{i}"
                subprocess.run(
                    ["pdftoppm", "-png", "-r", str(args.dpi), "-f", str(n), "-l", str(n),
                     "-singlefile", str(path.with_suffix(".pdf")), str(target)],
                    check=True,
                )  # fmt: skip
                print(f"{target}.png (slide {n})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
