"""The reminder pass over 1,000,000 sessions on PostgreSQL: does its cost follow the number of
due pings, or the number of sessions?

A fresh database on 127.0.0.1:5432 (user postgres, trust authentication) is migrated, seeded
with the Saitama program and an expert roster through the store, then bulk-loaded with asyncpg
``COPY``: 100,000 cases of ten sessions each, almost all long since held and reported (so they
are outside the partial index ``ix_sessions_report_pending``), 2 % cancelled, 1,000 booked for
the coming months, and a ledger holding the first request of every held session as years of
passes would have left it. The last 10,000 cases each end with a session held on Thursday
2026-11-19; the pass runs at 10:00 on its due day, Friday 2026-11-27, when each of those still
unreported is due exactly one ping (its request and before-due reminder are in the ledger).

For 0, 100 and 10,000 due, the pass (``bot.app.remind_once``: the ended-session sweep, the report
pings, surveys, the monthly report) is timed 5 times after a warm-up, the ledger and outbox being
reset between runs (not timed); the median is compared with a bare indexed ``SELECT`` of the same
due rows (median of 5). Each of the pass's queries is then timed alone, the plans of the scans
are shown, and — to test the fix this benchmark proposes — the runs are repeated with the
proposed index, created in the benchmark database only.

    .venv/bin/python -m bench.bench_reminders [--sessions N] [--runs 5] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bench.common import (
    add_experts,
    create_database,
    drop_database,
    machine,
    municipality_codes,
    pg_connect,
)
from bot.app import build_services, remind_once
from bot.core.config import Settings
from reminders.calendar import BusinessCalendar
from reminders.clock import JST, FixedClock
from store import reminders as queries
from store.db import Database
from store.migrate import upgrade
from store.profiles import load_profile
from store.seed import seed_program

PROGRAM = "saitama-2026"
NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=JST)  # Friday: the due day of the 11/19 sessions
DUE_SESSION_DAY = dt.date(2026, 11, 19)
HISTORY_FROM = dt.date(2016, 4, 1)
HISTORY_TO = dt.date(2026, 11, 13)
SCENARIOS = (0, 100, 10_000)
PROPOSED_INDEX = (
    "CREATE INDEX ix_sessions_scheduled_ends ON sessions (ends_at) WHERE status = 'scheduled'"
)


@dataclass(frozen=True)
class Plan:
    cases: int = 100_000
    per_case: int = 10
    candidates: int = 10_000  # the most that can be due at once
    booked_ahead: int = 1_000
    experts: int = 200
    cancelled_share: float = 0.02
    seed: int = 2026

    @property
    def sessions(self) -> int:
        return self.cases * self.per_case


@dataclass
class Loaded:
    candidate_ids: list[int] = field(default_factory=list)  # one per case, in case order
    candidate_cases: list[int] = field(default_factory=list)
    sessions: int = 0
    ledger: int = 0


# --- generating and loading the rows ----------------------------------------------------------------


async def prepare(url: str, plan: Plan) -> tuple[list[str], list[int]]:
    """Schema, program, municipalities and the expert roster, through the store."""
    db = Database(url)
    try:
        await upgrade(db.engine)
        profile = load_profile(PROGRAM)
        async with db.transaction() as s:
            await seed_program(s, profile, NOW)
            ids = await add_experts(s, plan.experts, NOW)
            codes = await municipality_codes(s, profile)
    finally:
        await db.dispose()
    return codes, ids


CASE_COLUMNS = (
    "id", "case_no", "program_id", "year", "seq", "track_id", "municipality_code", "department",
    "requester_name", "requester_title", "domains", "description", "preferred_method",
    "preferred_dates", "status", "match_state", "opened_at", "updated_at", "is_demo",
)  # fmt: skip
SESSION_COLUMNS = (
    "id", "program_id", "case_id", "track_id", "starts_at", "ends_at", "hours", "method",
    "place", "status", "report_due", "report_submitted_at", "created_at", "is_demo",
)  # fmt: skip
LEDGER_COLUMNS = ("id", "key", "session_id", "step", "recipient", "created_at")


def _chunks(rows: list[Any], size: int = 100_000) -> Iterator[list[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


async def load(url: str, plan: Plan, munis: list[str], experts: list[int]) -> Loaded:
    """Bulk-load cases, sessions, session experts and the ledger with COPY."""
    rng = random.Random(plan.seed)
    cal = BusinessCalendar()
    open_days = cal.open_days_between(HISTORY_FROM, HISTORY_TO)
    due_of: dict[dt.date, dt.date] = {}
    tracks = [t.id for t in load_profile(PROGRAM).tracks]
    cases: list[tuple[Any, ...]] = []
    sessions: list[tuple[Any, ...]] = []
    session_experts: list[tuple[int, int]] = []
    ledger: list[tuple[Any, ...]] = []
    loaded = Loaded()
    first_candidate_case = plan.cases - plan.candidates + 1
    first_booked_case = plan.cases - plan.booked_ahead + 1
    sid = 0
    for cid in range(1, plan.cases + 1):
        # Cases spread evenly over ten years of history; sessions follow their case.
        base = (cid - 1) * (len(open_days) - 40) // plan.cases
        opened = dt.datetime.combine(open_days[base], dt.time(9), tzinfo=JST)
        cases.append(
            (
                cid, f"SAI-{2016 + (cid - 1) * 10 // plan.cases}-{cid:06d}", PROGRAM, 2026, cid,
                tracks[cid % len(tracks)], rng.choice(munis), "", "", "", '["BPRの取組の徹底"]',
                "", "online", "[]", "closed", "", opened, opened, False,
            )
        )  # fmt: skip
        for k in range(plan.per_case):
            sid += 1
            expert = rng.choice(experts)
            status, submitted = "done", None
            if cid >= first_candidate_case and k == plan.per_case - 1:
                day = DUE_SESSION_DAY
                loaded.candidate_ids.append(sid)
                loaded.candidate_cases.append(cid)
            elif cid >= first_booked_case and k == plan.per_case - 2:
                day = cal.next_open_day(dt.date(2026, 12, 1) + dt.timedelta(days=cid % 100))
                status = "scheduled"
            else:
                day = open_days[min(base + k * 3, len(open_days) - 1)]
            starts = dt.datetime.combine(day, dt.time(rng.choice((10, 13, 14, 15))), tzinfo=JST)
            hours = float(rng.choice((1, 2, 3)))
            ends = starts + dt.timedelta(hours=hours)
            if day not in due_of:
                due_of[day] = cal.add_open_days(day, 5)
            due = due_of[day]
            if status == "done" and day != DUE_SESSION_DAY:
                if rng.random() < plan.cancelled_share:
                    status = "cancelled"
                else:
                    submitted = dt.datetime.combine(due, dt.time(16), tzinfo=JST)
            sessions.append(
                (
                    sid, PROGRAM, cid, tracks[cid % len(tracks)], starts, ends, hours, "online",
                    "", status, due, submitted, starts - dt.timedelta(days=10), False,
                )
            )  # fmt: skip
            session_experts.append((sid, expert))
            if status == "done":
                ledger.append(
                    (len(ledger) + 1, f"report:{sid}:request", sid, "request", "expert", ends)
                )
                if day == DUE_SESSION_DAY:
                    before = dt.datetime.combine(dt.date(2026, 11, 25), dt.time(9), tzinfo=JST)
                    ledger.append(
                        (len(ledger) + 1, f"report:{sid}:before_due", sid, "before_due", "expert", before)
                    )  # fmt: skip
    loaded.sessions = len(sessions)
    loaded.ledger = len(ledger)
    conn = await pg_connect(url)
    try:
        # Bulk load: skip the foreign-key triggers (the rows are consistent by construction).
        # With them, each row's check runs a plan cached while the parent table looked empty —
        # a sequential scan of 100,000 cases per session row.
        await conn.execute("SET session_replication_role = replica")
        for table, cols, rows in (
            ("cases", CASE_COLUMNS, cases),
            ("sessions", SESSION_COLUMNS, sessions),
            ("session_experts", ("session_id", "user_id"), session_experts),
            ("reminder_ledger", LEDGER_COLUMNS, ledger),
        ):
            for chunk in _chunks(rows):
                await conn.copy_records_to_table(table, records=chunk, columns=cols)
            await conn.execute(f"ANALYZE {table}")
        await conn.execute("RESET session_replication_role")
        for table in ("cases", "sessions", "reminder_ledger"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return loaded


# --- scenarios ----------------------------------------------------------------------------------------


async def set_due(url: str, loaded: Loaded, due: int) -> None:
    """The first ``due`` candidates still unreported (their cases 実施済); the others reported
    on 11/20 and closed."""
    reported_at = dt.datetime.combine(dt.date(2026, 11, 20), dt.time(16), tzinfo=JST)
    pending, done = loaded.candidate_ids[:due], loaded.candidate_ids[due:]
    conn = await pg_connect(url)
    try:
        await conn.execute(
            "UPDATE sessions SET report_submitted_at = NULL WHERE id = ANY($1::bigint[])", pending
        )
        await conn.execute(
            "UPDATE sessions SET report_submitted_at = $2 WHERE id = ANY($1::bigint[])",
            done,
            reported_at,
        )
        await conn.execute(
            "UPDATE cases SET status = CASE WHEN id = ANY($1::bigint[]) THEN 'held' ELSE 'closed' END"
            " WHERE id = ANY($2::bigint[])",
            loaded.candidate_cases[:due],
            loaded.candidate_cases,
        )
        await reset(conn)
        await conn.execute("VACUUM ANALYZE sessions")
        await conn.execute("VACUUM ANALYZE cases")
    finally:
        await conn.close()


async def reset(conn: Any) -> None:
    """Undo what a pass wrote, so that each timed run does the same work."""
    await conn.execute("DELETE FROM reminder_ledger WHERE step NOT IN ('request', 'before_due')")
    await conn.execute("DELETE FROM outbox")


async def median_of(
    runs: int, one: Callable[[], Awaitable[Any]], after: Callable[[], Awaitable[None]] | None = None
) -> tuple[float, Any]:
    """Median wall time (ms) of ``runs`` calls after one warm-up; ``after`` runs untimed."""
    result = await one()
    if after is not None:
        await after()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = await one()
        times.append((time.perf_counter() - t0) * 1000)
        if after is not None:
            await after()
    return statistics.median(times), result


BARE = (
    "SELECT id, case_id, ends_at, report_due FROM sessions "
    "WHERE report_submitted_at IS NULL AND status <> 'cancelled' AND program_id = $1 "
    "AND ends_at <= $2 ORDER BY report_due, id"
)


async def scenario(url: str, loaded: Loaded, due: int, runs: int) -> dict[str, Any]:
    await set_due(url, loaded, due)
    settings = Settings(_env_file=None, DATABASE_URL=url, DXBOT_PROGRAM=PROGRAM)  # type: ignore[call-arg]
    services = build_services(settings, clock=FixedClock(NOW))
    conn = await pg_connect(url)

    async def after() -> None:
        await reset(conn)

    try:
        pass_ms, report = await median_of(runs, lambda: remind_once(services), after)
        bare_ms, rows = await median_of(runs, lambda: conn.fetch(BARE, PROGRAM, NOW))
        parts = await query_times(services, runs)
        parts |= {f"scan {k}": v for k, v in (await scan_times(url, runs)).items()}
    finally:
        await conn.close()
        await services.db.dispose()
    assert len(rows) == due, (len(rows), due)
    assert len(report.sent) == due, (len(report.sent), due)
    return {
        "due": due,
        "pass_ms": pass_ms,
        "bare_ms": bare_ms,
        "sent": len(report.sent),
        "parts": parts,
    }


async def query_times(services: Any, runs: int) -> dict[str, float]:
    """Each query of the pass alone (median ms), in a transaction of its own."""
    db = services.db
    out: dict[str, float] = {}

    async def timed(name: str, fn: Callable[[Any], Awaitable[Any]]) -> Any:
        async def one() -> Any:
            async with db.transaction() as s:
                return await fn(s)

        out[name], result = await median_of(runs, one)
        return result

    await timed("ended_unmarked", lambda s: queries.ended_unmarked(s, PROGRAM, NOW))
    pending = await timed("pending_reports", lambda s: queries.pending_reports(s, PROGRAM, NOW))
    ids = [p.session_id for p in pending]
    await timed("ledger_steps", lambda s: queries.ledger_steps(s, ids))
    await timed("last_snoozes", lambda s: queries.last_snoozes(s, ids))
    await timed("reported_without_survey", lambda s: queries.reported_without_survey(s, PROGRAM))
    return out


ENDED_BEFORE = (
    "SELECT id FROM sessions WHERE program_id = $1 AND status = $2 AND ends_at <= $3 "
    "ORDER BY ends_at LIMIT 500"
)
ENDED_NOW = (
    "SELECT id FROM sessions WHERE report_submitted_at IS NULL AND status <> 'cancelled' "
    "AND program_id = $1 AND status = 'scheduled' AND ends_at <= $3 ORDER BY ends_at LIMIT 500"
)
PENDING = (
    "SELECT s.id FROM sessions s JOIN cases c ON c.id = s.case_id "
    "JOIN session_experts e ON e.session_id = s.id "
    "WHERE s.report_submitted_at IS NULL AND s.status <> {cancelled} AND s.program_id = $1 "
    "AND s.ends_at <= $3 ORDER BY s.report_due, s.id"
)
SCANS = {
    # the statements of store/reminders.py before this benchmark's fix: bound parameters
    "ended_unmarked, before the fix": ENDED_BEFORE,
    "pending_reports, before the fix": PENDING.format(cancelled="$2"),
    # and as they are now: the partial index's predicate as literals, and the pending scan
    # alone (case numbers and experts are then read by key for the rows it returns)
    "ended_unmarked": ENDED_NOW,
    "pending_reports": (
        "SELECT id, case_id, starts_at, ends_at, report_due FROM sessions "
        "WHERE report_submitted_at IS NULL AND status <> 'cancelled' AND program_id = $1 "
        "AND ends_at <= $3 ORDER BY report_due, id"
    ),
}


async def scan_times(url: str, runs: int) -> dict[str, float]:
    """Median ms of each scan as a prepared statement (what the asyncpg driver does), under
    PostgreSQL's own choice of plan and under a generic plan."""
    conn = await pg_connect(url)
    out: dict[str, float] = {}
    try:
        for mode in ("auto", "force_generic_plan"):
            await conn.execute(f"SET plan_cache_mode = {mode}")
            for name, sql in SCANS.items():
                if "$2" not in sql:
                    sql = sql.replace("$3", "$2")
                    args: tuple[Any, ...] = (PROGRAM, NOW)
                else:
                    args = (PROGRAM, "scheduled" if "status = $2" in sql else "cancelled", NOW)
                stmt = await conn.prepare(sql)
                out[f"{name} [{mode}]"], _ = await median_of(
                    runs, lambda stmt=stmt, args=args: stmt.fetch(*args)
                )
        await conn.execute("RESET plan_cache_mode")
    finally:
        await conn.close()
    return out


