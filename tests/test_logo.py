"""The LoGo Chat adapter against its (assumed) protocol: correctly signed webhooks sent to the
running aiohttp app, and a fake LoGo Chat REST API on 127.0.0.1 recording every call (see
tests/fakes/logo_server.py). The signature is computed here from the documented format, not
with the adapter's own helper, so the test checks the documentation too."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from pptx import Presentation
from sqlalchemy import func, select

from bot.adapters.logo import (
    EVENTS_PATH,
    LOGO_ADAPTER,
    ZWSP,
    LogoAdapter,
    LogoEvent,
    LogoSender,
    add_routes,
    defuse_mentions,
    render_text,
)
from bot.app import Services, build_services
from bot.core.catalog import t
from bot.core.config import Settings
from bot.core.errors import CliError
from bot.core.messages import Choice, FileOut, Outbound
from bot.core.notifier import DeliveryError, Notifier
from reminders.clock import FixedClock
from store import users
from store.models import Case, OutboxMessage, ProcessedEvent
from store.profiles import load_profile
from store.seed import seed_program
from tests.conftest import DEFAULT_NOW
from tests.fakes.logo_server import FakeLogo
from tests.fakes.proxy import RecordingProxy

SECRET = "logo-test-secret"
TOKEN = "logo-test-token"
STAFF_ROOM = "room-staff"
PREF_ROOM = "room-pref"
INTAKE = "セキュリティポリシーの見直しを相談したい。オンラインで12月3日午後希望"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def dm_room(user: str) -> str:
    return f"dm-{user}"


def sign(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    """The documented signature: v1=hex(HMAC-SHA256(secret, "<timestamp>." + body))."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


@dataclass
class LogoRig:
    fake: FakeLogo
    client: TestClient
    services: Services
    adapter: LogoAdapter
    clock: FixedClock

    def headers(
        self, body: bytes, *, skew: int = 0, secret: str = SECRET, sign_body: bytes | None = None
    ) -> dict[str, str]:
        ts = str(int(self.clock.now().timestamp()) + skew)
        return {
            "Content-Type": "application/json",
            "X-LoGo-Timestamp": ts,
            "X-LoGo-Signature": sign(body if sign_body is None else sign_body, ts, secret),
        }

    async def post(
        self, body: bytes, headers: dict[str, str] | None = None, *, drain: bool = True
    ) -> ClientResponse:
        resp = await self.client.post(
            EVENTS_PATH, data=body, headers=self.headers(body) if headers is None else headers
        )
        if drain:
            await self.adapter.drain()
        return resp

    async def say(
        self, user: str, text: str, event_id: str, *, drain: bool = True, **extra: Any
    ) -> int:
        body = json.dumps(event(user, text, event_id, **extra), ensure_ascii=False).encode()
        return int((await self.post(body, drain=drain)).status)


def event(user: str, text: str, event_id: str, **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "event_id": event_id,
        "type": "message",
        "user": {"id": user},
        "room": {"id": dm_room(user), "type": "direct"},
        "text": text,
        "thread_id": None,
        "attachments": [],
        "timestamp": "2026-11-16T10:00:00+09:00",
    }
    payload.update(extra)
    return payload


async def _seed(services: Services, clock: FixedClock) -> None:
    async with services.db.transaction() as s:
        await seed_program(s, load_profile("saitama-2026"), clock.now())
        people = (
            ("LOFF", "officer", "111007", "山田 花子"),
            ("LSTAFF", "staff", None, "佐藤 美咲"),
            ("LPREF", "prefecture", None, "鈴木 一郎"),
        )
        for pid, role, muni, name in people:
            await users.add(
                s,
                platform="logo",
                platform_id=pid,
                role=role,
                now=clock.now(),
                municipality_code=muni,
                name=name,
                title="主査" if role == "officer" else "",
                department="デジタル推進課" if role == "officer" else "",
            )
        expert = await users.add(
            s, platform="logo", platform_id="LEXP", role="expert", now=clock.now(), name="田中 誠"
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


def logo_settings(
    base_url: str, db_url: str = "sqlite+aiosqlite:///unused.db", **extra: Any
) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        DATABASE_URL=db_url,
        DXBOT_PROGRAM="saitama-2026",
        LOGO_BASE_URL=base_url,
        LOGO_BOT_TOKEN=TOKEN,
        LOGO_WEBHOOK_SECRET=SECRET,
        DXBOT_STAFF_CHANNEL=STAFF_ROOM,
        DXBOT_PREFECTURE_CHANNEL=PREF_ROOM,
        **extra,
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeLogo]:
    server = FakeLogo(token=TOKEN)
    await server.start()
    yield server
    server.release()
    await server.stop()


