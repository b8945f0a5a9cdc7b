"""The console chat greets in Japanese and `/dx help` answers per role."""

from __future__ import annotations

import pytest

from tests.conftest import ChatBot


async def test_greets_officer_in_japanese(bot: ChatBot) -> None:
    replies = await bot.say("officer1", "こんにちは")
    assert "山田 花子さん" in replies[0].text
    assert "相談窓口ボット" in replies[0].text


@pytest.mark.parametrize(
    ("user", "must", "must_not"),
    [
        ("officer1", "相談の申し込み", "マッチング"),
        ("expert1", "支援実施報告の作成", "相談の受付代行"),
        ("staff1", "マッチング", "アンケートへの回答"),
        ("pref1", "派遣人材の承認", "相談の受付代行"),
        # admins may do everything; people are managed on the command line (no /dx users)
        ("admin1", "dxbot users", "/dx users"),
    ],
)
async def test_help_depends_on_role(bot: ChatBot, user: str, must: str, must_not: str) -> None:
    text = (await bot.say(user, "/dx help"))[0].text
    assert must in text
    assert must_not not in text
