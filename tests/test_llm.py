"""The LLM path of intake, against a fake OpenAI-compatible server with the real ``openai``
client: a good answer fills the gaps the rules left, a malformed one or one slower than the
client's timeout falls back to the rules, personal data never leaves unmasked, and with no key
nothing is sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from bot.app import build_services
from bot.core.catalog import t
from bot.core.config import Settings
from bot.core.llm import OfflineLLM, OpenAILLM, mask_personal_data
from bot.core.messages import Outbound
from reminders.clock import FixedClock
from store import users
from tests.conftest import ChatBot, RecordingSender
from tests.fakes.openai_server import FakeOpenAI

TIMEOUT = 0.5  # DXBOT_LLM_TIMEOUT for these tests; the slow server answers after 3 s
NO_HINTS = "電子契約の共同調達について相談したいです"  # the rules find no domain, method or date
WITH_METHOD_AND_DATE = "電子契約の共同調達について相談したいです。オンラインで来週火曜の午後希望"
GOOD = {
    "domains": ["方針・計画の策定", "電子契約", "情報システムの標準化・共通化"],
    "method": "chat",
    "department": "契約検査課",
    "requester_title": "",
    "summary": "電子契約の共同調達の進め方の相談",
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(answer=dict(GOOD)) as server:
        yield server


@pytest.fixture
def settings(db_url: str, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The `bot` fixture's settings, with the LLM configured and pointed at the fake."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        DATABASE_URL=db_url,
        DXBOT_PROGRAM="saitama-2026",
        OPENAI_API_KEY="test",
        OPENAI_BASE_URL=fake.base_url,
        DXBOT_LLM_TIMEOUT=TIMEOUT,
        DXBOT_LLM_MODEL="fake-model",
    )


def _one(replies: Sequence[Outbound]) -> Outbound:
    assert len(replies) == 1, [r.text for r in replies]
    return replies[0]


# --- the real client against the fake server ----------------------------------------------------


async def test_the_real_openai_client_is_used(bot: ChatBot, fake: FakeOpenAI) -> None:
    services: Any = bot.services
    assert isinstance(services.llm, OpenAILLM)

    await bot.say("officer1", NO_HINTS)

    (body,) = fake.requests
    assert body["model"] == "fake-model"
    assert body["temperature"] == 0
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "LLMIntake"
    system, user = body["messages"]
    assert system["role"] == "system" and "セキュリティ対策の徹底" in system["content"]
    assert user == {"role": "user", "content": NO_HINTS}
    assert fake.headers[0]["Authorization"] == "Bearer test"


async def test_good_answer_fills_the_gaps(bot: ChatBot, fake: FakeOpenAI) -> None:
    # The rules found neither domain nor method in the message: the model's answer fills both
    # (its unknown domain "電子契約" is dropped), so only the dates are asked.
    asked = _one(await bot.say("officer1", NO_HINTS))
    assert asked.text == t("ask_dates")

    summary = _one(await bot.say("officer1", "12月3日 午後"))

    fields = dict(summary.fields)
    assert fields["分野"] == "方針・計画の策定、情報システムの標準化・共通化"
    assert fields["希望する方法"] == "チャット"
    assert fields["部署"] == "デジタル推進課"  # from the officer's registration, not the model
    assert fields["相談内容"] == NO_HINTS
    assert len(fake.requests) == 1  # asked once, on the first message only


async def test_rules_win_where_they_found_something(bot: ChatBot, fake: FakeOpenAI) -> None:
    fake.answer = {"domains": ["ICT-BCP"], "method": "phone"}
    asked = _one(await bot.say("officer1", "生成AIの庁内ルールづくりで相談したいです。訪問希望"))
    assert asked.text == t("ask_dates")
    fields = dict(_one(await bot.say("officer1", "未定")).fields)
    assert fields["分野"] == "自治体のAIの利用促進"
    assert fields["希望する方法"] == "訪問"


async def test_malformed_answer_falls_back_to_the_rules(bot: ChatBot, fake: FakeOpenAI) -> None:
    # Prose instead of JSON, JSON of the wrong shape, a 200 that is no chat completion at all,
    # an HTML error page, an HTTP 500.
    for n, behaviour in enumerate(("not_json", "wrong_schema", "no_choices", "garbage", "error")):
        fake.behaviour = behaviour  # type: ignore[assignment]

        asked = _one(await bot.say("officer1", WITH_METHOD_AND_DATE))

        # The rules' reading stands: method and date found, the domain still to ask.
        assert len(fake.requests) == n + 1, behaviour
        assert asked.text == t("ask_domains"), behaviour
        summary = _one(await bot.say("officer1", "わからない"))
        assert dict(summary.fields)["希望する方法"] == "オンライン", behaviour
        assert dict(summary.fields)["希望日時"] == "2026年11月24日(火) 午後", behaviour
        await bot.say("officer1", "やめる")
    await bot.say("officer1", WITH_METHOD_AND_DATE)
    await bot.say("officer1", "わからない")
    assert "案件番号は SAI-2026-0001" in _one(await bot.say("officer1", "申し込む")).text


async def test_slow_answer_falls_back_after_the_client_timeout(
    bot: ChatBot, fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    """The model would answer with domains (GOOD) only after a minute; the client gives up after
    DXBOT_LLM_TIMEOUT (0.5 s here) and the rules' reading answers the officer."""
    services: Any = bot.services
    assert services.llm.timeout == TIMEOUT  # the setting reaches the client
    fake.behaviour = "slow"
    fake.delay = 60.0

    with caplog.at_level(logging.WARNING, logger="dxbot.llm"):
        # Bounded so that a conversation waiting for the model fails instead of hanging.
        asked = _one(await asyncio.wait_for(bot.say("officer1", WITH_METHOD_AND_DATE), 30))

    assert len(fake.requests) == 1  # the model was asked …
    assert [r.getMessage() for r in caplog.records if r.name == "dxbot.llm"] == [
        "LLM extraction fell back: APITimeoutError"
    ]  # … gave no answer in time …
    assert asked.text == t("ask_domains")  # … so the domain is still to ask (GOOD had them)
    summary = _one(await bot.say("officer1", "わからない"))
    assert dict(summary.fields)["希望する方法"] == "オンライン"
    assert dict(summary.fields)["希望日時"] == "2026年11月24日(火) 午後"