async def plans(url: str) -> dict[str, list[str]]:
    """EXPLAIN ANALYZE of the session scans as prepared statements, under a generic plan (the
    one a prepared statement may switch to after five executions)."""
    conn = await pg_connect(url)
    out: dict[str, list[str]] = {}
    try:
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        for name, sql in SCANS.items():
            if "$2" in sql:
                second = "'scheduled'" if "status = $2" in sql else "'cancelled'"
                types, args = (
                    "(text, text, timestamptz)",
                    f"'{PROGRAM}', {second}, '{NOW.isoformat()}'",
                )
            else:
                sql = sql.replace("$3", "$2")
                types, args = "(text, timestamptz)", f"'{PROGRAM}', '{NOW.isoformat()}'"
            await conn.execute(f"PREPARE q{types} AS {sql}")
            rows = await conn.fetch(
                f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) EXECUTE q({args})"
            )
            await conn.execute("DEALLOCATE q")
            out[name] = [r[0] for r in rows]
        await conn.execute("RESET plan_cache_mode")
    finally:
        await conn.close()
    return out


# --- main ---------------------------------------------------------------------------------------------


def report_table(title: str, results: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    print(f"{'due':>7} {'pass ms':>10} {'bare SELECT ms':>15} {'ratio':>8} {'pings':>7}")
    for r in results:
        ratio = r["pass_ms"] / r["bare_ms"] if r["bare_ms"] else float("inf")
        print(
            f"{r['due']:>7} {r['pass_ms']:>10.1f} {r['bare_ms']:>15.2f} {ratio:>8.0f} {r['sent']:>7}"
        )
    for r in results:
        print(f"  due {r['due']}, each query alone (median ms):")
        for name, ms in r["parts"].items():
            print(f"    {ms:>9.2f}  {name}")


async def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--cases", type=int, default=Plan.cases)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    args = ap.parse_args(argv)
    plan = Plan(
        cases=args.cases,
        candidates=min(Plan.candidates, args.cases // 2),
        booked_ahead=min(Plan.booked_ahead, args.cases // 10),
    )
    scenarios = [due for due in SCENARIOS if due <= plan.candidates]
    print(f"Machine: {machine()}")
    url = await create_database("dxbot_bench_reminders")
    try:
        conn = await pg_connect(url)
        print(f"PostgreSQL: {(await conn.fetchval('SELECT version()')).split(',')[0]}")
        await conn.close()
        t0 = time.perf_counter()
        munis, experts = await prepare(url, plan)
        loaded = await load(url, plan, munis, experts)
        print(
            f"Loaded {loaded.sessions:,} sessions in {plan.cases:,} cases, {loaded.ledger:,} ledger "
            f"rows, {len(experts)} experts in {time.perf_counter() - t0:.0f} s; pass at {NOW.isoformat()}"
        )
        results = [await scenario(url, loaded, due, args.runs) for due in scenarios]
        report_table(f"As shipped (median of {args.runs}):", results)
        for name, lines in (await plans(url)).items():
            print(f"\n  plan {name} (generic):")
            for line in lines:
                print(f"    {line}")

        conn = await pg_connect(url)
        await conn.execute(PROPOSED_INDEX)
        await conn.execute("ANALYZE sessions")
        await conn.close()
        # The 10,000-due pass is dominated by the pings themselves; the index is about the sweep.
        results = [await scenario(url, loaded, due, args.runs) for due in scenarios[:2]]
        report_table(f"With the proposed index — {PROPOSED_INDEX}:", results)
        for name, lines in (await plans(url)).items():
            if name == "ended_unmarked":
                print(f"\n  plan {name} (generic):")
                for line in lines:
                    print(f"    {line}")
    finally:
        if args.keep:
            print(f"\nDatabase kept: {url}")
        else:
            await drop_database(url)


if __name__ == "__main__":
    asyncio.run(main())
