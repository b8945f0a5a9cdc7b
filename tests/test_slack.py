"""The Slack adapter against the real protocol: correctly signed requests to the running aiohttp
app, and a fake Slack Web API on 127.0.0.1 recording every call (see tests/fakes/slack_server)."""

from __future__ import annotations

import io
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pptx import Presentation
from sqlalchemy import func, select

from bot.adapters.slack_blocks import render_blocks
from bot.app import Services, build_services
from bot.core.config import Settings
from bot.core.messages import Choice, Outbound
from bot.server import build_web_app
from reminders.clock import FixedClock
from store import users
from store.models import Case, OutboxMessage
from store.profiles import load_profile
from store.seed import seed_program
from tests.fakes.slack_server import FakeSlack, dm_event, signed_headers

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"


@dataclass
class SlackRig:
    fake: FakeSlack
    client: TestClient
    services: Services
    adapter: Any

    def signed_headers(
        self,
        body: str,
        *,
        ts: int | None = None,
        secret: str = SECRET,
        content_type: str = "application/json",
    ) -> dict[str, str]:
        return signed_headers(secret, body, ts=ts, content_type=content_type)

    async def post_json(self, payload: dict[str, Any], **kw: Any) -> int:
        body = json.dumps(payload, ensure_ascii=False)
        extra = kw.pop("headers", {})
        resp = await self.client.post(
            "/slack/events",
            data=body.encode(),
            headers={**self.signed_headers(body, **kw), **extra},
        )
        await self.adapter.drain()
        return resp.status

    async def post_form(self, fields: dict[str, str], **kw: Any) -> int:
        body = urlencode(fields)
        resp = await self.client.post(
            "/slack/events",
            data=body.encode(),
            headers=self.signed_headers(
                body, content_type="application/x-www-form-urlencoded", **kw
            ),
        )
        await self.adapter.drain()
        return resp.status

    async def dm(self, user: str, text: str, event_id: str, **extra: Any) -> int:
        return await self.post_json(dm_event(user, text, event_id, **extra))

    async def click(self, user: str, action_id: str, value: str, n: int) -> int:
        payload = {
            "type": "block_actions",
            "user": {"id": user},
            "trigger_id": f"trig{n}",
            "channel": {"id": f"D{user}"},
            "message": {"ts": "1.0"},
            "actions": [
                {
                    "action_id": action_id,
                    "value": value,
                    "action_ts": f"17000000{n}.0",
                    "type": "button",
                }
            ],
        }
        return await self.post_form({"payload": json.dumps(payload, ensure_ascii=False)})

    async def command(self, user: str, command: str, text: str, n: int) -> int:
        return await self.post_form(
            {
                "command": command,
                "text": text,
                "user_id": user,
                "channel_id": f"D{user}",
                "trigger_id": f"cmdtrig{n}",
                "team_id": "T1",
            }
        )


@pytest.fixture
async def slack(db_url: str, clock: FixedClock) -> AsyncIterator[SlackRig]:
    fake = FakeSlack()
    await fake.start()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        DATABASE_URL=db_url,
        DXBOT_PROGRAM="saitama-2026",
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.api_url,
        DXBOT_STAFF_CHANNEL="CSTAFF",
        DXBOT_PREFECTURE_CHANNEL="CPREF",
    )
    services = build_services(settings, clock=clock)
    async with services.db.transaction() as s:
        await seed_program(s, load_profile("saitama-2026"), clock.now())
        await users.add(
            s,
            platform="slack",
            platform_id="UOFF",
            role="officer",
            now=clock.now(),
            municipality_code="111007",
            name="山田 花子",
            title="主査",
            department="デジタル推進課",
        )
        await users.add(
            s,
            platform="slack",
            platform_id="USTAFF",
            role="staff",
            now=clock.now(),
            name="佐藤 美咲",
        )
        await users.add(
            s,
            platform="slack",
            platform_id="UPREF",
            role="prefecture",
            now=clock.now(),
            name="鈴木 一郎",
        )
        expert = await users.add(
            s, platform="slack", platform_id="UEXP", role="expert", now=clock.now(), name="田中 誠"
        )
        await users.upsert_expert_profile(
            s,
            expert,
            domains=["セキュリティ対策の徹底"],
            qualifications=["ITコーディネータ"],
            onsite=True,
            region="県南",
            consent_listed=True,
        )
    app, _sender, adapter = build_web_app(services, "slack")
    client = TestClient(TestServer(app))
    await client.start_server()
    yield SlackRig(fake, client, services, adapter)
    await adapter.close()
    await client.close()
    await services.db.dispose()
    await fake.stop()