@pytest.fixture
async def logo(db_url: str, clock: FixedClock, fake: FakeLogo) -> AsyncIterator[LogoRig]:
    services = build_services(logo_settings(fake.base_url, db_url), clock=clock)
    await _seed(services, clock)
    app = web.Application()
    add_routes(app, services)
    client = TestClient(TestServer(app))
    await client.start_server()
    yield LogoRig(fake, client, services, app[LOGO_ADAPTER], clock)
    await client.close()
    await services.db.dispose()


async def _count(services: Services, model: Any, *where: Any) -> int:
    async with services.db.transaction() as s:
        stmt = select(func.count()).select_from(model)
        return int(await s.scalar(stmt.where(*where) if where else stmt) or 0)


async def _undelivered(services: Services) -> int:
    return await _count(services, OutboxMessage, OutboxMessage.delivered_at.is_(None))


# --- journeys end to end ------------------------------------------------------------------------


async def test_intake_by_dm_end_to_end(logo: LogoRig) -> None:
    room = dm_room("LOFF")
    assert await logo.say("LOFF", INTAKE, "ev-1", drain=False) == 200
    [summary] = await logo.fake.wait_for("/messages", target=room)
    assert summary.headers["Authorization"] == f"Bearer {TOKEN}"
    assert summary.fields.get("thread_id") is None
    lines = summary.text.splitlines()
    assert "団体名: さいたま市" in lines
    assert "希望日時: 2026年12月3日(木) 午後" in lines
    assert lines[-3:] == ["1. この内容で申し込む", "2. 修正する", "3. やめる"]

    assert await logo.say("LOFF", "1", "ev-2", drain=False) == 200
    replies = await logo.fake.wait_for("/messages", 2, target=room)
    assert "SAI-2026-0001" in replies[-1].text
    [staff] = await logo.fake.wait_for("/messages", target=STAFF_ROOM)
    [pref] = await logo.fake.wait_for("/messages", target=PREF_ROOM)
    assert "SAI-2026-0001" in staff.text and "受付" in staff.text
    assert "SAI-2026-0001" in pref.text
    await logo.adapter.drain()
    assert await _count(logo.services, Case) == 1
    assert await _undelivered(logo.services) == 0


async def test_matching_and_follow_up_in_text(logo: LogoRig) -> None:
    """The Slack journey of test_slack, in LoGo's numbered text: match, prefecture approval,
    schedule, the expert's report after the session, the file to staff, the prefecture told."""
    from bot.app import remind_once

    def _to(user: str) -> list[str]:
        """What reached a person: replies in their DM room and messages sent to them."""
        return [c.text for c in logo.fake.calls if c.target in (user, dm_room(user))]

    await logo.say("LOFF", INTAKE, "ev-j1")
    await logo.say("LOFF", "1", "ev-j2")
    await logo.say("LSTAFF", "/dx match SAI-2026-0001", "ev-j3")
    proposal = logo.fake.texts(dm_room("LSTAFF"))[-1]
    assert "1. 田中 誠" in proposal
    await logo.say("LSTAFF", "1", "ev-j4")
    await logo.adapter.deliver_outbox()
    approval = _to("LPREF")[-1]
    assert "田中 誠" in approval and "1. 承認する" in approval
    await logo.say("LPREF", "1", "ev-j5")
    assert any("承認" in text for text in _to("LPREF")[1:])
    await logo.say("LSTAFF", "/dx schedule SAI-2026-0001 2026-11-18 14:00 2 online Teams", "ev-j6")
    assert any("日程を登録しました" in text for text in logo.fake.texts(dm_room("LSTAFF")))

    logo.clock.set(logo.clock.now().replace(day=18, hour=16, minute=30))
    await remind_once(logo.services)
    await logo.adapter.deliver_outbox()
    ping = _to("LEXP")[-1]
    assert "支援実施報告" in ping
    await logo.say("LEXP", "1", "ev-j7")
    notes = (
        "情報政策課 主査 山田花子\n概要：ポリシーが古い\n回答：改定手順を助言\n課題：人員不足\n"
        "方針：年度内に改定\n効果：手順が明確になった\n資料：比較表\n次回：1月"
    )
    await logo.say("LEXP", notes, "ev-j8")
    await logo.say("LEXP", "はい", "ev-j9")  # hours as scheduled
    await logo.say("LEXP", "1", "ev-j10")  # submit
    await logo.adapter.deliver_outbox()
    files = logo.fake.of("/files", target=STAFF_ROOM)
    assert files and files[-1].file is not None and files[-1].file[0].endswith(".xlsx")
    assert any("報告済" in text for text in logo.fake.texts(PREF_ROOM))
    assert await _undelivered(logo.services) == 0


