"""Completion reports of every shipped program for a full fiscal year of 300 and of 3,000
sessions, and the `dxbot deck` command's wall time, against the goals of issue 15: 0.5 s (300)
and 3 s (3,000) to build, 1 s for the command.

For each program and size the year is written through the store (cases, sessions with one to
three municipalities and experts, reports, surveys with comments) into a fresh SQLite file, as
the bot would have recorded it, dated after the term's end. The build (what `/deck completion`
does after its acknowledgement) is timed in two parts, the queries (load_deck_data) and the file
(build_deck: layout, measured tables, charts, the zip), median of RUNS; the command is
`dxbot deck --kind completion` as a fresh process on the same file, with the bare start-up of the
console script (`dxbot --help`) beside it, so what limits each is visible. The peak memory of a
build in a fresh process (VmHWM) is shown for the last file.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
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

PROGRAMS = ("yamagata-2026", "kumamoto-2026", "nagano-2024", "miyazaki-2025", "saitama-2026")
SIZES = (300, 3000)
RUNS = 3
GOALS = {300: 0.5, 3000: 3.0}  # seconds to build; the command: CLI_GOAL
CLI_GOAL = 1.0
COMMENTS = ("", "", "大変参考になりました。", "次回も同じ方にお願いしたいです。")


def after_term(program: str) -> dt.datetime:
    """The year is over: every session held, the report final (not 中間)."""
    p = load_profile(program)
    return dt.datetime.combine(p.term_end + dt.timedelta(days=1), dt.time(18), tzinfo=JST)


@dataclass(frozen=True)
class DeckTiming:
    program: str
    sessions: int
    slides: int
    charts: int
    median_s: float
    queries_s: float
    file_s: float
    cli_s: float
    size_kb: float


def _rss_mb(field: str = "VmRSS") -> float:
    """Resident set (VmRSS) or its peak (VmHWM) of this process, in MB. VmHWM, not
    ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _build_in_this_process(path: Path, program: str) -> None:
    """The --rss mode: one build in a fresh process; prints 'RSS_BEFORE PEAK' in MB."""
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        before = _rss_mb()
        await build_once(db, program)
    finally:
        await db.dispose()
    print(f"{before:.1f} {_rss_mb('VmHWM'):.1f}")


async def _fresh_process_rss(path: Path, program: str) -> tuple[float, float]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.bench_deck", "--rss", str(path), "--program", program,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await proc.communicate()
    before, peak = out.decode().split()[-2:]
    return float(before), float(peak)


async def load_year(db: Database, program: str, n_sessions: int, seed: int = 2026) -> None:
    """A year of the program: ~3 sessions per case, spread over the open days of the term,
    recorded as of the day after the term's end."""
    profile = load_profile(program)
    now = after_term(program)
    rng = random.Random(seed)
    cal = BusinessCalendar(profile.closed_days)
    days = cal.open_days_between(profile.term_start, profile.term_end)
    async with db.transaction() as s:
        await seed_program(s, profile, now)
        munis = await reference.loaded_municipalities(s, profile.prefecture_code)
        people = await add_people(s, munis, now)
        experts = [uid for pid, uid in people.items() if pid.startswith("expert")]
        topics = list(TOPICS)
        made = 0
        while made < n_sessions:
            track = profile.tracks[made % len(profile.tracks)]
            muni = rng.choice(munis)
            topic = rng.choice(topics)
            first = rng.randrange(max(len(days) - 40, 1))
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
                        comment=rng.choice(COMMENTS),
                        requested_at=submitted,
                        answered_at=submitted + dt.timedelta(days=1),
                    )
                made += 1