async def _count(services: Services, model: Any) -> int:
    async with services.db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_intake_by_dm_opens_a_case_and_notifies_channels(slack: SlackRig) -> None:
    status = await slack.dm(
        "UOFF", "セキュリティポリシーの見直しを相談したい。オンラインで12月3日午後希望", "Ev1"
    )
    assert status == 200
    posts = slack.fake.of("chat.postMessage")
    assert posts[-1].args["channel"] == "DUOFF"
    blocks = posts[-1].args["blocks"]
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["value"] for b in buttons] == ["submit", "edit", "cancel"]
    assert "2026年12月3日(木) 午後" in json.dumps(blocks, ensure_ascii=False)

    assert await slack.click("UOFF", buttons[0]["action_id"], "submit", 1) == 200
    assert "SAI-2026-0001" in slack.fake.texts("DUOFF")[-1]
    staff = slack.fake.texts("CSTAFF")
    pref = slack.fake.texts("CPREF")
    assert any("SAI-2026-0001" in t and "受付" in t for t in staff)
    assert any("SAI-2026-0001" in t for t in pref)
    assert await _count(slack.services, Case) == 1


async def test_duplicate_event_delivery_is_handled_once(slack: SlackRig) -> None:
    text = "セキュリティポリシーの見直しを相談したい。オンラインで12月3日午後希望"
    await slack.dm("UOFF", text, "EvDup")
    first = len(slack.fake.of("chat.postMessage"))
    status = await slack.post_json(
        {
            "type": "event_callback",
            "event_id": "EvDup",
            "team_id": "T1",
            "event": {
                "type": "message",
                "channel_type": "im",
                "channel": "DUOFF",
                "user": "UOFF",
                "text": text,
                "ts": "1.0",
            },
        },
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert status == 200
    assert len(slack.fake.of("chat.postMessage")) == first


@pytest.mark.parametrize("case", ["bad_signature", "stale"])
async def test_unverified_requests_are_refused(slack: SlackRig, case: str) -> None:
    body = json.dumps(
        {
            "type": "event_callback",
            "event_id": "EvX",
            "event": {
                "type": "message",
                "channel_type": "im",
                "user": "UOFF",
                "text": "相談したい",
                "channel": "DUOFF",
            },
        }
    )
    if case == "bad_signature":
        headers = slack.signed_headers(body, secret="wrong-secret")
    else:
        headers = slack.signed_headers(body, ts=int(time.time()) - 600)
    resp = await slack.client.post("/slack/events", data=body.encode(), headers=headers)
    assert resp.status == 401
    assert slack.fake.of("chat.postMessage") == []


async def test_malformed_bodies_get_400(slack: SlackRig) -> None:
    for body, ctype in (
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ("", "application/json"),
        ("payload=%7Bbroken", "application/x-www-form-urlencoded"),
        ("", "application/x-www-form-urlencoded"),
        ("command=/status", "text/plain"),
        ("hello=world", "application/x-www-form-urlencoded"),
    ):
        resp = await slack.client.post(
            "/slack/events",
            data=body.encode(),
            headers=slack.signed_headers(body, content_type=ctype),
        )
        assert resp.status == 400


async def test_mentions_in_user_text_are_never_echoed_live(slack: SlackRig) -> None:
    await slack.dm(
        "UOFF",
        "<!channel> <@U999> 至急セキュリティについて相談したいです。オンラインで12月3日午後希望",
        "EvM",
    )
    dumped = json.dumps([c.args for c in slack.fake.of("chat.postMessage")], ensure_ascii=False)
    assert "<!channel>" not in dumped
    assert "<@U999>" not in dumped
    assert "&lt;!channel&gt;" in dumped


async def test_unknown_user_is_told_how_to_register(slack: SlackRig) -> None:
    await slack.dm("UNOBODY", "こんにちは", "EvU")
    texts = slack.fake.texts("DUNOBODY")
    assert len(texts) == 1
    assert "UNOBODY" in texts[0] and "登録" in texts[0]


async def test_long_text_is_refused_politely(slack: SlackRig) -> None:
    await slack.dm("UOFF", "あ" * 40_000, "EvLong")
    assert "40,000" in slack.fake.texts("DUOFF")[-1]
    assert await _count(slack.services, Case) == 0


async def test_slash_command_is_acked_and_answered(slack: SlackRig) -> None:
    assert await slack.command("USTAFF", "/dx", "help", 1) == 200
    texts = slack.fake.texts("DUSTAFF")
    assert any("事務局としてできること" in t for t in texts)


async def test_rate_limited_messages_are_retried_and_sent_once(
    slack: SlackRig, clock: FixedClock
) -> None:
    await slack.dm(
        "UOFF", "セキュリティポリシーの見直しを相談したい。オンラインで12月3日午後希望", "EvR"
    )
    await slack.click("UOFF", "choice#0", "submit", 7)
    assert any("SAI-2026-0001" in t for t in slack.fake.texts("CSTAFF"))
    # The reply to the next command and the next message sent (the staff's notice) are rate
    # limited.
    for _ in range(2):
        slack.fake.fail(
            "chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "30"}
        )
    await slack.command("UOFF", "/dx", "withdraw SAI-2026-0001", 8)
    async with slack.services.db.transaction() as s:
        pending = await s.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.delivered_at.is_(None))
        )
    assert pending == 2  # both wait for Retry-After; nothing was dropped
    delivered = len(slack.fake.of("chat.postMessage"))
    await slack.adapter.deliver_outbox()  # too early: Retry-After is not over yet
    assert len(slack.fake.of("chat.postMessage")) == delivered
    clock.advance(seconds=31)
    await slack.adapter.deliver_outbox()
    await slack.adapter.deliver_outbox()
    assert sum("を取り下げました" in t for t in slack.fake.texts("DUOFF")) == 1
    assert sum("取下げ" in t for t in slack.fake.texts("CSTAFF")) == 1
    assert sum("取下げ" in t for t in slack.fake.texts("CPREF")) == 1


