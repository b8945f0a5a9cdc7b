"""Ack latency and throughput of the Slack route, against a bare slack-bolt app that only acks,
measured in the same run on 127.0.0.1: a signed ``/status`` command and a ``message.im`` event at
concurrency 1, 16 and 64. Reports p50/p99 and requests per second, and our/bare ratios.

Ours runs as `dxbot serve` runs it (``--workers 1``: the ack process and one worker process; 0
puts the work in the ack process) and really answers every request — a ``/status`` view, a help
text — through a fake Slack Web API in a third process. Before each measurement the benchmark
waits until ours has answered everything sent so far, so no backlog of one measurement runs
during the next (or during the bare app's).

Each cell is the median of ``--rounds`` loads of each server, taken in alternating order.

``--postgres`` runs ours on a fresh database on ``DXBOT_BENCH_PG_URL``'s server (bench/common.py;
dropped at the end), as the deployment in deploy/ does, instead of a temporary SQLite file.

``--pin`` puts the servers under test (and ours' worker) on one CPU and the load generator and
the fake Slack on the others: on a 2-CPU machine each server then has a core to itself, and ours
shares it with its own worker only — without it, where the kernel placed the four processes moved
a run's ratios more than most changes did (README, "Benchmarks").

Run: ``.venv/bin/python -m bench.bench_ack [--requests N] [--workers N] [--rounds N] [--postgres]
[--pin]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bench.ack_server import SECRET, STAFF
from bench.common import create_database, drop_database, machine, pg_connect

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: ``--pin``: the CPUs of the servers under test (their workers inherit them), and the CPUs of
#: the load generator and the fake Slack Web API.
Pin = tuple[set[int], set[int]]


def split_cpus() -> Pin:
    """This process's last CPU for the servers under test, the others for the load."""
    cpus = set(os.sched_getaffinity(0))
    servers = {max(cpus)}
    return servers, cpus - servers


def start(
    kind: str, *extra: str, cpus: set[int] | None = None
) -> tuple[subprocess.Popen[str], int, str]:
    """A server process (on ``cpus``; None: wherever the kernel puts it); returns it, its port
    and what it said after 'ready'."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.ack_server", kind, str(port), *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=None if cpus is None else lambda: os.sched_setaffinity(0, cpus),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("ready"):
        raise RuntimeError(f"{kind} server did not start")
    return proc, port, line.removeprefix("ready").strip()


async def handled(db_url: str) -> int:
    """The events ours has handled so far (each is claimed once in its database)."""
    query = "SELECT count(*) FROM processed_events"
    if db_url.startswith("sqlite"):
        with sqlite3.connect(db_url.split(":///", 1)[1], timeout=10) as conn:
            return int(conn.execute(query).fetchone()[0])
    conn = await pg_connect(db_url)
    try:
        return int(await conn.fetchval(query))
    finally:
        await conn.close()


async def settle(db_url: str, expected: int, limit: float = 300.0) -> None:
    """Wait until ours has handled ``expected`` events."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if await handled(db_url) >= expected:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"ours handled fewer than {expected} events in {limit} s")


def request(kind: str, n: int) -> tuple[bytes, dict[str, str]]:
    ts = str(int(time.time()))
    user = f"USTAFF{n % STAFF}"
    if kind == "command":
        body = urlencode(
            {
                "command": "/status",
                "text": "",
                "user_id": user,
                "channel_id": f"D{user}",
                "trigger_id": f"trig-{n}-{time.time_ns()}",
            }
        )
        ctype = "application/x-www-form-urlencoded"
    else:
        body = json.dumps(
            {
                "type": "event_callback",
                "event_id": f"Ev{n}-{time.time_ns()}",
                "team_id": "T1",
                "event": {
                    "type": "message",
                    "channel_type": "im",
                    "channel": f"D{user}",
                    "user": user,
                    "text": "/dx help",
                    "ts": "1.0",
                },
            }
        )
        ctype = "application/json"
    sig = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
    return body.encode(), {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sig or "",
        "Content-Type": ctype,
    }


