"""Nothing acknowledged is lost: `dxbot serve` is killed outright (SIGKILL of the server, of its
worker, or of both) right after a burst of a few hundred signed messages was acknowledged, then
started again on the same database; every acknowledged message is answered — on Slack exactly
once, on LoGo Chat (no idempotency key in its assumed API) at most the replies in flight at the
kill twice. The replies are counted at the fakes, the far ends of the wire."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.logo import signature
from bot.core.config import Settings
from bot.workers import TASKS_PER_PROCESS, WorkerPool
from store import users
from store.db import Database
from store.migrate import upgrade
from store.profiles import load_profile
from store.seed import seed_program
from tests.conftest import DEFAULT_NOW
from tests.fakes.logo_server import FakeLogo
from tests.fakes.slack_server import FakeSlack, dm_event, signed_headers
from tests.test_serve import _alive, _exited, _free_port, _workers

SLACK_SECRET = "kill-secret"
LOGO_SECRET = "kill-logo-secret"
LOGO_TOKEN = "logo-test-token"
DXBOT = str(Path(sys.executable).with_name("dxbot"))
PEOPLE = 10
# Large enough that the kill lands mid-work: a worker answers ~200 a second now
# (store/sqlite_inline.py), and after a kill of the server alone it runs on until it notices
# (within a second), so a burst of 200 could be answered whole before the kill was complete.
BURST = 600
LEASE = "3"


async def _prepare(path: Path, platform: str) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(db.engine)
        async with db.transaction() as s:
            await seed_program(s, load_profile("saitama-2026"), DEFAULT_NOW)
            for p in range(PEOPLE):
                await users.add(
                    s,
                    platform=platform,
                    platform_id=_person(platform, p),
                    role="staff",
                    now=DEFAULT_NOW,
                )
    finally:
        await db.dispose()


def _person(platform: str, p: int) -> str:
    return f"{'U' if platform == 'slack' else 'L'}STAFF{p}"


class Server:
    """One `dxbot serve` process; its stderr is read on so a full pipe never blocks it."""

    def __init__(self, proc: asyncio.subprocess.Process, port: int) -> None:
        self.proc = proc
        self.port = port
        self.log: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    async def started(self, adapter: str) -> None:
        assert self.proc.stderr is not None
        while line := (await self.proc.stderr.readline()).decode():
            self.log.append(line)
            if f"serving {adapter} on" in line:
                self._reader = asyncio.ensure_future(self._read_on())
                return
        raise AssertionError(f"dxbot serve exited:\n{''.join(self.log)}")

    async def _read_on(self) -> None:
        assert self.proc.stderr is not None
        while line := (await self.proc.stderr.readline()).decode():
            self.log.append(line)

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 10)


async def _serve(tmp_path: Path, adapter: str, env: dict[str, str]) -> Server:
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        *(DXBOT, "serve", "--adapter", adapter, "--host", "127.0.0.1", "--port", str(port)),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    server = Server(proc, port)
    try:
        await asyncio.wait_for(server.started(adapter), 60)
    except BaseException:
        await server.kill()
        raise
    return server


def _base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LOGO_", "DXBOT_"))}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'kill.db'}",
        DXBOT_PROGRAM="saitama-2026",
        DXBOT_LOG_LEVEL="INFO",
        DXBOT_LEASE_SECONDS=LEASE,
    )
    return env


async def _burst(port: int, requests: list[tuple[bytes, dict[str, str]]], path: str) -> int:
    """Send every request (16 at a time); the number answered 200."""
    url = f"http://127.0.0.1:{port}{path}"
    gate = asyncio.Semaphore(16)
    async with aiohttp.ClientSession() as http:

        async def one(body: bytes, headers: dict[str, str]) -> int:
            async with gate, http.post(url, data=body, headers=headers) as resp:
                return resp.status

        statuses = await asyncio.gather(*(one(b, h) for b, h in requests))
    return sum(s == 200 for s in statuses)


async def _kill(server: Server, what: str) -> None:
    """SIGKILL the server, its workers, or both (workers first, as a crash of the host)."""
    workers = _workers(server.proc.pid)
    assert workers
    if what in ("worker", "both"):
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
    if what in ("server", "both"):
        await server.kill()
    if what == "server":  # the orphaned workers notice and stop (or are killed here)
        for pid in workers:
            try:
                await _exited(pid, 15)
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
async def fake_slack(tmp_path: Path) -> AsyncIterator[FakeSlack]:
    await _prepare(tmp_path / "kill.db", "slack")
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def fake_logo(tmp_path: Path) -> AsyncIterator[FakeLogo]:
    await _prepare(tmp_path / "kill.db", "logo")
    fake = FakeLogo(token=LOGO_TOKEN)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.mark.parametrize("what", ["server", "worker", "both"])
async def test_slack_every_acknowledged_message_is_answered_once_after_a_kill(
    tmp_path: Path, fake_slack: FakeSlack, what: str
) -> None:
    env = _base_env(tmp_path)
    env.update(
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_API_URL=fake_slack.api_url,
        SLACK_SIGNING_SECRET=SLACK_SECRET,
    )
    requests = []
    for n in range(BURST):
        body = json.dumps(dm_event(_person("slack", n % PEOPLE), "/dx help", f"EvKill{n}"))
        requests.append((body.encode(), signed_headers(SLACK_SECRET, body)))

    def replies() -> list[str]:
        return [
            str(c.args.get("channel"))
            for c in fake_slack.of("chat.postMessage")
            if str(c.args.get("channel", "")).startswith("DUSTAFF")
        ]

    server = await _serve(tmp_path, "slack", env)
    try:
        assert await _burst(server.port, requests, "/slack/events") == BURST
        await fake_slack.wait_for("chat.postMessage", 10, limit=60)  # killed mid-work
        await _kill(server, what)
        before = len(replies())
        assert before < BURST, "the kill came too late to test anything"
        if what != "worker":
            server = await _serve(tmp_path, "slack", env)
        await fake_slack.wait_for("chat.postMessage", BURST, limit=180)
        await asyncio.sleep(float(LEASE) + 3)  # time for a doubled answer to show
        counts = Counter(replies())
        assert sum(counts.values()) == BURST, (before, counts)
        assert set(counts.values()) == {BURST // PEOPLE}  # each person answered once per message
    finally:
        await server.kill()
    print(f"slack kill of {what}: {before} of {BURST} answered before the kill; all after")


@pytest.mark.parametrize("what", ["server", "worker", "both"])
async def test_logo_every_acknowledged_message_is_answered_after_a_kill(
    tmp_path: Path, fake_logo: FakeLogo, what: str
) -> None:
    env = _base_env(tmp_path)
    env.update(
        LOGO_BASE_URL=fake_logo.base_url,
        LOGO_BOT_TOKEN=LOGO_TOKEN,
        LOGO_WEBHOOK_SECRET=LOGO_SECRET,
    )
    requests = []
    for n in range(BURST):
        person = _person("logo", n % PEOPLE)
        payload = {
            "event_id": f"ev-kill-{n}",
            "type": "message",
            "user": {"id": person},
            "room": {"id": f"dm-{person}", "type": "direct"},
            "text": "/dx help",
        }
        body = json.dumps(payload).encode()
        ts = str(int(time.time()))
        headers = {
            "X-LoGo-Timestamp": ts,
            "X-LoGo-Signature": signature(LOGO_SECRET.encode(), ts, body),
            "Content-Type": "application/json",
        }
        requests.append((body, headers))

    def replies() -> list[str]:
        return [c.target for c in fake_logo.of("/messages") if c.target.startswith("dm-LSTAFF")]

    server = await _serve(tmp_path, "logo", env)
    try:
        assert await _burst(server.port, requests, "/logo/events") == BURST
        await fake_logo.wait_for("/messages", 10, limit=60)  # killed mid-work
        await _kill(server, what)
        before = len(replies())
        assert before < BURST, "the kill came too late to test anything"
        if what != "worker":
            server = await _serve(tmp_path, "logo", env)
        await fake_logo.wait_for("/messages", BURST, limit=180)
        await asyncio.sleep(float(LEASE) + 3)
        counts = Counter(replies())
        assert all(
            counts[_person("logo", p).join(("dm-", ""))] >= BURST // PEOPLE for p in range(PEOPLE)
        )
        doubled = sum(counts.values()) - BURST
        assert 0 <= doubled <= TASKS_PER_PROCESS  # at most the replies in flight at the kill
    finally:
        await server.kill()
    print(f"logo kill of {what}: {before} answered before the kill, {doubled} doubled")


# --- supervision and stopping ----------------------------------------------------------------


async def test_a_dead_worker_is_replaced_at_once_without_waiting_for_a_request(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    server = await _serve(tmp_path, "slack", _slack_env(tmp_path, fake_slack))
    try:
        (old,) = _workers(server.proc.pid)
        os.kill(old, signal.SIGKILL)
        await _exited(old)
        started = time.monotonic()
        said = "worker 0 exited (code -9); starting another"
        while not (
            [pid for pid in _workers(server.proc.pid) if pid != old] and said in "".join(server.log)
        ):
            assert time.monotonic() - started < 5, "no new worker"
            await asyncio.sleep(0.05)
    finally:
        await server.kill()


async def test_a_worker_that_ends_at_its_start_is_started_again_after_a_doubling_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A worker that cannot start (here: a database driver dxbot does not know, which only the
    worker opens) is not spawned again in a tight loop: its first end is replaced at once, the
    next after 0.5 s, then 1 s; and a pool that closes meanwhile starts nothing more."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, DATABASE_URL="postgresql+nosuchdriver://nobody@127.0.0.1/none"
    )
    caplog.set_level(logging.ERROR, logger="dxbot.workers")
    pool = WorkerPool(settings, 1, "slack")
    pool.supervise(asyncio.get_running_loop())
    try:
        started = time.monotonic()
        while "starting another in 1.0s" not in caplog.text:
            assert time.monotonic() - started < 30, caplog.text
            await asyncio.sleep(0.05)
        said = [r.getMessage() for r in caplog.records if r.name == "dxbot.workers"]
        assert said == [
            "worker 0 exited (code 1); starting another",
            "worker 0 exited (code 1) 2 times in a row within 10.0s of its start; "
            "starting another in 0.5s",
            "worker 0 exited (code 1) 3 times in a row within 10.0s of its start; "
            "starting another in 1.0s",
        ]
        assert pool.restarts == 2
    finally:
        pool.close()
    await asyncio.sleep(1.5)
    assert pool.restarts == 2  # the restart that was waiting did not happen after close


@pytest.mark.parametrize("state", ["stuck", "dead"])
async def test_sigterm_stops_within_10_s_whatever_the_workers_do_and_keeps_the_backlog(
    tmp_path: Path, fake_slack: FakeSlack, state: str
) -> None:
    """``stuck``: the worker waits on Slack, which took its post but does not answer;
    ``dead``: the worker was just killed. Either way SIGTERM ends the server within 10 s, and
    the next start answers the whole backlog, each message once."""
    env = _slack_env(tmp_path, fake_slack)
    count = 60
    requests = []
    for n in range(count):
        body = json.dumps(dm_event(_person("slack", n % PEOPLE), "/dx help", f"EvTerm{n}"))
        requests.append((body.encode(), signed_headers(SLACK_SECRET, body)))
    server = await _serve(tmp_path, "slack", env)
    try:
        if state == "stuck":
            fake_slack.gate = asyncio.Event()
        assert await _burst(server.port, requests, "/slack/events") == count
        if state == "stuck":
            await fake_slack.wait_for("chat.postMessage", 1, limit=60)
        else:
            for pid in _workers(server.proc.pid):
                os.kill(pid, signal.SIGKILL)
        workers = _workers(server.proc.pid)
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(server.proc.wait(), 10)
        took = time.monotonic() - started
        assert server.proc.returncode == 0, "".join(server.log)
        assert not [pid for pid in workers if _alive(pid)]
        if fake_slack.gate is not None:
            fake_slack.gate.set()
        server = await _serve(tmp_path, "slack", env)
        await fake_slack.wait_for("chat.postMessage", count, limit=120)
        await asyncio.sleep(float(LEASE) + 3)
        replies = [c for c in fake_slack.of("chat.postMessage") if c.args.get("channel")]
        assert len(replies) == count
    finally:
        await server.kill()
    print(f"SIGTERM with the worker {state}: stopped in {took:.1f} s")


def _slack_env(tmp_path: Path, fake: FakeSlack) -> dict[str, str]:
    env = _base_env(tmp_path)
    env.update(
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_API_URL=fake.api_url,
        SLACK_SIGNING_SECRET=SLACK_SECRET,
    )
    return env