async def test_app_home_is_published_on_open(slack: SlackRig) -> None:
    await slack.post_json(
        {
            "type": "event_callback",
            "event_id": "EvHome",
            "team_id": "T1",
            "event": {"type": "app_home_opened", "user": "UOFF", "tab": "home"},
        }
    )
    published = slack.fake.of("views.publish")
    assert published and published[-1].args["user_id"] == "UOFF"


async def test_healthz(slack: SlackRig) -> None:
    resp = await slack.client.get("/healthz")
    assert resp.status == 200
    assert (await resp.json())["ok"] is True


async def test_intake_by_modal(slack: SlackRig) -> None:
    assert await slack.command("UOFF", "/consult", "form", 20) == 200
    opened = slack.fake.of("views.open")
    assert opened, "the intake form opens as a modal"
    view = opened[-1].args["view"]
    assert view["callback_id"] == "intake_form"
    labels = [b["label"]["text"] for b in view["blocks"]]
    assert "相談内容" in labels and "団体名" not in labels  # an officer's municipality is known
    submission = {
        "type": "view_submission",
        "user": {"id": "UOFF"},
        "trigger_id": "t-view",
        "view": {
            "id": "V1",
            "type": "modal",
            "hash": "h1",
            "callback_id": "intake_form",
            "state": {
                "values": {
                    "department": {
                        "department": {"type": "plain_text_input", "value": "情報政策課"}
                    },
                    "requester_name": {
                        "requester_name": {"type": "plain_text_input", "value": "山田 花子"}
                    },
                    "requester_title": {
                        "requester_title": {"type": "plain_text_input", "value": "主査"}
                    },
                    "description": {
                        "description": {
                            "type": "plain_text_input",
                            "value": "生成AIの利用ガイドラインを作りたい",
                        }
                    },
                    "domains[]": {
                        "domains[]": {
                            "type": "multi_static_select",
                            "selected_options": [{"value": "自治体のAIの利用促進"}],
                        }
                    },
                    "method": {
                        "method": {"type": "static_select", "selected_option": {"value": "online"}}
                    },
                    "dates": {"dates": {"type": "plain_text_input", "value": "12月3日 午後"}},
                }
            },
        },
    }
    assert await slack.post_form({"payload": json.dumps(submission, ensure_ascii=False)}) == 200
    summary = slack.fake.of("chat.postMessage")[-1].args
    dumped = json.dumps(summary["blocks"], ensure_ascii=False)
    assert "生成AIの利用ガイドラインを作りたい" in dumped and "2026年12月3日(木) 午後" in dumped
    await slack.click("UOFF", "choice#0", "submit", 21)
    assert "SAI-2026-0001" in slack.fake.texts("DUOFF")[-1]


