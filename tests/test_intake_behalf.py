"""The prefecture opens a consultation on a municipality's behalf (Kumamoto §2.3(1): 個別相談
については、県を経由して受け付ける), on SQLite and PostgreSQL.

Where the profile routes consultations via the prefecture, a prefecture user's 「相談したい」 or
`/consult` asks which municipality and which of its registered officers is asking, then runs
the ordinary intake: the officer is the requester (and hears of the acceptance), and the
history names the prefecture user who opened it. Elsewhere (Saitama) nothing changes: the
prefecture may not open consultations. Expected replies are written out by hand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.core.config import Settings
from reminders.clock import FixedClock
from store import cases as case_store
from store.db import Database
from store.models import Case, Municipality, User
from tests.conftest import ChatBot, RecordingSender

FIRST = "電子契約の共同調達について相談したいです。オンラインで来週火曜の午後希望"
ASK_MUNICIPALITY = (
    "どの市町村からのご相談ですか？番号か団体名でお答えください。"
    "（一覧は担当者が登録済みの市町村です）"
)
ASK_OFFICER = (
    "熊本市のどなたからのご相談ですか？番号かお名前でお答えください。"
    "受付や日程のお知らせ、支援後のアンケートはこの方に届きます。"
)
ASK_DOMAINS = (
    "相談の分野を番号で選んでください（複数ある場合は「1,3」のように）。"
    "わからなければ「わからない」で構いません。"
)


@pytest.fixture
async def kumamoto(db_url: str, clock: FixedClock) -> AsyncIterator[ChatBot]:
    """Kumamoto with the demo people: officer1 (山田 花子) of 熊本市, officer2 (高橋 健一) of
    玉名市 (the 6th municipality by code), pref1 (鈴木 一郎); officer3 added for 熊本市."""
    from bot.app import build_services
    from bot.demo import add_people
    from store import users
    from store.profiles import load_profile
    from store.seed import seed_program

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        DATABASE_URL=db_url,
        DXBOT_PROGRAM="kumamoto-2026",
        DXBOT_STAFF_CHANNEL="dx-jimukyoku",
        DXBOT_PREFECTURE_CHANNEL="dx-ken",
    )
    services = build_services(settings, clock=clock)
    async with services.db.transaction() as s:
        await seed_program(s, load_profile("kumamoto-2026"), clock.now())
        munis = list(
            (
                await s.scalars(
                    select(Municipality)
                    .where(Municipality.prefecture_code == "43")
                    .order_by(Municipality.code)
                )
            ).all()
        )
        await add_people(s, munis, clock.now())
        await users.add(
            s,
            platform="console",
            platform_id="officer3",
            role="officer",
            now=clock.now(),
            municipality_code="431001",
            name="木村 陽子",
            title="主任",
            department="情報政策課",
        )
    yield ChatBot(services, RecordingSender())
    await services.db.dispose()


def _db(bot: ChatBot) -> Database:
    return bot.services.db  # type: ignore[attr-defined,no-any-return]


async def _cases(db: Database) -> list[Case]:
    async with db.transaction() as s:
        return list((await s.scalars(select(Case).order_by(Case.id))).all())


async def _user_id(db: Database, platform_id: str) -> int:
    async with db.transaction() as s:
        user = await s.scalar(select(User).where(User.platform_id == platform_id))
    assert user is not None
    return user.id


async def test_prefecture_opens_a_consultation_for_a_municipalitys_officer(
    kumamoto: ChatBot,
) -> None:
    db = _db(kumamoto)
    (asked,) = await kumamoto.say("pref1", FIRST)
    assert asked.text == ASK_MUNICIPALITY
    assert [c.label for c in asked.choices] == ["熊本市", "玉名市"]

    (asked,) = await kumamoto.say("pref1", "熊本市")
    assert asked.text == ASK_OFFICER
    assert [c.label for c in asked.choices] == [
        "山田 花子（デジタル推進課 主査）",
        "木村 陽子（情報政策課 主任）",
    ]

    # The name typed without its space; the first message is then read as usual.
    (asked,) = await kumamoto.say("pref1", "山田花子")
    assert asked.text == ASK_DOMAINS
    (summary,) = await kumamoto.say("pref1", "わからない")
    assert dict(summary.fields) == {
        "団体名": "熊本市",
        "部署": "デジタル推進課",
        "お名前": "山田 花子",
        "役職": "主査",
        "分野": "（事務局で分類）",
        "希望する方法": "オンライン",
        "希望日時": "2026年11月24日(火) 午後",
        "相談内容": FIRST,
    }
    assert await _cases(db) == []

    (opened,) = await kumamoto.say("pref1", "申し込む")
    assert opened.text == (
        "熊本市の山田 花子さんからの相談として、KUM-2026-0001で受け付けました。"
        "以後のお知らせとアンケートは山田 花子さんに届きます。"
    )
    (case,) = await _cases(db)
    assert case.case_no == "KUM-2026-0001"
    assert case.municipality_code == "431001"
    assert case.requester_user_id == await _user_id(db, "officer1")
    async with db.transaction() as s:
        (change,) = await case_store.history(s, case.id)
    assert (change.to_status, change.actor_user_id, change.actor_label, change.reason) == (
        "received",
        await _user_id(db, "pref1"),
        "鈴木 一郎",
        "鈴木 一郎（県職員）が熊本市の山田 花子さんの代理で受付",
    )
    # The officer hears of the acceptance; officer3 of the same city does not.
    assert kumamoto.sender.texts("officer1") == ["相談（KUM-2026-0001）を事務局で受け付けました。"]
    assert kumamoto.sender.texts("officer3") == []
    assert kumamoto.sender.texts("pref1") == []


async def test_consult_command_with_numbers(kumamoto: ChatBot) -> None:
    (asked,) = await kumamoto.say("pref1", "/consult")
    assert asked.text == ASK_MUNICIPALITY
    (asked,) = await kumamoto.say("pref1", "1")
    assert asked.text == ASK_OFFICER
    (asked,) = await kumamoto.say("pref1", "２")  # 木村 陽子, full-width digit
    assert asked.text == "ご相談の内容を、現状と困っていることがわかるように書いてください。"
    await kumamoto.say("pref1", "RPAの導入について相談したい")
    await kumamoto.say("pref1", "わからない")  # domains
    await kumamoto.say("pref1", "オンライン")
    (summary,) = await kumamoto.say("pref1", "未定")
    assert dict(summary.fields)["お名前"] == "木村 陽子"
    assert dict(summary.fields)["部署"] == "情報政策課"
    await kumamoto.say("pref1", "申し込む")
    (case,) = await _cases(_db(kumamoto))
    assert case.requester_user_id == await _user_id(_db(kumamoto), "officer3")
    assert kumamoto.sender.texts("officer3") == ["相談（KUM-2026-0001）を事務局で受け付けました。"]
    assert kumamoto.sender.texts("officer1") == []


async def test_a_municipality_without_officers_is_explained(kumamoto: ChatBot) -> None:
    await kumamoto.say("pref1", "/consult")
    replies = await kumamoto.say("pref1", "八代市")
    assert [r.text for r in replies] == [
        "八代市には、ボットに登録済みの担当者がいません。お手数ですが、事務局に担当者の"
        "登録（dxbot users add ユーザーID --role officer --municipality 八代市 "
        "--name 氏名）を依頼してから、もう一度お申し込みください。別の市町村のご相談であれば、"
        "団体名をお答えください。",
        ASK_MUNICIPALITY,
    ]
    # Still at the municipality question: another answer goes on.
    (asked,) = await kumamoto.say("pref1", "玉名市")
    assert asked.text.startswith("玉名市のどなたからのご相談ですか？")
    assert [c.label for c in asked.choices] == ["高橋 健一（デジタル推進課 係長）"]
    assert await _cases(_db(kumamoto)) == []


async def test_unknown_municipality_is_asked_again(kumamoto: ChatBot) -> None:
    await kumamoto.say("pref1", "/consult")
    replies = await kumamoto.say("pref1", "さいたま市")
    assert [r.text for r in replies] == [
        "「さいたま市」は熊本県の市町村として見つかりませんでした。番号か団体名（例: 熊本市）"
        "でお答えください。",
        ASK_MUNICIPALITY,
    ]


async def test_no_officer_registered_anywhere(kumamoto: ChatBot) -> None:
    async with _db(kumamoto).transaction() as s:
        from store import users

        for pid in ("officer1", "officer2", "officer3"):
            await users.remove(s, "console", pid)
    (reply,) = await kumamoto.say("pref1", "/consult")
    assert reply.text == (
        "まだどの市町村の担当者もボットに登録されていないため、代理での受付ができません。"
        "お手数ですが、事務局に担当者の登録（dxbot users add ユーザーID --role officer "
        "--municipality 団体名 --name 氏名）を依頼してから、もう一度お申し込みください。"
    )
    # The conversation ended: a later message is not taken as a municipality.
    (reply,) = await kumamoto.say("pref1", "熊本市")
    assert "どの市町村" not in reply.text


async def test_officers_still_open_their_own_consultations(kumamoto: ChatBot) -> None:
    await kumamoto.say("officer1", FIRST)
    await kumamoto.say("officer1", "わからない")
    (opened,) = await kumamoto.say("officer1", "申し込む")
    assert opened.text == (
        "相談を受け付けました。案件番号は KUM-2026-0001（熊本市）です。事務局が内容を確認し、"
        "専門人材との調整を始めます。進み具合は「/status KUM-2026-0001」で確認できます。"
    )
    (case,) = await _cases(_db(kumamoto))
    assert case.requester_user_id == await _user_id(_db(kumamoto), "officer1")


async def test_elsewhere_the_prefecture_does_not_open_consultations(bot: ChatBot) -> None:
    # Saitama: consultations do not come in via the prefecture; the behaviour is unchanged.
    (reply,) = await bot.say("pref1", "/consult")
    assert reply.text == "申し訳ありませんが、県職員の権限ではこの操作はできません。"


async def test_help_tells_the_prefecture_how(kumamoto: ChatBot) -> None:
    (reply,) = await kumamoto.say("pref1", "/dx help")
    assert (
        "・市町村からの相談の受付（県経由）: 「/consult」または「相談したい」"
        "（市町村と担当者を選んでから内容を伺います）"
    ) in reply.text.splitlines()


async def test_the_officer_gets_the_later_notices_too(kumamoto: ChatBot) -> None:
    await kumamoto.say("pref1", FIRST)
    await kumamoto.say("pref1", "熊本市")
    await kumamoto.say("pref1", "1")
    await kumamoto.say("pref1", "わからない")
    await kumamoto.say("pref1", "申し込む")
    await kumamoto.say("staff1", "/dx pick KUM-2026-0001 expert1")
    await kumamoto.say("pref1", "/dx approve KUM-2026-0001")
    await kumamoto.say("staff1", "/dx schedule KUM-2026-0001 2026-11-25 14:00 2 online")
    # The lifecycle's notices reach the officer the prefecture named, not the prefecture user.
    told = kumamoto.sender.texts("officer1")
    assert told[:2] == [
        "相談（KUM-2026-0001）を事務局で受け付けました。",
        "相談（KUM-2026-0001）について、事務局が専門人材との調整を始めました。",
    ]
    # The booking: one message with its details (not also 「日程が決まりました」 from the status).
    assert told[2].startswith("貴団体が参加する支援の日程が決まりました。")
    assert len(told) == 3
    # The prefecture user gets the approval request, none of the officer's notices.
    assert not any(
        text.startswith("相談（KUM-2026-0001）") for text in kumamoto.sender.texts("pref1")
    )


async def test_changing_the_municipality_asks_for_its_officer_again(kumamoto: ChatBot) -> None:
    await kumamoto.say("pref1", FIRST)
    await kumamoto.say("pref1", "熊本市")
    await kumamoto.say("pref1", "1")
    await kumamoto.say("pref1", "わからない")
    await kumamoto.say("pref1", "修正する")
    (asked,) = await kumamoto.say("pref1", "団体名")
    assert asked.text == ASK_MUNICIPALITY
    await kumamoto.say("pref1", "玉名市")
    (summary,) = await kumamoto.say("pref1", "高橋 健一")
    fields = dict(summary.fields)
    assert (fields["団体名"], fields["お名前"], fields["役職"]) == ("玉名市", "高橋 健一", "係長")
    assert fields["相談内容"] == FIRST  # the rest of the answers kept
    await kumamoto.say("pref1", "申し込む")
    (case,) = await _cases(_db(kumamoto))
    assert case.municipality_code == "432067"
    assert case.requester_user_id == await _user_id(_db(kumamoto), "officer2")
    assert kumamoto.sender.texts("officer2") == ["相談（KUM-2026-0001）を事務局で受け付けました。"]
    assert kumamoto.sender.texts("officer1") == []
