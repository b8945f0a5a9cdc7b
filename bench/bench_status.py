"""`/status` for staff over 100,000 cases and 1,000,000 sessions, on SQLite and PostgreSQL.

The rows are bulk-loaded into a fresh SQLite file (``executemany``) and a fresh PostgreSQL
database (``COPY`` through asyncpg), then the staff view is built five times after a warm-up:
the median wall time, the number of statements, and the ratio of the view's time to its
slowest single statement (near 1 means one statement dominates and nothing is N+1; a view
issuing one query per row would show a large ratio and a statement count that grows with data).

Two layouts of the same row counts:

- ``history``: ten fiscal years of the program (one program row per year, as the store keeps
  them); the year on screen holds 10,000 cases and 100,000 sessions — 300 times a real year.
- ``one-year``: every row in the year on screen (the worst case; no real program is this big).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from sqlalchemy import event

from bench.common import (
    add_experts,
    create_database,
    drop_database,
    municipality_codes,
    pg_connect,
)
from reminders.calendar import BusinessCalendar
from reminders.clock import JST
from reports import render_status, status
from store import audit, users
from store.db import Database
from store.migrate import upgrade
from store.models import Program
from store.profiles import load_profile
from store.seed import seed_program

PROGRAM = "saitama-2026"
NOW = dt.datetime(2026, 11, 16, 10, 0, tzinfo=JST)
EXPERTS = 50
RUNS = 5


@dataclass(frozen=True)
class Plan:
    cases: int = 100_000
    sessions: int = 1_000_000
    years: int = 10
    seed: int = 2026

    @property
    def first_year(self) -> int:
        return 2026 - self.years + 1


# --- generating the rows ------------------------------------------------------------------------


@dataclass
class Rows:
    programs: list[tuple[str, int]] = field(default_factory=list)
    cases: list[tuple[Any, ...]] = field(default_factory=list)
    sessions: list[tuple[Any, ...]] = field(default_factory=list)
    session_munis: list[tuple[int, str]] = field(default_factory=list)
    session_experts: list[tuple[int, int]] = field(default_factory=list)
    surveys: list[tuple[Any, ...]] = field(default_factory=list)


class DueDays:
    """Report due days and submission days, cached per date (a few thousand distinct days)."""

    def __init__(self) -> None:
        self.cal = BusinessCalendar()
        self._due: dict[tuple[dt.date, int], dt.date] = {}
        self._open: dict[int, list[dt.date]] = {}

    def add(self, day: dt.date, n: int) -> dt.date:
        key = (day, n)
        if key not in self._due:
            self._due[key] = self.cal.add_open_days(day, n)
        return self._due[key]

    def open_days(self, year: int) -> list[dt.date]:
        if year not in self._open:
            self._open[year] = self.cal.open_days_between(
                dt.date(year, 4, 1), dt.date(year + 1, 3, 31)
            )
        return self._open[year]


def generate(plan: Plan, munis: list[str], expert_ids: list[int]) -> Rows:
    """Deterministic rows that obey the program's rules, spread evenly over the years.

    Per year: one hearing per municipality (cap 1) and five dispatches per municipality at most
    (cap 5), each a case with one session; every other case is a consultation or an
    accompaniment holding the rest of the year's sessions (about ten each). Sessions are on
    開庁日; in the current year they run up to four weeks ahead of "now", as a desk schedules
    them. 5 % of consultation and accompaniment sessions are joint (a second municipality),
    5 % have a second expert, 2 % are cancelled, 0.5 % of held sessions are never reported
    (overdue), and surveys are answered for 30 % of reported sessions.
    """
    rng = random.Random(plan.seed)
    days = DueDays()
    rows = Rows()
    years = [plan.first_year + i for i in range(plan.years)]
    rows.programs = [(f"saitama-{y}", y) for y in years]
    per_year_cases = plan.cases // plan.years
    per_year_sessions = plan.sessions // plan.years
    cid = sid = 0
    for year in years:
        open_days = [d for d in days.open_days(year) if d <= (NOW + dt.timedelta(days=28)).date()]
        capped = [("hearing", m) for m in munis] + [
            ("haken", munis[i % len(munis)]) for i in range(min(300, 5 * len(munis)))
        ]
        free_cases = per_year_cases - len(capped)
        free_sessions = per_year_sessions - len(capped)
        for n, (track, muni) in enumerate(capped + [("", "")] * free_cases):
            cid += 1
            if not track:
                track = "soudan" if n % 2 else "bansou"
                muni = rng.choice(munis)
                k = n - len(capped)
                count = free_sessions // free_cases + (1 if k < free_sessions % free_cases else 0)
            else:
                count = 1
            case = _case(rng, rows, cid, year, track, muni, open_days)
            for _ in range(count):
                sid += 1
                _one_session(rng, days, rows, sid, case, open_days, munis, expert_ids)
    return rows


DOMAINS = ("情報システムの標準化・共通化", "自治体のAIの利用促進", "BPRの取組の徹底", "ICT-BCP")


def _case(
    rng: random.Random,
    rows: Rows,
    cid: int,
    year: int,
    track: str,
    muni: str,
    open_days: list[dt.date],
) -> tuple[Any, ...]:
    seq = cid  # unique within the year too
    opened = dt.datetime.combine(rng.choice(open_days), dt.time(9), tzinfo=JST)
    case = (
        cid,
        f"SAI-{year}-{seq:07d}",
        f"saitama-{year}",
        year,
        seq,
        track,
        muni,
        rng.choice(["closed", "reported", "scheduled", "received", "coordinating"]),
        json.dumps([rng.choice(DOMAINS)]),
        opened,
    )
    rows.cases.append(case)
    return case


def _one_session(
    rng: random.Random,
    days: DueDays,
    rows: Rows,
    sid: int,
    case: tuple[Any, ...],
    open_days: list[dt.date],
    munis: list[str],
    expert_ids: list[int],
) -> None:
    day = rng.choice(open_days)
    starts = dt.datetime.combine(day, dt.time(rng.choice((10, 13, 14, 15))), tzinfo=JST)
    hours = float(rng.choice((1, 2, 3)))
    ends = starts + dt.timedelta(hours=hours)
    due = days.add(day, 5)
    capped = case[5] in ("haken", "hearing")
    cancelled = not capped and rng.random() < 0.02
    held = ends <= NOW and not cancelled
    submitted = None
    if held and rng.random() >= 0.005:
        sub_day = days.add(day, rng.randint(1, 6))
        at = dt.datetime.combine(sub_day, dt.time(16), tzinfo=JST)
        submitted = at if at <= NOW else None
    status = "cancelled" if cancelled else ("done" if held else "scheduled")
    method = rng.choice(("online", "onsite"))
    rows.sessions.append(
        (sid, case[2], case[0], case[5], starts, ends, hours, method, "", status, due, submitted)
    )
    rows.session_munis.append((sid, case[6]))
    if not capped and rng.random() < 0.05:
        other = rng.choice(munis)
        if other != case[6]:
            rows.session_munis.append((sid, other))
    first = rng.choice(expert_ids)
    rows.session_experts.append((sid, first))
    if rng.random() < 0.05:
        second = rng.choice(expert_ids)
        if second != first:
            rows.session_experts.append((sid, second))
    if submitted is not None and rng.random() < 0.3:
        answered = submitted + dt.timedelta(days=2)
        if answered <= NOW:
            rows.surveys.append(
                (
                    len(rows.surveys) + 1,
                    sid,
                    rng.choice((2, 3, 4, 4, 5, 5)),
                    rng.choice(("resolved", "partly", "not_yet")),
                    submitted,
                    answered,
                )
            )


# --- loading ------------------------------------------------------------------------------------


async def prepare(url: str, plan: Plan) -> tuple[list[str], list[int]]:
    """Schema, the program of each year, municipalities and the expert roster (through the
    store, as `dxbot seed` would); returns the municipality codes and expert ids."""
    db = Database(url)
    try:
        # The bulk load goes in before migration 0002, which then fills the tallies from the
        # rows once, as it would for a deployment upgrading an existing database.
        await upgrade(db.engine, "0001")
        profile = load_profile(PROGRAM)
        # Today's store writes audit entries with their program (migration 0009_w), a column the
        # 0001 schema has not got; the bench's own seeding needs no audit trail.
        with mock.patch.object(audit, "record", _no_audit):
            codes, ids = await _seed(db, profile, plan)
    finally:
        await db.dispose()
    return codes, ids


async def _no_audit(*_args: Any, **_kwargs: Any) -> None:
    return None


async def _seed(db: Database, profile: Any, plan: Plan) -> tuple[list[str], list[int]]:
    async with db.transaction() as s:
        await seed_program(s, profile, NOW)
        snapshot = profile.model_dump(mode="json")
        for y in range(plan.first_year, 2026):
            s.add(
                Program(
                    id=f"saitama-{y}",
                    name=f"{profile.name}（{y}年度）",
                    prefecture_code=profile.prefecture_code,
                    fiscal_year=y,
                    term_start=dt.date(y, 4, 1),
                    term_end=dt.date(y + 1, 3, 31),
                    profile=snapshot | {"id": f"saitama-{y}", "fiscal_year": y},
                    loaded_at=NOW,
                )
            )
        await users.add(s, platform="console", platform_id="staff1", role="staff", now=NOW)
        ids = await add_experts(s, EXPERTS, NOW)
        codes = await municipality_codes(s, profile)
    return codes, ids


def _case_values(c: tuple[Any, ...]) -> tuple[Any, ...]:
    cid, no, prog, year, seq, track, muni, status, domains, opened = c
    return (
        cid, no, prog, year, seq, track, muni, "", "", "", domains, "", "online", "[]",
        status, "", opened, opened, False,
    )  # fmt: skip


CASE_COLUMNS = (
    "id", "case_no", "program_id", "year", "seq", "track_id", "municipality_code", "department",
    "requester_name", "requester_title", "domains", "description", "preferred_method",
    "preferred_dates", "status", "match_state", "opened_at", "updated_at", "is_demo",
)  # fmt: skip
SESSION_COLUMNS = (
    "id", "program_id", "case_id", "track_id", "starts_at", "ends_at", "hours", "method",
    "place", "status", "report_due", "report_submitted_at", "created_at", "is_demo",
)  # fmt: skip
SURVEY_COLUMNS = (
    "id", "session_id", "satisfaction", "resolved", "comment", "requested_at", "answered_at",
    "is_demo",
)  # fmt: skip


def _session_values(r: tuple[Any, ...]) -> tuple[Any, ...]:
    return (*r, r[4], False)


def _survey_values(r: tuple[Any, ...]) -> tuple[Any, ...]:
    i, sid, sat, res, req, ans = r
    return (i, sid, sat, res, "", req, ans, False)


def _sqlite_value(v: Any) -> Any:
    # The store keeps datetimes as naive UTC text on SQLite (store.models.UTCDateTime).
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def _batches(rows: list[tuple[Any, ...]], size: int = 50_000) -> Iterator[list[tuple[Any, ...]]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def load_sqlite(path: Path, rows: Rows) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    tables = (
        ("cases", CASE_COLUMNS, [_case_values(c) for c in rows.cases]),
        ("sessions", SESSION_COLUMNS, [_session_values(r) for r in rows.sessions]),
        ("session_municipalities", ("session_id", "municipality_code"), rows.session_munis),
        ("session_experts", ("session_id", "user_id"), rows.session_experts),
        ("surveys", SURVEY_COLUMNS, [_survey_values(r) for r in rows.surveys]),
    )
    with conn:
        for table, cols, values in tables:
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            for batch in _batches(values):
                conn.executemany(sql, [tuple(_sqlite_value(v) for v in r) for r in batch])
    conn.close()


def analyze_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("ANALYZE")
    conn.close()


async def finish(url: str) -> float:
    """Migrate to head (tallies filled from the loaded rows, triggers, indexes); seconds."""
    db = Database(url)
    t0 = time.perf_counter()
    try:
        await upgrade(db.engine)
    finally:
        await db.dispose()
    return time.perf_counter() - t0


async def load_postgres(url: str, rows: Rows) -> None:

    conn = await pg_connect(url)
    try:
        await conn.copy_records_to_table(
            "cases", records=[_case_values(c) for c in rows.cases], columns=CASE_COLUMNS
        )
        await conn.copy_records_to_table(
            "sessions", records=[_session_values(r) for r in rows.sessions], columns=SESSION_COLUMNS
        )
        await conn.copy_records_to_table(
            "session_municipalities",
            records=rows.session_munis,
            columns=("session_id", "municipality_code"),
        )
        await conn.copy_records_to_table(
            "session_experts", records=rows.session_experts, columns=("session_id", "user_id")
        )
        await conn.copy_records_to_table(
            "surveys", records=[_survey_values(r) for r in rows.surveys], columns=SURVEY_COLUMNS
        )
    finally:
        await conn.close()


async def _vacuum(url: str) -> None:
    """What autovacuum does after a bulk load: statistics and the visibility map (index-only
    scans need it)."""

    conn = await pg_connect(url)
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


# --- measuring ----------------------------------------------------------------------------------


@dataclass
class Timing:
    engine: str
    layout: str
    median_ms: float
    runs_ms: list[float]
    statements: int
    slowest_ms: float
    slowest_sql: str
    dispatch_ms: float | None = None

    @property
    def ratio(self) -> float:
        return self.median_ms / self.slowest_ms if self.slowest_ms else 0.0


class StatementClock:
    """Times every statement an engine runs (cursor execute, including the row fetch)."""

    def __init__(self, db: Database) -> None:
        self.times: list[tuple[float, str]] = []
        self._start: list[float] = []
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._before)
        event.listen(db.engine.sync_engine, "after_cursor_execute", self._after)

    def _before(self, *_a: Any) -> None:
        self._start.append(time.perf_counter())

    def _after(self, _conn: Any, _cur: Any, statement: str, *_a: Any) -> None:
        self.times.append(((time.perf_counter() - self._start.pop()) * 1000, statement))


async def measure(url: str, engine: str, layout: str) -> Timing:
    """Median of 5 (after a warm-up) without instrumentation; then 5 more runs timing each
    statement, for the statement count and the median of the slowest statement."""
    profile = load_profile(PROGRAM)
    cal = BusinessCalendar(profile.closed_days)
    db = Database(url)
    runs: list[float] = []
    try:
        for i in range(RUNS + 1):
            t0 = time.perf_counter()
            await _status(db, profile, cal)
            if i:  # the first run is a warm-up: connection, caches
                runs.append((time.perf_counter() - t0) * 1000)
        clock = StatementClock(db)
        slowest: list[tuple[float, str]] = []
        counts: list[int] = []
        for _ in range(RUNS):
            clock.times.clear()
            await _status(db, profile, cal)
            slowest.append(max(clock.times))
            counts.append(len(clock.times))
        dispatch = await _dispatch(url)
    finally:
        await db.dispose()
    worst = sorted(slowest)[len(slowest) // 2]
    return Timing(
        engine,
        layout,
        statistics.median(runs),
        runs,
        max(counts),
        worst[0],
        " ".join(worst[1].split())[:160],
        dispatch,
    )


async def _status(db: Database, profile: Any, cal: BusinessCalendar) -> None:
    """What `/status` does for staff: the view, then its text."""
    async with db.transaction() as s:
        view = await status.program_status(s, profile, cal, NOW)
        render_status.render(view, cal)


async def _dispatch(url: str) -> float | None:
    """The whole chat path: `/status` typed by staff through the dispatcher (median of 5)."""
    from bot.app import build_services
    from bot.core.config import Settings
    from bot.core.messages import Inbound
    from reminders.clock import FixedClock

    settings = Settings(_env_file=None, DATABASE_URL=url, DXBOT_PROGRAM=PROGRAM)  # type: ignore[call-arg]
    services = build_services(settings, clock=FixedClock(NOW))
    if "/status" not in services.router.commands:
        await services.db.dispose()
        return None
    times = []
    try:
        for i in range(RUNS + 1):
            ib = Inbound(
                platform="console",
                event_id=f"bench-{uuid.uuid4()}",
                user_id="staff1",
                text="/status",
            )
            t0 = time.perf_counter()
            replies = await services.dispatcher.handle(ib)
            if i:
                times.append((time.perf_counter() - t0) * 1000)
            assert replies and "【進捗】" in replies[0].text, replies
    finally:
        await services.db.dispose()
    return statistics.median(times)


# --- the runs -----------------------------------------------------------------------------------


async def run_layout(plan: Plan, layout: str, workdir: Path, keep: bool) -> list[Timing]:
    results = []
    path = workdir / f"bench_{layout}.db"
    path.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"
    t0 = time.perf_counter()
    codes, experts = await prepare(url, plan)
    rows = generate(plan, codes, experts)
    gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    load_sqlite(path, rows)
    loaded = time.perf_counter() - t0
    migrated = await finish(url)
    analyze_sqlite(path)
    print(
        f"  [{layout}] generated in {gen:.1f} s; SQLite loaded in {loaded:.1f} s, "
        f"migrated to head (tallies filled) in {migrated:.1f} s"
    )
    results.append(await measure(url, "SQLite", layout))
    try:
        pg = await create_database(f"dxbot_bench_{layout.replace('-', '_')}")
    except OSError as exc:
        print(f"  PostgreSQL skipped: not reachable on 127.0.0.1:5432 ({exc})")
        return results
    try:
        codes_pg, experts_pg = await prepare(pg, plan)
        assert codes_pg == codes and experts_pg == experts
        t0 = time.perf_counter()
        await load_postgres(pg, rows)
        loaded = time.perf_counter() - t0
        migrated = await finish(pg)
        await _vacuum(pg)
        print(
            f"  [{layout}] PostgreSQL loaded in {loaded:.1f} s, migrated to head in "
            f"{migrated:.1f} s"
        )
        results.append(await measure(pg, "PostgreSQL", layout))
    finally:
        if not keep:
            await drop_database(pg)
        else:
            print(f"  kept {pg}")
    if not keep:
        path.unlink(missing_ok=True)
    return results


def report(results: list[Timing]) -> None:
    print(
        f"{'engine':<11} {'layout':<9} {'median ms':>9} {'stmts':>5} {'slowest ms':>10} "
        f"{'ratio':>5} {'chat ms':>7}  slowest statement"
    )
    for r in results:
        chat = f"{r.dispatch_ms:7.1f}" if r.dispatch_ms is not None else "    n/a"
        print(
            f"{r.engine:<11} {r.layout:<9} {r.median_ms:9.1f} {r.statements:5d} "
            f"{r.slowest_ms:10.1f} {r.ratio:5.1f} {chat}  {r.slowest_sql[:90]}"
        )


async def main(argv: list[str] | None = None) -> list[Timing]:
    p = argparse.ArgumentParser(prog="python -m bench.bench_status")
    p.add_argument("--layout", choices=("history", "one-year", "both"), default="both")
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--sessions", type=int, default=1_000_000)
    p.add_argument("--keep", action="store_true", help="keep the databases for inspection")
    p.add_argument("--dir", help="where the SQLite files go (default: a temporary directory)")
    args = p.parse_args(argv)
    layouts = ("history", "one-year") if args.layout == "both" else (args.layout,)
    print(f"/status for staff: {args.cases:,} cases, {args.sessions:,} sessions, median of {RUNS}")
    results: list[Timing] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.dir) if args.dir else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for layout in layouts:
            plan = Plan(args.cases, args.sessions, years=10 if layout == "history" else 1)
            results += await run_layout(plan, layout, workdir, args.keep)
    report(results)
    return results


if __name__ == "__main__":
    asyncio.run(main())