def _buttons(call_args: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in call_args["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def test_matching_and_follow_up_over_slack(slack: SlackRig, clock: FixedClock) -> None:
    from bot.app import remind_once

    await slack.dm(
        "UOFF", "セキュリティポリシーの見直しを相談したい。オンラインで12月3日午後希望", "EvJ1"
    )
    await slack.click("UOFF", "choice#0", "submit", 31)
    await slack.command("USTAFF", "/dx", "match SAI-2026-0001", 32)
    proposal = slack.fake.of("chat.postMessage")[-1].args
    assert "田中 誠" in json.dumps(proposal["blocks"], ensure_ascii=False)
    pick = _buttons(proposal)[0]
    await slack.click("USTAFF", pick["action_id"], pick["value"], 33)
    approval = [c.args for c in slack.fake.of("chat.postMessage") if c.args["channel"] == "DUPREF"]
    approve = _buttons(approval[-1])[0]
    await slack.click("UPREF", approve["action_id"], approve["value"], 34)
    assert any("承認" in t for t in slack.fake.texts("DUPREF"))
    await slack.command(
        "USTAFF", "/dx", "schedule SAI-2026-0001 2026-11-18 14:00 2 online Teams", 35
    )
    assert any("日程を登録しました" in t for t in slack.fake.texts("DUSTAFF"))

    clock.set(clock.now().replace(day=18, hour=16, minute=30))
    await remind_once(slack.services)
    await slack.adapter.deliver_outbox()
    ping = [c.args for c in slack.fake.of("chat.postMessage") if c.args["channel"] == "DUEXP"][-1]
    assert "支援実施報告" in ping["text"]
    start = _buttons(ping)[0]
    await slack.click("UEXP", start["action_id"], start["value"], 36)
    notes = (
        "情報政策課 主査 山田花子\n概要：ポリシーが古い\n回答：改定手順を助言\n課題：人員不足\n"
        "方針：年度内に改定\n効果：手順が明確になった\n資料：比較表\n次回：1月"
    )
    await slack.dm("UEXP", notes, "EvJ2")
    await slack.dm("UEXP", "はい", "EvJ3")  # hours as scheduled
    summary = slack.fake.of("chat.postMessage")[-1].args
    submit = _buttons(summary)[0]
    await slack.click("UEXP", submit["action_id"], submit["value"], 37)
    uploads = slack.fake.of("files.completeUploadExternal")
    # Saitama's 相談窓口 reports are submitted to the prefecture (the track's report.submitted_to).
    assert uploads and uploads[-1].args["channel_id"] == "CPREF"
    assert any(
        name.endswith(".xlsx")
        for name in [
            c.args.get("filename", "") for c in slack.fake.of("files.getUploadURLExternal")
        ]
    )
    assert any("報告済" in t for t in slack.fake.texts("CPREF"))


async def test_status_and_deck_by_slash_command(slack: SlackRig) -> None:
    assert await slack.command("USTAFF", "/status", "", 50) == 200
    assert any("【進捗】" in t for t in slack.fake.texts("DUSTAFF"))

    assert await slack.command("USTAFF", "/deck", "", 51) == 200
    await slack.fake.wait_for("files.completeUploadExternal", 1, limit=60)
    (meta,) = slack.fake.of("files.getUploadURLExternal")
    assert meta.args["filename"].endswith(".pptx")
    (done,) = slack.fake.of("files.completeUploadExternal")
    assert done.args["channel_id"] == "DUSTAFF"
    (file_id,) = slack.fake.uploads
    assert [f["id"] for f in done.args["files"]] == [file_id]
    assert "PowerPoint" in done.args["initial_comment"]  # the text travels with the file
    assert len(Presentation(io.BytesIO(slack.fake.uploads[file_id])).slides) >= 10


async def test_a_failed_upload_is_retried_and_shown_once(
    slack: SlackRig, clock: FixedClock
) -> None:
    slack.fake.fail("files.completeUploadExternal", 502, "<html>Bad Gateway</html>")
    assert await slack.command("USTAFF", "/dx", "export cases csv", 52) == 200
    await slack.fake.wait_for("files.completeUploadExternal:failed", 1, limit=60)
    async with slack.services.db.transaction() as s:
        pending = await s.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.delivered_at.is_(None))
        )
    assert pending == 1  # kept for a retry, not lost
    clock.advance(seconds=120)
    await slack.adapter.deliver_outbox()
    (done,) = slack.fake.of("files.completeUploadExternal")
    assert done.args["channel_id"] == "DUSTAFF"
    assert "CSV" in done.args["initial_comment"]
    # The person saw the "ready" text once: with the file, never as a separate message.
    assert not [t for t in slack.fake.texts("DUSTAFF") if "をお送りします" in t]


