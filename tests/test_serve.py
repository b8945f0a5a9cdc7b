"""`dxbot serve --adapter slack` run for real: the ack process and its worker processes, signed
requests over HTTP, answers through a fake Slack Web API on 127.0.0.1, a clean stop on SIGTERM;
HTTP mode refused without a signing secret, Socket Mode served without one. The in-process rig
of test_slack.py covers the journeys; this covers the processes. Every wait is for an event (a
log line, a recorded call, a process exit), bounded by a timeout."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.slack import SigningSecretMissing, SlackAdapter, SlackDelivery, to_job
from bot.app import build_services
from bot.core.config import Settings
from bot.server import build_web_app
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
    log: list[str]

    async def dm(self, user: str, text: str, event_id: str) -> int:
        body = json.dumps(dm_event(user, text, event_id), ensure_ascii=False)
        headers = signed_headers(SECRET, body)
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{self.port}/slack/events"
            async with http.post(url, data=body.encode(), headers=headers) as resp:
                return resp.status

    async def stop(self) -> str:
        """SIGTERM, then wait (bounded) for a clean exit; the server's log."""
        self.proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.proc.wait(), 60)
        return "".join(self.log)


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


def _env(tmp_path: Path, fake: FakeSlack, **slack: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LOGO_", "DXBOT_"))}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        DXBOT_PROGRAM="saitama-2026",
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_API_URL=fake.api_url,
        DXBOT_LOG_LEVEL="INFO",  # the server says "serving slack on …" once it listens
        **slack,
    )
    return env


async def _serve(tmp_path: Path, fake: FakeSlack, *args: str, **slack: str) -> Served:
    """Start `dxbot serve --adapter slack` and wait for its "serving" log line (or its exit)."""
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        *(DXBOT, "serve", "--adapter", "slack", "--host", "127.0.0.1", "--port", str(port)),
        *args,
        cwd=tmp_path,
        env=_env(tmp_path, fake, **slack),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    log: list[str] = []

    async def until_serving() -> None:
        assert proc.stderr is not None
        while line := (await proc.stderr.readline()).decode():
            log.append(line)
            if f"serving slack on 127.0.0.1:{port}" in line:
                return
        raise AssertionError(f"dxbot serve exited ({await proc.wait()}):\n{''.join(log)}")

    try:
        await asyncio.wait_for(until_serving(), 60)
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise

    async def keep_reading() -> None:  # a full pipe would block the server's logging
        assert proc.stderr is not None
        while line := (await proc.stderr.readline()).decode():
            log.append(line)

    _readers.add(asyncio.ensure_future(keep_reading()))
    return Served(proc, port, fake, log)


_readers: set[asyncio.Future[None]] = set()


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeSlack]:
    await _prepare(tmp_path / "serve.db")
    slack = FakeSlack()
    await slack.start()
    yield slack
    await slack.stop()


@pytest.fixture
async def served(tmp_path: Path, fake: FakeSlack) -> AsyncIterator[Served]:
    server = await _serve(tmp_path, fake, SLACK_SIGNING_SECRET=SECRET)
    try:
        yield server
    finally:
        if server.proc.returncode is None:
            server.proc.kill()
            await server.proc.wait()


async def _exited(pid: int, limit: float = 10.0) -> None:
    """Wait until process ``pid`` (not our child) has exited: its pidfd becomes readable."""
    fd = os.pidfd_open(pid)
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    loop.add_reader(fd, lambda: done.done() or done.set_result(None))
    try:
        await asyncio.wait_for(done, limit)
    finally:
        loop.remove_reader(fd)
        os.close(fd)


def test_a_stored_delivery_translates_in_the_worker() -> None:
    body = json.dumps(dm_event("U1", "相談したい", "Ev1", thread_ts="9.9"), ensure_ascii=False)
    job = to_job(SlackDelivery("message", "U1", body, DEFAULT_NOW))
    assert job is not None and job.inbound is not None
    assert (job.inbound.user_id, job.inbound.text, job.inbound.event_id) == (
        "U1",
        "相談したい",
        "Ev1",
    )
    assert (job.thread, job.inbound.received_at) == ("9.9", DEFAULT_NOW)


async def test_serve_answers_through_a_worker_process_and_stops_cleanly(served: Served) -> None:
    assert await served.dm("USTAFF", "/dx help", "EvServe1") == 200
    (call,) = await served.fake.wait_for("chat.postMessage", 1, limit=60)
    assert "/status" in json.dumps(call.args, ensure_ascii=False)
    workers = _workers(served.proc.pid)
    assert len(workers) == 1  # --workers defaults to one worker process
    # The work yields the CPU to the acks: the worker is in the idle class, the server not
    # (DXBOT_WORKER_IDLE, bot/workers.py ``yield_to_acks``).
    assert os.sched_getscheduler(workers[0]) == os.SCHED_IDLE
    assert os.sched_getscheduler(served.proc.pid) == os.SCHED_OTHER

    log = await served.stop()
    assert served.proc.returncode == 0, log
    assert not [pid for pid in workers if _alive(pid)]


