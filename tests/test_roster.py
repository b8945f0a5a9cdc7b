"""The expert roster in the chat (`/dx experts [分野]`), on SQLite and PostgreSQL.

Miyazaki ② and Saitama §6(3): municipalities see the list of experts (names, domains,
strengths, on-site ability) so that they can name one; only experts who agreed to be listed
appear to them (Saitama §6(3)ウ); contact details only where the profile allows. The desk and
the prefecture see everyone. Where the profile keeps the roster from officers (Kumamoto), an
officer is told politely. Every expected reply below is written out in full by hand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.config import Settings
from reminders.clock import FixedClock
from store import users
from store.db import Database
from store.models import User
from tests.conftest import ChatBot

SEC, AI, TELE = "セキュリティ対策の徹底", "自治体のAIの利用促進", "テレワークの推進"

# (domains, strengths, can visit, consented to be listed, e-mail)
ROSTER: dict[str, tuple[list[str], str, bool, bool, str]] = {
    "expert1": ([SEC, AI], "情報セキュリティ監査", True, True, "tanaka@example.jp"),
    "expert2": ([TELE], "", False, True, "ito@example.jp"),
    "expert3": ([SEC], "ゼロトラスト設計", True, False, "watanabe@example.jp"),
}
RETIRED = ("expert4", "expert5", "expert6", "expert7", "expert8")

TANAKA = (
    "1. 田中 誠\n"
    "　分野: セキュリティ対策の徹底、自治体のAIの利用促進\n"
    "　得意領域: 情報セキュリティ監査\n"
    "　訪問: 対応可"
)
ITO = "2. 伊藤 由美\n　分野: テレワークの推進\n　得意領域: （未登録）\n　訪問: 対応不可（オンラインのみ）"
FOOTER = (
    "ご希望の専門人材がいれば、相談の申し込みの確認画面で「修正する」→"
    "「希望する専門人材」からお名前を指定できます。"
)
UNLISTED = "\n　※名簿への掲載に同意していないため、市町村には表示されません"


def _db(bot: ChatBot) -> Database:
    return bot.services.db  # type: ignore[attr-defined,no-any-return]


async def write_roster(db: Database) -> None:
    """Three experts as in ROSTER; the other demo experts no longer registered."""
    async with db.transaction() as s:
        by_pid = {u.platform_id: u for u in (await s.scalars(select(User))).all()}
        for pid, (domains, strengths, onsite, consent, email) in ROSTER.items():
            user = by_pid[pid]
            user.email = email
            await users.upsert_expert_profile(
                s,
                user,
                domains=domains,
                qualifications=[],
                onsite=onsite,
                region="県内",
                consent_listed=consent,
                strengths=strengths,
            )
        for pid in RETIRED:
            await users.remove(s, "console", pid)


async def _roster_text(bot: ChatBot, user: str, args: str = "") -> str:
    (reply,) = await bot.say(user, f"/dx experts {args}".strip())
    return reply.text


@pytest.fixture
async def saitama(bot: ChatBot) -> ChatBot:
    await write_roster(_db(bot))
    return bot


# --- officers where the profile shows them the roster (Saitama) ------------------------------


async def test_officer_sees_listed_experts_without_contacts(saitama: ChatBot) -> None:
    text = await _roster_text(saitama, "officer1")
    # 渡辺 拓也 did not consent to be listed; nobody's e-mail is shown.
    assert text == "\n".join(("専門人材の一覧（2名）", TANAKA, ITO, FOOTER))


async def test_officer_filters_by_a_word_of_the_domain(saitama: ChatBot) -> None:
    assert await _roster_text(saitama, "officer1", "セキュリティ") == "\n".join(
        ("専門人材の一覧（1名）— 分野: セキュリティ対策の徹底", TANAKA, FOOTER)
    )
    # Full-width letters as a Japanese keyboard types them.
    assert await _roster_text(saitama, "officer1", "ＡＩ") == "\n".join(
        ("専門人材の一覧（1名）— 分野: 自治体のAIの利用促進", TANAKA, FOOTER)
    )
    assert await _roster_text(saitama, "officer1", "テレワーク") == "\n".join(
        ("専門人材の一覧（1名）— 分野: テレワークの推進", ITO.replace("2. ", "1. "), FOOTER)
    )
    assert await _roster_text(saitama, "officer1", "宇宙開発") == (
        "「宇宙開発」に当てはまる分野が見つかりませんでした。分野の名前の一部でお探しください"
        "（例: 「/dx experts セキュリティ」「/dx experts AI」）。"
    )
    assert await _roster_text(saitama, "officer1", "BPR") == (
        "分野「BPRの取組の徹底」に対応できる専門人材は、一覧にいません。"
    )


async def test_staff_and_prefecture_see_everyone_with_contacts(saitama: ChatBot) -> None:
    expected = "\n".join(
        (
            "専門人材の一覧（3名）",
            TANAKA + "\n　連絡先: tanaka@example.jp",
            ITO + "\n　連絡先: ito@example.jp",
            "3. 渡辺 拓也\n　分野: セキュリティ対策の徹底\n　得意領域: ゼロトラスト設計\n"
            "　訪問: 対応可\n　連絡先: watanabe@example.jp" + UNLISTED,
        )
    )
    assert await _roster_text(saitama, "staff1") == expected
    assert await _roster_text(saitama, "pref1") == expected
    # Half-width katakana: both experts of the domain, listed or not.
    assert (await _roster_text(saitama, "staff1", "ｾｷｭﾘﾃｨ")).splitlines()[0] == (
        "専門人材の一覧（2名）— 分野: セキュリティ対策の徹底"
    )


async def test_experts_do_not_see_the_roster(saitama: ChatBot) -> None:
    assert await _roster_text(saitama, "expert1") == (
        "申し訳ありませんが、専門人材の権限ではこの操作はできません。"
    )


async def test_contacts_shown_to_officers_where_the_profile_allows(saitama: ChatBot) -> None:
    services: Any = saitama.services
    shows = services.profile.model_copy(update={"roster_shows_contacts": True})
    services.dispatcher.profile = shows
    text = await _roster_text(saitama, "officer1")
    assert text == "\n".join(
        (
            "専門人材の一覧（2名）",
            TANAKA + "\n　連絡先: tanaka@example.jp",
            ITO + "\n　連絡先: ito@example.jp",
            FOOTER,
        )
    )


async def test_help_names_the_roster_for_officers_where_visible(saitama: ChatBot) -> None:
    (reply,) = await saitama.say("officer1", "/dx help")
    assert "・専門人材の一覧: 「/dx experts」（分野で絞り込み: 「/dx experts セキュリティ」）" in (
        reply.text.splitlines()
    )


# --- where the profile keeps the roster from officers (Kumamoto) -----------------------------


@pytest.fixture
async def kumamoto(db_url: str, clock: FixedClock) -> AsyncIterator[ChatBot]:
    from bot.app import build_services
    from bot.demo import add_people
    from store.models import Municipality
    from store.profiles import load_profile
    from store.seed import seed_program
    from tests.conftest import RecordingSender

    settings = Settings(_env_file=None, DATABASE_URL=db_url, DXBOT_PROGRAM="kumamoto-2026")  # type: ignore[call-arg]
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
    bot = ChatBot(services, RecordingSender())
    await write_roster(services.db)
    yield bot
    await services.db.dispose()


async def test_officer_told_politely_where_the_roster_is_not_shown(kumamoto: ChatBot) -> None:
    assert await _roster_text(kumamoto, "officer1") == (
        "この事業では、専門人材の一覧は事務局と県で管理しています。"
        "ご希望があれば、相談の申し込みの際に相談内容へお書きください。"
    )
    (reply,) = await kumamoto.say("officer1", "/dx help")
    assert "/dx experts" not in reply.text


async def test_staff_still_see_the_roster_where_officers_do_not(kumamoto: ChatBot) -> None:
    text = await _roster_text(kumamoto, "staff1")
    assert text.splitlines()[0] == "専門人材の一覧（3名）"
    assert "連絡先: tanaka@example.jp" in text