async def test_a_replayed_signed_request_is_handled_once(slack: SlackRig) -> None:
    """The same signed bytes sent again (a replay inside the 5-minute window) change nothing."""
    body = urlencode(
        {
            "command": "/consult",
            "text": "",
            "user_id": "UOFF",
            "channel_id": "DUOFF",
            "trigger_id": "replayed-trigger",
            "team_id": "T1",
        }
    )
    headers = slack.signed_headers(body, content_type="application/x-www-form-urlencoded")
    for _ in range(2):
        resp = await slack.client.post("/slack/events", data=body.encode(), headers=headers)
        await slack.adapter.drain()
        assert resp.status == 200
    asked = len(slack.fake.of("chat.postMessage")) + len(slack.fake.of("views.open"))
    assert asked == 1


async def test_unknown_event_types_and_action_ids_are_harmless(slack: SlackRig) -> None:
    status = await slack.post_json(
        {
            "type": "event_callback",
            "event_id": "EvReact",
            "team_id": "T1",
            "event": {"type": "reaction_added", "user": "UOFF", "reaction": "+1"},
        }
    )
    assert status == 200
    assert slack.fake.of("chat.postMessage") == []

    assert await slack.click("UOFF", "no_such_action#0", "x", 60) == 200
    # One polite answer pointing to /consult and /dx help, never an error trace.
    assert slack.fake.texts("DUOFF") == [
        "申し訳ありません。ご用件を読み取れませんでした。相談のお申し込みは「/consult」と、"
        "使い方の確認は「/dx help」とご入力ください。"
    ]
    assert await _count(slack.services, Case) == 0


