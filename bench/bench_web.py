"""The web view's server time at 100,000 cases in one fiscal year, on SQLite and PostgreSQL.

The rows are those of ``bench.bench_status`` (layout ``one-year``: every case and session in the
year on screen), loaded the same way, with a consultation text on every case (the demo's
topics) so the text filter has something to read. The web view runs in-process (aiohttp's test
server) with a timing middleware around it: the figures are the server's time per request (the
handler, its SQL and the template), not the client's. Requests, each ``RUNS`` times after a
warm-up, signed in as staff (the whole program):

- ``overview``: ``/web/`` (the status view, the monthly trend, the chart);
- ``cases``: ``/web/cases``, the first page of the list without filters;
- ``case``: ``/web/cases/CASE_ID`` of a different case each time;
- ``text 研修`` / ``text 標準化``: the list filtered by a two- and a three-character term
  (a substring match; no index serves it).

The issue's goal: p95 under 100 ms for the first three.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bench import bench_status as bs
from bench.common import create_database, drop_database, machine, pg_connect
from bot.app import build_services
from bot.core.config import Settings
from bot.demo import TOPICS
from bot.web import web_app
from bot.web.app import COOKIE
from reminders.clock import FixedClock
from store import users, web_auth

RUNS = 40
GOAL_MS = 100.0
TEXTS = list(TOPICS.values())


@dataclass
class Figures:
    engine: str
    name: str
    p50_ms: float
    p95_ms: float
    runs: int


def _description_sql() -> str:
    whens = " ".join(
        f"WHEN {i} THEN '{text.replace(chr(39), chr(39) * 2)}'" for i, text in enumerate(TEXTS)
    )
    return f"UPDATE cases SET description = CASE id % {len(TEXTS)} {whens} END"


def describe_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(_description_sql())
    conn.execute("ANALYZE")
    conn.close()


async def describe_postgres(url: str) -> None:
    conn = await pg_connect(url)
    try:
        await conn.execute(_description_sql())
        await conn.execute("VACUUM ANALYZE cases")
    finally:
        await conn.close()


async def prepare(url: str, plan: bs.Plan) -> tuple[list[str], list[int]]:
    """``bench_status.prepare`` at the schema's head (its own stops at migration 0001, older
    than what seeding writes now); the rows then go in with the tally triggers set aside and
    the tallies are rebuilt from them."""
    import datetime as dt

    from bench.common import add_experts, municipality_codes
    from store.db import Database
    from store.migrate import upgrade
    from store.profiles import load_profile
    from store.seed import seed_program

    db = Database(url)
    try:
        await upgrade(db.engine)
        profile = load_profile(bs.PROGRAM)
        async with db.transaction() as s:
            await seed_program(s, profile, bs.NOW)
            await users.add(s, platform="console", platform_id="staff1", role="staff", now=bs.NOW)
            ids = await add_experts(s, bs.EXPERTS, bs.NOW)
            codes = await municipality_codes(s, profile)
    finally:
        await db.dispose()
    assert plan.years == 1 and dt.date(2026, 4, 1) == profile.term_start
    return codes, ids


def load_sqlite(path: Path, rows: bs.Rows) -> None:
    """``bench_status.load_sqlite`` with the tally triggers set aside during the load (the
    tallies are rebuilt from the rows after, as migration 0002 fills them)."""
    conn = sqlite3.connect(path)
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    with conn:
        for name, _sql in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
    conn.close()
    bs.load_sqlite(path, rows)
    conn = sqlite3.connect(path)
    with conn:
        for _name, sql in triggers:
            conn.execute(sql)
    conn.close()


async def load_postgres(url: str, rows: bs.Rows) -> None:
    """``bench_status.load_postgres`` with triggers off for the COPY (replica role)."""
    conn = await pg_connect(url)
    try:
        await conn.execute("SET session_replication_role = replica")
        tables: list[tuple[str, list[Any], tuple[str, ...]]] = [
            ("cases", [bs._case_values(c) for c in rows.cases], bs.CASE_COLUMNS),
            ("sessions", [bs._session_values(r) for r in rows.sessions], bs.SESSION_COLUMNS),
            ("session_municipalities", rows.session_munis, ("session_id", "municipality_code")),
            ("session_experts", rows.session_experts, ("session_id", "user_id")),
            ("surveys", [bs._survey_values(r) for r in rows.surveys], bs.SURVEY_COLUMNS),
        ]
        for table, records, columns in tables:
            await conn.copy_records_to_table(table, records=records, columns=columns)
    finally:
        await conn.close()


async def rebuild(url: str) -> None:
    from store.db import Database
    from store.reporting import rebuild_tallies

    db = Database(url)
    try:
        async with db.transaction() as s:
            await rebuild_tallies(s)
    finally:
        await db.dispose()


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


async def measure(url: str, engine: str, case_nos: list[str], runs: int) -> list[Figures]:
    settings = Settings(_env_file=None, DATABASE_URL=url, DXBOT_PROGRAM=bs.PROGRAM)  # type: ignore[call-arg]
    services = build_services(settings, clock=FixedClock(bs.NOW))
    spent: list[float] = []

    @web.middleware
    async def timer(request: web.Request, handler: Any) -> web.StreamResponse:
        t0 = time.perf_counter()
        try:
            return await handler(request)
        finally:
            spent.append((time.perf_counter() - t0) * 1000)

    root = web.Application(middlewares=[timer])
    root.add_subapp("/web", web_app(services))
    client = TestClient(TestServer(root))
    await client.start_server()
    out = []
    try:
        async with services.db.transaction() as s:
            staff = (await users.find_by_platform_id(s, "staff1"))[0]
            token, _ = await web_auth.create_session(
                s, user_id=staff.id, program_id=bs.PROGRAM, now=bs.NOW
            )
        client.session.cookie_jar.update_cookies({COOKIE: token})
        rng = random.Random(7)
        paths = {
            "overview": lambda: "/web/",
            "cases (first page)": lambda: "/web/cases",
            "case page": lambda: f"/web/cases/{rng.choice(case_nos)}",
            "text 研修 (2 chars)": lambda: f"/web/cases?q={quote('研修')}",
            "text 標準化 (3 chars)": lambda: f"/web/cases?q={quote('標準化')}",
        }
        for name, path in paths.items():
            times = []
            for i in range(runs + 1):
                spent.clear()
                resp = await client.get(path())
                body = await resp.text()
                assert resp.status == 200, (path(), resp.status, body[:300])
                if i:  # the first is a warm-up
                    times.append(spent[-1])
            out.append(Figures(engine, name, statistics.median(times), _p95(times), len(times)))
            print(
                f"  {engine:<10} {name:<22} p50 {out[-1].p50_ms:7.1f} ms  p95 {out[-1].p95_ms:7.1f} ms",
                flush=True,
            )
    finally:
        await client.close()
        await services.db.dispose()
    return out


def _case_nos(rows: bs.Rows, n: int = 500) -> list[str]:
    rng = random.Random(3)
    return [c[1] for c in rng.sample(rows.cases, min(n, len(rows.cases)))]


async def run(plan: bs.Plan, workdir: Path, runs: int, keep: bool) -> list[Figures]:
    results: list[Figures] = []
    path = workdir / "bench_web.db"
    path.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"
    t0 = time.perf_counter()
    codes, experts = await prepare(url, plan)
    rows = bs.generate(plan, codes, experts)
    load_sqlite(path, rows)
    await rebuild(url)
    describe_sqlite(path)
    print(f"  SQLite ready in {time.perf_counter() - t0:.0f} s", flush=True)
    case_nos = _case_nos(rows)
    results += await measure(url, "SQLite", case_nos, runs)
    if not keep:
        path.unlink(missing_ok=True)
    try:
        pg = await create_database("dxbot_bench_web")
    except OSError as exc:
        print(f"  PostgreSQL skipped: not reachable ({exc})")
        return results
    try:
        t0 = time.perf_counter()
        await prepare(pg, plan)
        await load_postgres(pg, rows)
        await rebuild(pg)
        await bs._vacuum(pg)
        await describe_postgres(pg)
        print(f"  PostgreSQL ready in {time.perf_counter() - t0:.0f} s", flush=True)
        results += await measure(pg, "PostgreSQL", case_nos, runs)
    finally:
        if keep:
            print(f"  kept {pg}")
        else:
            await drop_database(pg)
    return results


def report(results: list[Figures]) -> None:
    print(f"{'engine':<11} {'request':<24} {'p50 ms':>8} {'p95 ms':>8}  goal (p95 < 100 ms)")
    for r in results:
        goal = "" if r.name.startswith("text") else ("met" if r.p95_ms < GOAL_MS else "NOT met")
        print(f"{r.engine:<11} {r.name:<24} {r.p50_ms:8.1f} {r.p95_ms:8.1f}  {goal}")


async def main(argv: list[str] | None = None) -> list[Figures]:
    p = argparse.ArgumentParser(prog="python -m bench.bench_web")
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--sessions", type=int, default=300_000)
    p.add_argument("--runs", type=int, default=RUNS)
    p.add_argument("--keep", action="store_true", help="keep the databases for inspection")
    p.add_argument("--dir", help="where the SQLite file goes (default: a temporary directory)")
    args = p.parse_args(argv)
    print(
        f"web view, staff: {args.cases:,} cases and {args.sessions:,} sessions in one fiscal "
        f"year, {args.runs} requests each after a warm-up; server time"
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.dir) if args.dir else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        plan = bs.Plan(args.cases, args.sessions, years=1)
        results = await run(plan, workdir, args.runs, args.keep)
    report(results)
    return results


if __name__ == "__main__":
    print(f"machine: {machine()}")
    asyncio.run(main())
