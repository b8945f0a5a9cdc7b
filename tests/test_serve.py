"""`dxbot serve --adapter slack` run for real: the ack process and its worker processes, signed
requests over HTTP, answers through a fake Slack Web API on 127.0.0.1, a clean stop on SIGTERM.
The in-process rig of test_slack.py covers the journeys; this covers the processes."""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.slack import SlackDelivery, to_job
from store import users
from store.db import Database
from store.migrate import upgrade
from store.profiles import load_profile
from store.seed import seed_program
from tests.conftest import DEFAULT_NOW
from tests.fakes.slack_server import FakeSlack, dm_event, signed_headers

SECRET = "serve-secret"
DXBOT = str(Path(sys.executable).with_name("dxbot"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc, Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _workers(pid: int) -> list[int]:
    """The worker processes of the server ``pid`` (spawned by multiprocessing)."""
    return [
        child for child in _children(pid) if b"spawn_main" in _read(Path(f"/proc/{child}/cmdline"))
    ]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    stat = _read(Path(f"/proc/{pid}/stat"))
    return bool(stat) and stat.rsplit(b")", 1)[1].split()[0] != b"Z"


@dataclass
class Served:
    proc: asyncio.subprocess.Process
    port: int
    fake: FakeSlack

    async def dm(self, user: str, text: str, event_id: str) -> int:
        body = json.dumps(dm_event(user, text, event_id), ensure_ascii=False)
        headers = signed_headers(SECRET, body)
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{self.port}/slack/events"
            async with http.post(url, data=body.encode(), headers=headers) as resp:
                return resp.status


async def _prepare(path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(db.engine)
        async with db.transaction() as s:
            await seed_program(s, load_profile("saitama-2026"), DEFAULT_NOW)
            await users.add(
                s, platform="slack", platform_id="USTAFF", role="staff", now=DEFAULT_NOW
            )
    finally:
        await db.dispose()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    await _prepare(tmp_path / "serve.db")
    fake = FakeSlack()
    await fake.start()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LOGO_", "DXBOT_"))}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        DXBOT_PROGRAM="saitama-2026",
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.api_url,
        DXBOT_LOG_LEVEL="WARNING",
    )
    proc = await asyncio.create_subprocess_exec(
        *(DXBOT, "serve", "--adapter", "slack", "--host", "127.0.0.1", "--port", str(port)),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if proc.returncode is not None:
                    raise AssertionError((await proc.communicate())[1].decode())
                await asyncio.sleep(0.1)
        yield Served(proc, port, fake)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await fake.stop()


def test_a_delivery_crosses_to_a_worker_unchanged_and_translates_there() -> None:
    body = json.dumps(dm_event("U1", "相談したい", "Ev1", thread_ts="9.9"), ensure_ascii=False)
    delivery = SlackDelivery("message", "U1", body, DEFAULT_NOW)
    # The pool's queue pickles what it carries.
    crossed = pickle.loads(pickle.dumps(delivery))
    assert crossed == delivery
    job = to_job(crossed)
    assert job is not None and job.inbound is not None
    assert (job.inbound.user_id, job.inbound.text, job.inbound.event_id) == (
        "U1",
        "相談したい",
        "Ev1",
    )
    assert (job.thread, job.inbound.received_at) == ("9.9", DEFAULT_NOW)
    # One person's deliveries always go to the same worker, so their messages stay in order.
    assert len({delivery.shard(4) for _ in range(10)}) == 1
    assert {SlackDelivery("home", f"U{i}", "{}", DEFAULT_NOW).shard(4) for i in range(50)} == {
        0,
        1,
        2,
        3,
    }


async def test_serve_answers_through_a_worker_process_and_stops_cleanly(served: Served) -> None:
    assert await served.dm("USTAFF", "/dx help", "EvServe1") == 200
    (call,) = await served.fake.wait_for("chat.postMessage", 1, limit=60)
    assert "/status" in json.dumps(call.args, ensure_ascii=False)
    workers = _workers(served.proc.pid)
    assert len(workers) == 1  # --workers defaults to one worker process
    # The work yields the CPU to the acks: an arriving request preempts it at once.
    assert os.sched_getscheduler(workers[0]) == os.SCHED_IDLE

    served.proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(served.proc.communicate(), 60)
    assert served.proc.returncode == 0, err.decode()
    assert not [pid for pid in workers if _alive(pid)]


async def test_a_worker_that_dies_is_replaced_and_nothing_is_answered_twice(
    served: Served,
) -> None:
    assert await served.dm("USTAFF", "/dx help", "EvServe2") == 200
    await served.fake.wait_for("chat.postMessage", 1, limit=60)
    workers = _workers(served.proc.pid)
    assert workers
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(0.5)

    assert await served.dm("USTAFF", "/dx help", "EvServe3") == 200
    assert await served.dm("USTAFF", "/dx help", "EvServe3") == 200  # Slack's retry
    await served.fake.wait_for("chat.postMessage", 2, limit=60)
    await asyncio.sleep(1.0)
    assert len(served.fake.of("chat.postMessage")) == 2
    assert _workers(served.proc.pid) and set(_workers(served.proc.pid)).isdisjoint(workers)