async def test_the_bots_own_messages_and_edits_are_acknowledged_and_never_answered(
    slack: SlackRig,
) -> None:
    """Slack sends the app its own DM posts back as ``message.im``; answering them would loop.
    Bolt's self-event filter is off (bot/adapters/slack.py), so the worker's is the guard."""
    text = "セキュリティポリシーの見直しを相談したい。オンラインで12月3日午後希望"
    assert await slack.dm("UOFF", text, "EvBot", bot_id="B1") == 200
    assert await slack.dm("UOFF", text, "EvEdit", subtype="message_changed") == 200
    assert slack.fake.of("chat.postMessage") == []
    # The same words from the officer are answered: the two above were set aside, not lost.
    assert await slack.dm("UOFF", text, "EvOfficer") == 200
    assert slack.fake.texts("DUOFF") != []


# --- Block Kit rendering (bot/adapters/slack_blocks.py) -------------------------------------------


def test_a_message_renders_as_text_fields_and_buttons() -> None:
    message = Outbound(
        text="<!channel> 内容をご確認ください & 申し込みますか？",
        fields=(("分野", "自治体のAIの利用促進"),),
        choices=(Choice(label="申し込む", value="submit", style="primary"), Choice(label="やめる", value="cancel")),
    )  # fmt: skip
    assert render_blocks(message) == [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "&lt;!channel&gt; 内容をご確認ください &amp; 申し込みますか？",
            },
        },
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "*分野*\n自治体のAIの利用促進"}]},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "申し込む"},
                    "value": "submit",
                    "action_id": "choice#0",
                    "style": "primary",
                },
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "やめる"},
                    "value": "cancel",
                    "action_id": "choice#1",
                },
            ],
        },
    ]


def test_more_than_five_choices_become_one_select() -> None:
    message = Outbound(
        text="専門家を選んでください",
        action_id="pick",
        choices=tuple(Choice(label=f"専門家{i}", value=str(i)) for i in range(1, 7)),
    )
    (_text, actions) = render_blocks(message)
    (select_menu,) = actions["elements"]
    assert select_menu["type"] == "static_select"
    assert select_menu["action_id"] == "pick#select"
    assert [(o["text"]["text"], o["value"]) for o in select_menu["options"]] == [
        ("専門家1", "1"),
        ("専門家2", "2"),
        ("専門家3", "3"),
        ("専門家4", "4"),
        ("専門家5", "5"),
        ("専門家6", "6"),
    ]


async def test_a_reply_slack_took_but_answered_late_is_not_posted_again(
    slack: SlackRig, clock: FixedClock
) -> None:
    """Slack posted the reply but the app heard a 504: the retry finds the reply's outbox id in
    the conversation's message metadata and posts nothing."""
    slack.fake.take_then_fail = 1
    assert await slack.dm("USTAFF", "/dx help", "EvLate") == 200
    (taken,) = slack.fake.of("chat.postMessage:taken")
    assert taken.args["metadata"]["event_type"] == "dxbot_outbox"
    assert slack.fake.of("chat.postMessage") == []
    clock.advance(seconds=6)  # the first retry waits 5 s
    await slack.adapter.deliver_outbox()
    assert slack.fake.of("conversations.history")  # looked before posting again
    assert slack.fake.of("chat.postMessage") == []  # and found it there
    async with slack.services.db.transaction() as s:
        pending = await s.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.delivered_at.is_(None))
        )
    assert pending == 0


async def test_a_reply_lost_on_the_way_is_posted_by_the_retry(
    slack: SlackRig, clock: FixedClock
) -> None:
    slack.fake.fail("chat.postMessage", 503, "<html>Service Unavailable</html>")
    assert await slack.dm("USTAFF", "/dx help", "EvLost") == 200
    assert slack.fake.of("chat.postMessage") == []
    clock.advance(seconds=6)
    await slack.adapter.deliver_outbox()
    (posted,) = slack.fake.of("chat.postMessage")
    assert posted.args["channel"] == "DUSTAFF"
