"""Municipal networks reach the internet only through a proxy: the Web API client and the Socket
Mode connection must both go through HTTPS_PROXY. Tested through a local recording proxy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.adapters.slack import COMMANDS, SlackAdapter, SlackSender
from bot.app import build_services
from bot.core.config import Settings
from bot.core.messages import Outbound
from reminders.clock import FixedClock
from store import users
from store.profiles import load_profile
from store.seed import seed_program
from tests.fakes.proxy import RecordingProxy
from tests.fakes.slack_server import FakeSlack

TOKEN = "xoxb-test-token"


@pytest.fixture
async def rig() -> AsyncIterator[tuple[FakeSlack, RecordingProxy]]:
    fake, proxy = FakeSlack(), RecordingProxy()
    await fake.start()
    await proxy.start()
    yield fake, proxy
    await proxy.stop()
    await fake.stop()


async def test_web_api_goes_through_the_proxy(rig: tuple[FakeSlack, RecordingProxy]) -> None:
    fake, proxy = rig
    settings = Settings(
        _env_file=None,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_API_URL=fake.api_url,  # type: ignore[call-arg]
        HTTPS_PROXY=proxy.url,
    )
    sender = SlackSender.from_settings(settings)
    await sender.send("channel", "CSTAFF", Outbound(text="テスト通知"))
    assert fake.texts("CSTAFF") == ["テスト通知"]
    assert any("chat.postMessage" in r for r in proxy.requests)


async def test_socket_mode_connects_through_the_proxy(
    rig: tuple[FakeSlack, RecordingProxy], db_url: str, clock: FixedClock
) -> None:
    fake, proxy = rig
    settings = Settings(
        _env_file=None,
        DATABASE_URL=db_url,
        SLACK_BOT_TOKEN=TOKEN,  # type: ignore[call-arg]
        SLACK_APP_TOKEN="xapp-test",
        SLACK_API_URL=fake.api_url,
        HTTPS_PROXY=proxy.url,
    )
    services = build_services(settings, clock=clock)
    async with services.db.transaction() as s:
        await seed_program(s, load_profile("saitama-2026"), clock.now())
        await users.add(
            s, platform="slack", platform_id="USTAFF", role="staff", now=clock.now(), name="佐藤"
        )
    adapter = SlackAdapter(services, receives_http=False)  # Socket Mode: no signing secret
    fake.envelopes.append(
        {
            "envelope_id": "env-1",
            "type": "events_api",
            "accepts_response_payload": False,
            "payload": {
                "type": "event_callback",
                "event_id": "EvSock",
                "team_id": "T1",
                "event": {
                    "type": "message",
                    "channel_type": "im",
                    "channel": "DUSTAFF",
                    "user": "USTAFF",
                    "text": "/dx help",
                    "ts": "1.0",
                },
            },
        }
    )
    handler = AsyncSocketModeHandler(adapter.app, "xapp-test", proxy=settings.https_proxy)
    await handler.connect_async()
    try:
        await fake.wait_for("socket.ack")
        await asyncio.wait_for(_until_posted(fake, adapter), 10)
    finally:
        await handler.close_async()
        await services.db.dispose()
    assert fake.of("socket.ack")[0].args["envelope_id"] == "env-1"
    assert any("事務局としてできること" in t for t in fake.texts("DUSTAFF"))
    assert any("apps.connections.open" in r for r in proxy.requests)
    assert any("/ws" in r for r in proxy.requests)


async def _until_posted(fake: FakeSlack, adapter: SlackAdapter) -> None:
    while not fake.texts("DUSTAFF"):
        await adapter.drain()
        await fake.wait_for("chat.postMessage", 1, limit=10)


def test_manifest_declares_what_the_adapter_handles() -> None:
    manifest = yaml.safe_load(
        Path(__file__)
        .parent.parent.joinpath("deploy", "slack-manifest.yaml")
        .read_text(encoding="utf-8")
    )
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == {f"/{c}" for c in ("consult", "status", "report", "deck", "dx")}
    assert all(COMMANDS.match(c) for c in commands)
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "message.im",
        "app_home_opened",
    }
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert {"chat:write", "commands", "im:history", "files:write"} <= set(
        manifest["oauth_config"]["scopes"]["bot"]
    )