async def test_webhook_is_acknowledged_before_the_work(logo: LogoRig) -> None:
    """The reply's REST call is held at the fake; the webhook has its 200 all the same."""
    logo.fake.hold()
    # Bounded: an adapter that did the work before answering would hang here.
    assert await asyncio.wait_for(logo.say("LSTAFF", "/dx help", "ev-ack", drain=False), 5) == 200
    assert logo.fake.of("/messages") == []
    logo.fake.release()
    [reply] = await logo.fake.wait_for("/messages", target=dm_room("LSTAFF"))
    assert "事務局としてできること" in reply.text


async def test_group_room_thread_is_answered_in_the_thread(logo: LogoRig) -> None:
    await logo.say(
        "LSTAFF", "/dx help", "ev-g", room={"id": "room-g", "type": "group"}, thread_id="th-7"
    )
    [reply] = logo.fake.of("/messages", target="room-g")
    assert reply.fields["thread_id"] == "th-7"


async def test_proactive_file_is_sent_as_an_attachment(logo: LogoRig) -> None:
    """A deck posted back to its asker goes through the outbox as one multipart POST /files."""
    deck = Presentation()
    deck.slides.add_slide(deck.slide_layouts[5]).shapes.title.text = "支援実績"  # type: ignore[union-attr]
    buf = io.BytesIO()
    deck.save(buf)
    async with logo.services.db.transaction() as s:
        officer = await users.get_by_platform_id(s, "logo", "LOFF")
        assert officer is not None
        notifier = Notifier(s, logo.clock, logo.services.settings, "logo")
        message = Outbound(
            text="deck @all",
            files=(FileOut(name="実績.pptx", content=buf.getvalue(), content_type=PPTX),),
        )
        await notifier.to_user(officer, message)
    await logo.adapter.deliver_outbox()
    [call] = await logo.fake.wait_for("/files")
    assert call.fields["user_id"] == "LOFF"
    assert call.text == f"deck @{ZWSP}all"
    assert call.file is not None
    name, ctype, content = call.file
    assert (name, ctype, content) == ("実績.pptx", PPTX, buf.getvalue())
    assert Presentation(io.BytesIO(content)).slides[0].shapes.title.text == "支援実績"  # type: ignore[union-attr]
    assert logo.fake.of("/messages") == []  # the text travelled with the file


async def test_deck_asked_for_in_the_chat_arrives_as_a_file(logo: LogoRig) -> None:
    assert await logo.say("LSTAFF", "/deck", "ev-deck") == 200
    [call] = await logo.fake.wait_for("/files", target="LSTAFF")
    assert call.file is not None
    name, ctype, content = call.file
    assert name.endswith(".pptx") and ctype == PPTX
    assert len(Presentation(io.BytesIO(content)).slides) >= 1
    assert call.text  # the "ready" message travels with the file


# --- duplicates and replays ------------------------------------------------------------------


async def test_duplicate_delivery_is_handled_once(logo: LogoRig) -> None:
    assert await logo.say("LOFF", INTAKE, "ev-dup") == 200
    # The platform's redelivery: same event id, new timestamp and signature.
    logo.clock.advance(seconds=40)
    assert await logo.say("LOFF", INTAKE, "ev-dup") == 200
    assert len(logo.fake.of("/messages")) == 1
    assert await _count(logo.services, ProcessedEvent) == 1