# --- what leaves the building ----------------------------------------------------------------


PERSONAL = (
    "さいたま市の山田 花子です（山田花子、山田　花子とも書きます）。"
    "連絡先は yamada.hanako@city.saitama.lg.jp、電話 03-1234-5678、携帯 090-1234-5678、"
    "海外から +81 90-1234-5678 / +81-3-1234-5678、全角で０９０－１２３４－５６７８。"
    "県の鈴木 一郎さんと、契約課の佐々木 次郎にも同席してもらいます。"
    "電子契約の共同調達について相談したいです。"
)
LEAKS = (
    "山田",
    "花子",
    "鈴木",
    "一郎",
    "佐々木",
    "次郎",
    "yamada",
    "@",
    "1234",
    "5678",
    "０９０",
    "+81",
)


async def test_personal_data_is_masked_before_it_is_sent(bot: ChatBot, fake: FakeOpenAI) -> None:
    services: Any = bot.services
    async with services.db.transaction() as s:
        # Registered just now: the names come from the user table, not a fixed list.
        await users.add(
            s,
            platform="console",
            platform_id="officer9",
            role="officer",
            now=services.clock.now(),
            municipality_code="111007",
            name="佐々木 次郎",
        )

    await bot.say("officer1", PERSONAL)

    (body,) = fake.requests
    sent = json.dumps(body, ensure_ascii=False)
    for leak in LEAKS:
        assert leak not in sent, leak
    (text,) = fake.user_texts()
    assert text.count("[氏名]") == 5
    assert text.count("[電話番号]") == 5
    assert text.count("[メール]") == 1
    assert "電子契約の共同調達について相談したいです。" in text  # the request itself survives
    assert "さいたま市" in text
    # The case keeps what the officer wrote: masking is for the model only.
    await bot.say("officer1", "8")
    await bot.say("officer1", "未定")
    summary = _one(await bot.say("officer1", "申し込む"))
    assert "SAI-2026-0001" in summary.text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("03-1234-5678", "[電話番号]"),
        ("090-1234-5678", "[電話番号]"),
        ("048-830-3111", "[電話番号]"),
        ("(03) 1234-5678", "[電話番号]"),
        ("03(1234)5678", "[電話番号]"),
        ("0312345678", "[電話番号]"),
        ("+81 90-1234-5678", "[電話番号]"),
        ("+81-3-1234-5678", "[電話番号]"),
        ("+81 (0)3-1234-5678", "[電話番号]"),
        ("+819012345678", "[電話番号]"),
        ("０９０－１２３４－５６７８", "[電話番号]"),
        ("０３（１２３４）５６７８", "[電話番号]"),
        ("a.b+c@pref.saitama.lg.jp", "[メール]"),
        ("ｙａｍａｄａ＠ｃｉｔｙ．ｓａｉｔａｍａ．ｌｇ．ｊｐ", "[メール]"),
        ("山田 花子です", "[氏名]です"),
        ("山田花子です", "[氏名]です"),
        ("山田　花子です", "[氏名]です"),
        ("鈴木一郎課長", "[氏名]課長"),
        # Not personal data: left as written.
        ("令和8年12月3日 14:00-16:00", "令和8年12月3日 14:00-16:00"),
        ("2026-12-03", "2026-12-03"),
        ("R8.12.3", "R8.12.3"),
        ("〒330-9301", "〒330-9301"),
        ("内線1234", "内線1234"),
        ("予算は1,000,000円", "予算は1,000,000円"),
        ("山田課の相談", "山田課の相談"),
    ],
)
def test_mask_personal_data(text: str, masked: str) -> None:
    assert mask_personal_data(text, ["山田 花子", "鈴木　一郎", "x"]) == masked


# --- off unless configured ---------------------------------------------------------------------


async def test_with_no_key_the_model_is_never_called(
    bot: ChatBot,
    fake: FakeOpenAI,
    db_url: str,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)  # configured, but no key
    plain = build_services(
        Settings(_env_file=None, DATABASE_URL=db_url),  # type: ignore[call-arg]
        clock=clock,
    )
    try:
        assert plain.settings.openai_base_url == fake.base_url
        assert isinstance(plain.llm, OfflineLLM)
        offline = ChatBot(plain, RecordingSender())

        asked = _one(await offline.say("officer1", PERSONAL))
        assert asked.text == t("ask_domains")
        await offline.say("officer1", "わからない")
        await offline.say("officer1", "未定")
        opened = _one(await offline.say("officer1", "申し込む"))
        assert "SAI-2026-0001" in opened.text
    finally:
        await plain.db.dispose()
    assert fake.requests == []


async def test_empty_key_is_no_key(fake: FakeOpenAI) -> None:
    settings = Settings(_env_file=None, OPENAI_API_KEY="", OPENAI_BASE_URL=fake.base_url)  # type: ignore[call-arg]
    assert settings.llm_enabled is False
