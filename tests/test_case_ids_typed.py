"""Case ids as people type them on a phone's Japanese keyboard: lower case, full-width letters,
digits and hyphens (「ｓａｉ－２０２６－０００１」), the kana mode's 「ー」 for the hyphen, spaces
around them — each names the case, in a view and in a command that changes it."""

from __future__ import annotations

import pytest

from tests.conftest import ChatBot
from tests.test_methods import CASE, open_case
from tests.test_sessions_cancel_move import schedule


@pytest.mark.parametrize(
    "typed",
    [
        "SAI-2026-0001",
        "sai-2026-0001",
        "ＳＡＩ－２０２６－０００１",
        "ｓａｉ－２０２６－０００１",
        " SAI-2026-0001 ",
        "ＳＡＩー２０２６ー０００１",
    ],
)
async def test_a_case_id_in_any_keyboard_form_names_the_case(bot: ChatBot, typed: str) -> None:
    await open_case(bot)
    (reply,) = await bot.say("staff1", f"/status {typed}")
    assert CASE in reply.text and "見つかりません" not in reply.text
    await schedule(bot)
    (held,) = await bot.say("staff1", f"/dx hold {typed} 先方の都合")
    assert CASE in held.text and "保留" in held.text