async def test_replayed_signed_request_is_handled_once(logo: LogoRig) -> None:
    body = json.dumps(event("LOFF", INTAKE, "ev-replay"), ensure_ascii=False).encode()
    headers = logo.headers(body)
    assert (await logo.post(body, headers)).status == 200
    assert (await logo.post(body, headers)).status == 200  # byte for byte, inside the window
    assert len(logo.fake.of("/messages")) == 1
    logo.clock.advance(seconds=301)
    assert (await logo.post(body, headers)).status == 401  # outside it, refused at the door
    assert len(logo.fake.of("/messages")) == 1


# --- bad and hostile input over the wire ---------------------------------------------------------


def _body() -> bytes:
    return json.dumps(event("LOFF", "相談したい", "ev-x")).encode()


REFUSED: dict[str, Any] = {
    "wrong secret": lambda rig, body: rig.headers(body, secret="not-the-secret"),
    "stale timestamp": lambda rig, body: rig.headers(body, skew=-301),
    "timestamp from the future": lambda rig, body: rig.headers(body, skew=301),
    "tampered body": lambda rig, body: rig.headers(body, sign_body=body.replace(b"x", b"y")),
    "no signature": lambda rig, body: {
        k: v for k, v in rig.headers(body).items() if k != "X-LoGo-Signature"
    },
    "no timestamp": lambda rig, body: {
        k: v for k, v in rig.headers(body).items() if k != "X-LoGo-Timestamp"
    },
    "unversioned signature": lambda rig, body: {
        **rig.headers(body),
        "X-LoGo-Signature": rig.headers(body)["X-LoGo-Signature"].removeprefix("v1="),
    },
}


@pytest.mark.parametrize("case", list(REFUSED))
async def test_unverified_webhooks_get_401(logo: LogoRig, case: str) -> None:
    body = _body()
    resp = await logo.post(body, REFUSED[case](logo, body))
    assert resp.status == 401
    assert logo.fake.calls == []
    assert await _count(logo.services, ProcessedEvent) == 0