async def build_once(db: Database, program: str) -> tuple[bytes, float, float]:
    """What `/deck completion` does after the acknowledgement: the queries, then the file.
    The file's bytes and the seconds of each part."""
    profile = load_profile(program)
    now = after_term(program)
    cal = BusinessCalendar(profile.closed_days)
    period = deck.default_period("completion", profile, now.date())
    t0 = time.perf_counter()
    async with db.transaction() as s:
        data = await deck.load_deck_data(s, profile, cal, now, "completion", period)
    t1 = time.perf_counter()
    content = deck.deck_file(data).content
    return content, t1 - t0, time.perf_counter() - t1


def cli_seconds(path: Path | None, *args: str) -> float:
    """The median wall time of the console script as a fresh process (RUNS runs)."""
    dxbot = Path(sys.executable).with_name("dxbot")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LOGO_", "DXBOT_"))}
    if path is not None:
        env["DATABASE_URL"] = f"sqlite+aiosqlite:///{path}"
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run([str(dxbot), *args], env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


async def run(program: str, n_sessions: int, workdir: Path) -> DeckTiming:
    path = workdir / f"bench_deck_{program}_{n_sessions}.db"
    path.unlink(missing_ok=True)
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(db.engine)
        await load_year(db, program, n_sessions)
        content, _, _ = await build_once(db, program)  # warm-up: imports, connection
        runs = [await build_once(db, program) for _ in range(RUNS)]
    finally:
        await db.dispose()
    out = workdir / f"{program}.pptx"
    now = after_term(program).isoformat()
    cli = cli_seconds(
        path, "deck", "--program", program, "--kind", "completion", "--out", str(out), "--now", now
    )
    prs = Presentation(io.BytesIO(content))
    charts = sum(1 for slide in prs.slides for sh in slide.shapes if sh.has_chart)
    return DeckTiming(
        program,
        n_sessions,
        len(prs.slides),
        charts,
        statistics.median(q + f for _, q, f in runs),
        statistics.median(q for _, q, _ in runs),
        statistics.median(f for _, _, f in runs),
        cli,
        len(content) / 1024,
    )


def report(t: DeckTiming) -> None:
    goal = GOALS.get(t.sessions)
    verdict = "" if goal is None else (" met" if t.median_s <= goal else " MISSED")
    cli = " met" if t.cli_s <= CLI_GOAL else " MISSED"
    print(
        f"{t.program:14} {t.sessions:5} sessions: {t.slides:3} slides ({t.charts} charts), "
        f"{t.size_kb:5.0f} KB; build {t.median_s * 1000:5.0f} ms{verdict} = queries "
        f"{t.queries_s * 1000:4.0f} ms + file {t.file_s * 1000:5.0f} ms; "
        f"dxbot deck {t.cli_s * 1000:5.0f} ms{cli}",
        flush=True,
    )


async def main(argv: list[str] | None = None) -> list[DeckTiming]:
    global RUNS  # the medians' run count, set once from the command line
    p = argparse.ArgumentParser(prog="python -m bench.bench_deck")
    p.add_argument("--program", action="append", choices=PROGRAMS, help="default: all five")
    p.add_argument("--sessions", type=int, action="append", help="default: 300 and 3000")
    p.add_argument("--runs", type=int, default=RUNS, help="runs per median (default 3)")
    p.add_argument("--rss", metavar="DB", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    RUNS = args.runs
    programs = args.program or list(PROGRAMS)
    if args.rss:  # the fresh process that measures memory (see _fresh_process_rss)
        await _build_in_this_process(Path(args.rss), programs[0])
        return []
    print(
        f"dxbot --help (the command's start-up alone): {cli_seconds(None, '--help') * 1000:.0f} ms"
    )
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for program in programs:
            for n in args.sessions or SIZES:
                timing = await run(program, n, Path(tmp))
                report(timing)
                out.append(timing)
        last = out[-1]
        path = Path(tmp) / f"bench_deck_{last.program}_{last.sessions}.db"
        before, peak = await _fresh_process_rss(path, last.program)
        print(
            f"fresh process, {last.program} {last.sessions} sessions: RSS {before:.0f} MB "
            f"before the build, peak {peak:.0f} MB"
        )
    return out


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