async def load(port: int, kind: str, concurrency: int, total: int) -> dict[str, float]:
    url = f"http://127.0.0.1:{port}/slack/events"
    latencies: list[float] = []
    refused: list[int] = []
    counter = iter(range(total))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            for n in counter:
                body, headers = request(kind, n)
                t0 = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    if resp.status != 200:  # 503: not stored in time (Slack would resend)
                        refused.append(resp.status)
                latencies.append(time.perf_counter() - t0)

        start_t = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start_t
    latencies.sort()
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "rps": len(latencies) / elapsed,
        "refused": float(len(refused)),
    }


async def measure(
    servers: dict[str, tuple[subprocess.Popen[str], int, str]],
    kind: str,
    conc: int,
    total: int,
    rounds: int,
    sent: list[int],
) -> dict[str, dict[str, float]]:
    """One cell: ``rounds`` loads of each server, alternating which goes first; the median of
    each figure over the rounds, so one noisy moment on a shared machine does not decide it."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
    db_url = servers["ours"][2]
    for r in range(rounds):
        order = list(servers) if r % 2 == 0 else list(reversed(servers))
        for name in order:
            port = servers[name][1]
            warm = max(50, total // 10)
            warmed = await load(port, kind, conc, warm)
            runs[name].append(await load(port, kind, conc, total))
            if name == "ours":
                # what was refused (503) may not be stored: wait for the rest
                sent[0] += warm + total - int(warmed["refused"] + runs[name][-1]["refused"])
                await settle(db_url, sent[0])
    cells = {
        name: {key: statistics.median(run[key] for run in results) for key in results[0]}
        for name, results in runs.items()
    }
    for name, results in runs.items():
        cells[name]["refused"] = sum(run["refused"] for run in results)
    return cells


async def run(
    total: int, workers: int, rounds: int, postgres: bool, pin: Pin | None = None
) -> list[str]:
    db_url = await create_database("dxbot_bench_ack") if postgres else None
    try:
        return await run_on(total, workers, rounds, db_url, pin)
    finally:
        if db_url is not None:
            await drop_database(db_url)


async def run_on(
    total: int, workers: int, rounds: int, db_url: str | None, pin: Pin | None = None
) -> list[str]:
    """The table, with ours on ``db_url`` (None: a temporary SQLite file)."""
    servers_cpus, load_cpus = pin if pin is not None else (None, None)
    fake, fake_port, _ = start("fake", cpus=load_cpus)
    ours = ("ours", f"http://127.0.0.1:{fake_port}/api/", str(workers))
    servers = {
        "bare": start("bare", cpus=servers_cpus),
        "ours": start(*ours, *([db_url] if db_url else []), cpus=servers_cpus),
    }
    sent = [0]
    lines = [
        "| request | conc | bare p50/p99 ms | bare req/s | ours p50/p99 ms | ours req/s | "
        "throughput ratio | p99 ratio | ours 503 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    try:
        for kind in ("command", "event"):
            for conc in (1, 16, 64):
                res = await measure(servers, kind, conc, total, rounds, sent)
                b, o = res["bare"], res["ours"]
                lines.append(
                    f"| {kind} | {conc} | {b['p50_ms']:.2f}/{b['p99_ms']:.2f} | {b['rps']:.0f} | "
                    f"{o['p50_ms']:.2f}/{o['p99_ms']:.2f} | {o['rps']:.0f} | "
                    f"{o['rps'] / b['rps']:.2f} | {o['p99_ms'] / b['p99_ms']:.2f} | "
                    f"{o['refused']:.0f} |"
                )
    finally:
        for proc, _, _ in (*servers.values(), (fake, 0, "")):
            proc.terminate()
            proc.wait()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", action="store_true", help="ours on PostgreSQL")
    parser.add_argument(
        "--pin",
        action="store_true",
        help="the servers under test on the last CPU, the load generator on the others",
    )
    args = parser.parse_args()
    pin = None
    if args.pin:
        if len(os.sched_getaffinity(0)) < 2:
            parser.error("--pin needs at least two CPUs (one for the servers, one for the load)")
        pin = split_cpus()
        os.sched_setaffinity(0, pin[1])  # the load generator
    print(
        f"ours on {'PostgreSQL' if args.postgres else 'SQLite'}; before: {machine()}",
        file=sys.stderr,
    )
    for line in asyncio.run(run(args.requests, args.workers, args.rounds, args.postgres, pin)):
        print(line)
    print(f"after: {machine()}", file=sys.stderr)


if __name__ == "__main__":
    main()