MALFORMED = {
    "not JSON": b"{not json",
    "not an object": b"[1, 2, 3]",
    "no user": json.dumps({"event_id": "e", "type": "message", "room": {"id": "r"}}).encode(),
    "no event id": json.dumps(
        {"type": "message", "user": {"id": "LOFF"}, "room": {"id": "r"}}
    ).encode(),
    "oversized user id": json.dumps(event("U" * 65, "hi", "ev-big")).encode(),
    "unknown room type": json.dumps(
        event("LOFF", "hi", "ev-r", room={"id": "r", "type": "x"})
    ).encode(),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_malformed_bodies_get_400(logo: LogoRig, case: str) -> None:
    resp = await logo.post(MALFORMED[case])
    assert resp.status == 400
    assert logo.fake.calls == []


async def test_unknown_event_types_and_bot_messages_are_ignored(logo: LogoRig) -> None:
    for payload in (
        {"event_id": "ev-j", "type": "room_joined", "room": {"id": "r"}},
        {"type": "reaction_added"},
        {**event("LBOT", "I am a bot", "ev-bot"), "user": {"id": "LBOT", "is_bot": True}},
    ):
        resp = await logo.post(json.dumps(payload).encode())
        assert resp.status == 200
        assert (await resp.json())["ignored"]
    assert logo.fake.calls == []
    assert await _count(logo.services, ProcessedEvent) == 0


async def test_mentions_in_user_text_are_never_echoed_live(logo: LogoRig) -> None:
    text = f"@all @here <@U123> <!channel> ＠all {INTAKE}"
    await logo.say("LOFF", text, "ev-m")
    [summary] = logo.fake.of("/messages", target=dm_room("LOFF"))
    assert INTAKE in summary.text  # the description is echoed in the summary …
    for live in ("@all", "@here", "<@U123>", "<!channel>", "＠all"):
        assert live not in summary.text  # … but never as a live mention
    assert f"@{ZWSP}all" in summary.text and f"<{ZWSP}@{ZWSP}U123>" in summary.text


async def test_40000_character_text_is_refused_politely(logo: LogoRig) -> None:
    assert await logo.say("LOFF", "あ" * 40_000, "ev-long") == 200
    [reply] = logo.fake.of("/messages", target=dm_room("LOFF"))
    assert reply.text == t("message_too_long", length=40_000, limit=4000)
    assert "40,000" in reply.text
    assert await _count(logo.services, Case) == 0


async def test_unknown_user_gets_the_registration_message(logo: LogoRig) -> None:
    assert await logo.say("LNOBODY", "こんにちは", "ev-u") == 200
    assert logo.fake.texts() == [t("unknown_user", platform_id="LNOBODY")]
    assert logo.fake.calls[0].target == dm_room("LNOBODY")


# --- rate limits and outages -----------------------------------------------------------------


async def test_rate_limits_and_outages_are_retried_by_the_outbox_and_sent_once(
    logo: LogoRig,
) -> None:
    await logo.say("LOFF", INTAKE, "ev-r1")
    logo.fake.fail("/messages", 429, retry_after=30, target=STAFF_ROOM)
    logo.fake.fail("/messages", 503, target=PREF_ROOM)
    await logo.say("LOFF", "1", "ev-r2")
    assert "SAI-2026-0001" in logo.fake.texts(dm_room("LOFF"))[-1]
    assert len(logo.fake.of("/messages:failed")) == 2
    assert logo.fake.texts(STAFF_ROOM) == [] and logo.fake.texts(PREF_ROOM) == []
    assert await _undelivered(logo.services) == 2  # waiting, not lost

    await logo.adapter.deliver_outbox()  # too early: Retry-After (30 s) and backoff (5 s)
    assert len(logo.fake.of("/messages")) == 2
    logo.clock.advance(seconds=31)
    await logo.adapter.deliver_outbox()
    await logo.adapter.deliver_outbox()
    assert len(logo.fake.texts(STAFF_ROOM)) == 1
    assert len(logo.fake.texts(PREF_ROOM)) == 1
    assert await _undelivered(logo.services) == 0


async def test_a_refused_reply_is_queued_and_delivered_once(logo: LogoRig) -> None:
    room = dm_room("LSTAFF")
    logo.fake.fail("/messages", 500, target=room)
    await logo.say("LSTAFF", "/dx help", "ev-q")
    assert len(logo.fake.of("/messages:failed", target=room)) == 1
    assert await _undelivered(logo.services) == 1  # kept in the outbox, not lost
    logo.clock.advance(seconds=6)  # the first retry waits 5 s
    await logo.adapter.deliver_outbox()
    assert len(logo.fake.of("/messages", target=room)) == 1  # retried from the outbox
    await logo.adapter.deliver_outbox()
    assert len(logo.fake.of("/messages", target=room)) == 1
    assert await _undelivered(logo.services) == 0


# --- the sender alone (no database) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [(429, 12, 12.0), (429, None, None), (500, None, None), (503, None, None), (404, None, None)],
)
async def test_sender_failures_raise_delivery_error(
    fake: FakeLogo, status: int, retry_after: int | None, expected: float | None
) -> None:
    fake.fail("/messages", status, retry_after=retry_after)
    sender = LogoSender(fake.base_url, TOKEN)
    with pytest.raises(DeliveryError) as info:
        await sender.send("channel", "room-1", Outbound(text="hello"))
    assert info.value.retry_after == expected
    assert str(status) in str(info.value)


async def test_sender_refused_token_is_a_delivery_error(fake: FakeLogo) -> None:
    with pytest.raises(DeliveryError):
        await LogoSender(fake.base_url, "wrong").send("user", "LOFF", Outbound(text="x"))
    assert [c.path for c in fake.calls] == ["/messages:unauthorized"]


async def test_sender_unreachable_server_is_a_delivery_error(fake: FakeLogo) -> None:
    url = fake.base_url
    await fake.stop()
    with pytest.raises(DeliveryError):
        await LogoSender(url, TOKEN).send("user", "LOFF", Outbound(text="x"))


async def test_sender_files_in_a_thread_with_a_shared_session(fake: FakeLogo) -> None:
    files = tuple(
        FileOut(name=f"{n}.csv", content=b"a,b\n1,2\n", content_type="text/csv") for n in "ab"
    )
    async with LogoSender(fake.base_url, TOKEN) as sender:
        await sender.send("channel", "room-1", Outbound(text="export", files=files, thread="th-1"))
    first, second = fake.of("/files")
    assert (first.fields["room_id"], first.fields["thread_id"], first.text) == (
        "room-1",
        "th-1",
        "export",
    )
    assert second.text == "" and second.file is not None and second.file[0] == "b.csv"


