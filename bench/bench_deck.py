"""The completion deck (事業完了報告, Yamagata §3(3) ①–⑦ outline) for a full fiscal year of 300
sessions: median of 5 wall times including the queries, and peak memory.

The year is written through the store (cases, sessions with one to three municipalities and
experts, reports, surveys) into a fresh SQLite file, as the bot would have recorded it. Peak
memory: a fresh process that only opens that database and builds the deck once reports its
peak resident set (VmHWM: interpreter, libraries, queries and file together) and its
resident set just before the build; Python-level allocations during a build (tracemalloc) are
shown too, though they miss lxml's C memory.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

from pptx import Presentation

from bot.demo import EFFECTS, TOPICS, add_people
from reminders.calendar import BusinessCalendar
from reminders.clock import JST
from reports import deck
from store import cases, reference, sessions
from store.db import Database
from store.migrate import upgrade
from store.profiles import load_profile
from store.seed import seed_program

PROGRAM = "yamagata-2026"
NOW = dt.datetime(2027, 3, 31, 18, 0, tzinfo=JST)  # the year is over: every session held
RUNS = 5


@dataclass(frozen=True)
class DeckTiming:
    sessions: int
    slides: int
    charts: int
    median_s: float
    runs_s: list[float]
    traced_peak_mb: float
    rss_before_mb: float
    max_rss_mb: float
    size_kb: float


def _rss_mb(field: str = "VmRSS") -> float:
    """Resident set (VmRSS) or its peak (VmHWM) of this process, in MB. VmHWM, not
    ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _build_in_this_process(path: Path) -> None:
    """The --rss mode: one build in a fresh process; prints 'RSS_BEFORE PEAK' in MB."""
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        before = _rss_mb()
        await build_once(db)
    finally:
        await db.dispose()
    print(f"{before:.1f} {_rss_mb('VmHWM'):.1f}")


async def _fresh_process_rss(path: Path) -> tuple[float, float]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.bench_deck", "--rss", str(path),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await proc.communicate()
    before, peak = out.decode().split()[-2:]
    return float(before), float(peak)


async def load_year(db: Database, n_sessions: int, seed: int = 2026) -> None:
    """A year of the program: ~3 sessions per case, spread over the open days of the term."""
    profile = load_profile(PROGRAM)
    rng = random.Random(seed)
    cal = BusinessCalendar(profile.closed_days)
    days = cal.open_days_between(profile.term_start, profile.term_end)
    async with db.transaction() as s:
        await seed_program(s, profile, NOW)
        munis = await reference.loaded_municipalities(s, profile.prefecture_code)
        people = await add_people(s, munis, NOW)
        experts = [uid for pid, uid in people.items() if pid.startswith("expert")]
        topics = list(TOPICS)
        made = 0
        while made < n_sessions:
            track = profile.tracks[made % len(profile.tracks)]
            muni = rng.choice(munis)
            topic = rng.choice(topics)
            first = rng.randrange(len(days) - 40)
            opened = dt.datetime.combine(days[first], dt.time(9), tzinfo=JST)
            case = await cases.create(
                s,
                program_id=profile.id,
                prefix=profile.case_prefix,
                year=profile.fiscal_year,
                track_id=track.id,
                municipality_code=muni.code,
                now=opened,
                domains=[topic],
                description=TOPICS[topic],
            )
            for k in range(min(3, n_sessions - made)):
                day = days[min(first + 5 + 10 * k, len(days) - 1)]
                start = dt.datetime.combine(day, dt.time(rng.choice((10, 14))), tzinfo=JST)
                joint = [m.code for m in rng.sample(munis, rng.choice((0, 0, 0, 2)))]
                row = await sessions.create(
                    s,
                    program_id=profile.id,
                    case_id=case.id,
                    track_id=track.id,
                    starts_at=start,
                    hours=track.default_hours,
                    method=rng.choice(("online", "onsite")),
                    place="庁舎会議室",
                    report_due=cal.add_open_days(day, track.report_open_days),
                    municipality_codes=[muni.code, *joint],
                    expert_user_ids=rng.sample(experts, rng.choice((1, 1, 2))),
                    now=opened,
                    status="done",
                )
                submitted = dt.datetime.combine(
                    cal.add_open_days(day, rng.randint(1, 6)), dt.time(16), tzinfo=JST
                )
                await sessions.add_report(
                    s,
                    row,
                    {
                        "summary": TOPICS[topic],
                        "response": "現状を整理し、他団体の事例を紹介して進め方を助言した",
                        "issues": rng.choice(("庁内の合意形成", "担当者の不足", "予算の確保")),
                        "policy": "次回までに業務フローを整理する",
                        "effect": rng.choice(EFFECTS),
                    },
                    author_user_id=None,
                    now=submitted,
                )
                if rng.random() < 0.6:
                    await sessions.add_survey(
                        s,
                        row.id,
                        respondent_user_id=None,
                        satisfaction=rng.choice((3, 4, 4, 5, 5)),
                        resolved=rng.choice(("resolved", "partly", "not_yet")),
                        comment="",
                        requested_at=submitted,
                        answered_at=submitted + dt.timedelta(days=1),
                    )
                made += 1


async def build_once(db: Database) -> bytes:
    """What `/deck completion` does after the acknowledgement: the queries, then the file."""
    profile = load_profile(PROGRAM)
    cal = BusinessCalendar(profile.closed_days)
    period = deck.default_period("completion", profile, NOW.date())
    async with db.transaction() as s:
        data = await deck.load_deck_data(s, profile, cal, NOW, "completion", period)
    return deck.deck_file(data).content


async def run(n_sessions: int = 300, workdir: Path | None = None) -> DeckTiming:
    with tempfile.TemporaryDirectory() as tmp:
        path = (workdir or Path(tmp)) / "bench_deck.db"
        path.unlink(missing_ok=True)
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(db.engine)
            await load_year(db, n_sessions)
            content = await build_once(db)  # warm-up: imports, connection, template
            runs = []
            for _ in range(RUNS):
                t0 = time.perf_counter()
                content = await build_once(db)
                runs.append(time.perf_counter() - t0)
            tracemalloc.start()
            await build_once(db)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        finally:
            await db.dispose()
        rss_before, rss_peak = await _fresh_process_rss(path)
    prs = Presentation(io.BytesIO(content))
    charts = sum(1 for slide in prs.slides for sh in slide.shapes if sh.has_chart)
    return DeckTiming(
        n_sessions,
        len(prs.slides),
        charts,
        statistics.median(runs),
        runs,
        peak / 2**20,
        rss_before,
        rss_peak,
        len(content) / 1024,
    )


def report(t: DeckTiming) -> None:
    print(
        f"completion deck, {t.sessions} sessions: {t.slides} slides ({t.charts} charts), "
        f"{t.size_kb:.0f} KB; median {t.median_s * 1000:.0f} ms of {RUNS} "
        f"({', '.join(f'{r * 1000:.0f}' for r in t.runs_s)} ms); "
        f"fresh process: RSS {t.rss_before_mb:.0f} MB before the build, peak {t.max_rss_mb:.0f} MB; "
        f"Python allocations during a build {t.traced_peak_mb:.1f} MB (tracemalloc)"
    )


async def main(argv: list[str] | None = None) -> DeckTiming | None:
    p = argparse.ArgumentParser(prog="python -m bench.bench_deck")
    p.add_argument("--sessions", type=int, default=300)
    p.add_argument("--rss", metavar="DB", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rss:  # the fresh process that measures memory (see _fresh_process_rss)
        await _build_in_this_process(Path(args.rss))
        return None
    timing = await run(args.sessions)
    report(timing)
    return timing


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
