"""What arrives at the webhooks that is not a proper delivery: the Slack signature is checked on
the raw bytes before anything parses them; bodies too deep, too large, too slow or malformed get
a 4xx and one log line, never a traceback; a client that goes away logs nothing above debug; and
every kind of delivery Slack may send is acknowledged 2xx, an unknown one logged once at info.
On SQLite and PostgreSQL (the adapters store what they acknowledge)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters import http_body
from bot.adapters.logo import signature
from bot.app import Services, build_services
from bot.core.config import Settings
from bot.server import build_web_app
from reminders.clock import FixedClock
from store import inbox
from tests.fakes.slack_server import FakeSlack, signed_headers

SECRET = "hardening-secret"
LOGO_SECRET = "hardening-logo-secret"
DEEP = b"[" * 200_000 + b"]" * 200_000


@dataclass
class Rig:
    client: TestClient
    services: Services
    adapter: Any

    async def post(self, body: bytes, headers: dict[str, str], path: str = "/slack/events") -> int:
        resp = await self.client.post(path, data=body, headers=headers)
        return resp.status

    async def stored(self) -> int:
        async with self.services.db.transaction() as s:
            return len(await inbox.all_items(s))


def _settings(db_url: str, **extra: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, DATABASE_URL=db_url, DXBOT_PROGRAM="saitama-2026", **extra
    )


@pytest.fixture
async def slack(db_url: str, clock: FixedClock) -> AsyncIterator[Rig]:
    fake = FakeSlack()
    await fake.start()
    settings = _settings(
        db_url,
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.api_url,
    )
    services = build_services(settings, clock=clock)
    app, _sender, adapter = build_web_app(services, "slack", inline=False)
    client = TestClient(TestServer(app))
    await client.start_server()
    yield Rig(client, services, adapter)
    await client.close()
    await services.db.dispose()
    await fake.stop()


@pytest.fixture
async def logo(db_url: str) -> AsyncIterator[Rig]:
    settings = _settings(
        db_url,
        LOGO_BASE_URL="http://127.0.0.1:9/api/v1",
        LOGO_BOT_TOKEN="t",
        LOGO_WEBHOOK_SECRET=LOGO_SECRET,
    )
    # LoGo's signature carries a timestamp checked against the bot's clock: a real one here.
    services = build_services(settings)
    app, _sender, _adapter = build_web_app(services, "logo", inline=False)
    client = TestClient(TestServer(app))
    await client.start_server()
    yield Rig(client, services, None)
    await client.close()
    await services.db.dispose()


def _our_lines(
    caplog: pytest.LogCaptureFixture, level: int = logging.DEBUG
) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        # the access log is the test server's; `dxbot serve` runs without one
        if r.levelno >= level
        and r.name.startswith(("dxbot", "aiohttp", "slack_bolt"))
        and r.name != "aiohttp.access"
    ]


def _one_line_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    lines = _our_lines(caplog, logging.INFO)
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert lines[0].exc_info is None


async def test_an_unsigned_deep_body_is_refused_before_it_is_parsed(
    slack: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": "1"}
    assert await slack.post(DEEP, headers) == 401
    _one_line_no_traceback(caplog)
    assert await slack.stored() == 0


async def test_a_signed_but_deep_or_malformed_body_is_400_with_one_line(
    slack: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    for body in (DEEP.decode(), "{not json", "[1, 2]"):
        caplog.clear()
        caplog.set_level(logging.DEBUG)
        assert await slack.post(body.encode(), signed_headers(SECRET, body)) == 400
        _one_line_no_traceback(caplog)
    assert await slack.stored() == 0


async def test_a_body_too_large_is_413(slack: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = "x" * (http_body.MAX_BODY + 1)
    assert await slack.post(body.encode(), signed_headers(SECRET, body)) == 413
    _one_line_no_traceback(caplog)


async def test_a_trickled_body_is_cut_off(
    slack: Rig, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_body, "READ_TIMEOUT", 0.5)
    caplog.set_level(logging.DEBUG)
    server = slack.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{"
    )
    await writer.drain()
    started = time.monotonic()
    status = await asyncio.wait_for(reader.readline(), 5)
    assert status.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < 3
    writer.close()
    _one_line_no_traceback(caplog)


async def test_a_client_that_goes_away_mid_body_logs_nothing_above_debug(
    slack: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = slack.client.server
    _reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{"
    )
    await writer.drain()
    await asyncio.sleep(0.1)
    writer.transport.abort()
    await asyncio.sleep(0.3)
    assert _our_lines(caplog, logging.INFO) == []


@pytest.mark.parametrize(
    ("name", "payload", "form"),
    [
        (
            "app_rate_limited",
            {
                "type": "app_rate_limited",
                "token": "t",
                "team_id": "T1",
                "minute_rate_limited": 1518467820,
                "api_app_id": "A1",
            },
            False,
        ),
        (
            "view_closed",
            {
                "type": "view_closed",
                "user": {"id": "U1"},
                "view": {"id": "V1", "callback_id": "x"},
                "is_cleared": False,
            },
            True,
        ),
        (
            "shortcut",
            {
                "type": "shortcut",
                "callback_id": "someone_elses",
                "user": {"id": "U1"},
                "trigger_id": "t1",
            },
            True,
        ),
        (
            "message_action",
            {
                "type": "message_action",
                "callback_id": "other",
                "user": {"id": "U1"},
                "channel": {"id": "C1"},
                "message": {"ts": "1.0"},
                "trigger_id": "t2",
            },
            True,
        ),
        (
            "event",
            {
                "type": "event_callback",
                "event_id": "EvX",
                "team_id": "T1",
                "event": {"type": "reaction_added", "user": "U1"},
            },
            False,
        ),
    ],
)
async def test_every_delivery_slack_may_send_is_acknowledged(
    slack: Rig, caplog: pytest.LogCaptureFixture, name: str, payload: dict[str, Any], form: bool
) -> None:
    caplog.set_level(logging.INFO)
    if form:
        body = urlencode({"payload": json.dumps(payload)})
        headers = signed_headers(SECRET, body, content_type="application/x-www-form-urlencoded")
    else:
        body = json.dumps(payload)
        headers = signed_headers(SECRET, body)
    for _ in range(2):
        assert await slack.post(body.encode(), headers) == 200
    noted = [r for r in caplog.records if "not handled; acknowledged" in r.getMessage()]
    assert len(noted) <= 1  # an unknown kind is logged once, not on every delivery


async def test_logo_deep_malformed_and_large_bodies_are_4xx_with_one_line(
    logo: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    for body, expected in ((DEEP, 400), (b"{oops", 400), (b"x" * (http_body.MAX_BODY + 1), 413)):
        caplog.clear()
        caplog.set_level(logging.DEBUG)
        ts = str(int(time.time()))
        headers = {
            "X-LoGo-Timestamp": ts,
            "X-LoGo-Signature": signature(LOGO_SECRET.encode(), ts, body),
            "Content-Type": "application/json",
        }
        assert await logo.post(body, headers, "/logo/events") == expected
        _one_line_no_traceback(caplog)
    assert await logo.stored() == 0