async def test_sender_keeps_threads_to_rooms(fake: FakeLogo) -> None:
    sender = LogoSender(fake.base_url, TOKEN)
    await sender.send("channel", "room-1", Outbound(text="in thread", thread="th-1"))
    await sender.send("user", "LOFF", Outbound(text="to a person", thread="th-1"))
    in_room, to_person = fake.of("/messages")
    assert in_room.fields == {"room_id": "room-1", "text": "in thread", "thread_id": "th-1"}
    assert to_person.fields == {"user_id": "LOFF", "text": "to a person"}


async def test_sender_goes_through_https_proxy(fake: FakeLogo) -> None:
    proxy = RecordingProxy()
    await proxy.start()
    try:
        settings = logo_settings(fake.base_url, HTTPS_PROXY=proxy.url)
        await LogoSender.from_settings(settings).send("user", "LOFF", Outbound(text="via proxy"))
    finally:
        await proxy.stop()
    assert proxy.requests == [f"POST {fake.base_url}/messages"]
    assert fake.texts("LOFF") == ["via proxy"]


# --- translation, rendering and configuration (pure) -------------------------------------


def test_event_becomes_an_inbound() -> None:
    payload = {
        "event_id": 981,
        "type": "message",
        "user": {"id": 42},
        "room": {"id": 9, "type": "group"},
        "text": None,
        "thread_id": "th-1",
        "attachments": [{"name": "memo.pdf", "url": "https://logo.example/f/1"}],
        "timestamp": 1_763_254_800,
        "unknown_field": True,
    }
    inbound = LogoEvent.model_validate(payload).to_inbound(DEFAULT_NOW)
    assert (inbound.platform, inbound.event_id, inbound.user_id, inbound.channel) == (
        "logo",
        "981",
        "42",
        "9",
    )
    assert (inbound.text, inbound.thread, inbound.is_direct) == ("", "th-1", False)
    assert inbound.received_at == DEFAULT_NOW
    assert [(f.name, f.url, f.content_type) for f in inbound.files] == [
        ("memo.pdf", "https://logo.example/f/1", "application/octet-stream")
    ]


def test_render_text_numbers_choices_and_lists_fields() -> None:
    message = Outbound(
        text="確認してください",
        fields=(("団体名", "さいたま市"), ("連絡先", "dx@city.saitama.lg.jp")),
        choices=(Choice(label="はい", value="yes"), Choice(label="いいえ", value="no")),
    )
    assert render_text(message, 10_000).splitlines() == [
        "確認してください",
        "団体名: さいたま市",
        "連絡先: dx@city.saitama.lg.jp",  # an e-mail address is not a mention
        "1. はい",
        "2. いいえ",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@all", f"@{ZWSP}all"),
        ("至急@here", f"至急@{ZWSP}here"),
        ("<@U123>", f"<{ZWSP}@{ZWSP}U123>"),
        ("<!channel>", f"<{ZWSP}!channel>"),
        ("＠全員", f"＠{ZWSP}全員"),
        ("a.b+c@example.jp", "a.b+c@example.jp"),
    ],
)
def test_defuse_mentions(text: str, expected: str) -> None:
    assert defuse_mentions(text) == expected


def test_long_text_is_cut_with_a_note() -> None:
    text = render_text(Outbound(text="あ" * 1000), 200)
    assert len(text) == 200
    assert text.endswith(t("logo_text_truncated"))


def test_missing_configuration_fails_early() -> None:
    bare = Settings(_env_file=None)  # type: ignore[call-arg]
    with pytest.raises(CliError, match="LOGO_BASE_URL"):
        LogoSender.from_settings(bare)
    no_secret = Settings(_env_file=None, LOGO_BASE_URL="http://x", LOGO_BOT_TOKEN="t")  # type: ignore[call-arg]
    with pytest.raises(CliError, match="LOGO_WEBHOOK_SECRET"):
        LogoAdapter(SimpleNamespace(settings=no_secret))  # type: ignore[arg-type]