async def test_a_worker_can_run_in_the_normal_class_at_a_nice_value(
    tmp_path: Path, fake: FakeSlack
) -> None:
    """On a host busy with other work an idle-class worker gets almost no CPU: the operator
    turns the idle class off and chooses the worker's share by its nice value."""
    server = await _serve(
        tmp_path, fake, SLACK_SIGNING_SECRET=SECRET, DXBOT_WORKER_IDLE="false",
        DXBOT_WORKER_NICE="7",
    )  # fmt: skip
    try:
        assert await server.dm("USTAFF", "/dx help", "EvNice1") == 200
        await fake.wait_for("chat.postMessage", 1, limit=60)
        (worker,) = _workers(server.proc.pid)
        assert os.sched_getscheduler(worker) == os.SCHED_OTHER
        assert os.getpriority(os.PRIO_PROCESS, worker) == 7
        # the server keeps the priority it was started with
        assert os.getpriority(os.PRIO_PROCESS, server.proc.pid) == os.getpriority(
            os.PRIO_PROCESS, 0
        )
    finally:
        await server.stop()


async def test_a_worker_that_dies_is_replaced_and_nothing_is_answered_twice(
    served: Served,
) -> None:
    assert await served.dm("USTAFF", "/dx help", "EvServe2") == 200
    await served.fake.wait_for("chat.postMessage", 1, limit=60)
    workers = _workers(served.proc.pid)
    assert workers
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    for pid in workers:
        await _exited(pid)

    assert await served.dm("USTAFF", "/dx help", "EvServe3") == 200
    assert await served.dm("USTAFF", "/dx help", "EvServe3") == 200  # Slack's retry
    # One person's deliveries are handled in order by one worker: once the answer to a later
    # message is out, the retry before it has been handled too.
    assert await served.dm("USTAFF", "/dx help", "EvServe4") == 200
    await served.fake.wait_for("chat.postMessage", 3, limit=60)
    assert len(served.fake.of("chat.postMessage")) == 3
    assert _workers(served.proc.pid) and set(_workers(served.proc.pid)).isdisjoint(workers)


# --- the signing secret ---------------------------------------------------------------------------

REFUSAL = (
    "error: SLACK_SIGNING_SECRET is not set, so requests to /slack/events could not be "
    "verified; set it to the Slack app's Signing Secret (Basic Information), or use "
    "--socket-mode with SLACK_APP_TOKEN."
)


@pytest.mark.parametrize("secret", [None, "", "   "], ids=["unset", "empty", "blank"])
async def test_http_mode_without_a_signing_secret_refuses_to_start(
    tmp_path: Path, fake: FakeSlack, secret: str | None
) -> None:
    """Bolt given no secret verifies against an empty key, so anyone could forge a request:
    the server must refuse, say why in English, and never listen."""
    port = _free_port()
    slack = {} if secret is None else {"SLACK_SIGNING_SECRET": secret}
    proc = await asyncio.create_subprocess_exec(
        *(DXBOT, "serve", "--adapter", "slack", "--host", "127.0.0.1", "--port", str(port)),
        cwd=tmp_path,
        env=_env(tmp_path, fake, **slack),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:  # it started serving: the very mistake this test catches
            proc.kill()
            await proc.wait()
    assert proc.returncode == 2
    assert err.decode().strip() == REFUSAL
    assert out == b""
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
    assert fake.calls == []


def _forged_headers(body: str) -> dict[str, str]:
    """What a forger sends when the app's key is empty: an HMAC-SHA256 under the empty key
    (slack_sdk's own signer refuses an empty secret, so it is computed here)."""
    ts = str(int(time.time()))
    digest = hmac.new(b"", f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/json",
    }


async def test_socket_mode_needs_no_signing_secret(tmp_path: Path, fake: FakeSlack) -> None:
    fake.envelopes.append(
        {
            "envelope_id": "env-serve",
            "type": "events_api",
            "accepts_response_payload": False,
            "payload": dm_event("USTAFF", "/dx help", "EvSocketServe"),
        }
    )
    server = await _serve(tmp_path, fake, "--socket-mode", SLACK_APP_TOKEN="xapp-test")
    try:
        (ack,) = await fake.wait_for("socket.ack", 1, limit=60)
        assert ack.args["envelope_id"] == "env-serve"
        (call,) = await fake.wait_for("chat.postMessage", 1, limit=60)
        assert call.args["channel"] == "DUSTAFF"
        assert "/status" in json.dumps(call.args, ensure_ascii=False)
        async with aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{server.port}"
            async with http.get(f"{base}/healthz") as resp:
                assert resp.status == 200
            # Nothing could verify a request here, so the HTTP route is not there at all.
            body = json.dumps(dm_event("USTAFF", "/dx help", "EvForged"))
            async with http.post(
                f"{base}/slack/events", data=body, headers=_forged_headers(body)
            ) as resp:
                assert resp.status == 404
        log = await server.stop()
        assert server.proc.returncode == 0, log
    finally:
        if server.proc.returncode is None:
            server.proc.kill()
            await server.proc.wait()
    assert len(fake.of("chat.postMessage")) == 1  # the forged request was answered by no one


async def test_the_adapter_itself_refuses_http_mode_without_a_secret(tmp_path: Path) -> None:
    """The guard holds for any caller of the adapter, not only `dxbot serve`."""
    for secret in (None, ""):
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
            SLACK_BOT_TOKEN="xoxb-test-token",
            **({} if secret is None else {"SLACK_SIGNING_SECRET": secret}),
        )
        services = build_services(settings)
        try:
            with pytest.raises(SigningSecretMissing):
                SlackAdapter(services)
            with pytest.raises(SigningSecretMissing):
                build_web_app(services, "slack")
            app, _sender, adapter = build_web_app(services, "slack", socket_mode=True)
            assert adapter is not None and not adapter.receives_http
            assert "/slack/events" not in {r.resource.canonical for r in app.router.routes()}
        finally:
            await services.db.dispose()
