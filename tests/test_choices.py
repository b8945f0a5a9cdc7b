"""Answers to numbered questions: the number, the label as shown, and the ways people type them
on a Japanese keyboard — one reader (bot.core.choices) for every conversation."""

from __future__ import annotations

import pytest

from bot.core.choices import Chosen, NoMatch, hint_for, match
from bot.core.messages import Outbound
from reminders.clock import FixedClock
from store import conversations
from tests.conftest import ChatBot
from tests.test_followup import answer_all, ended, reports_of
from tests.test_matching import ROSTER, _case, _new_case, _roster
from tests.test_survey import reported, surveys

METHOD = [
    ("オンライン", "online"),
    ("訪問", "onsite"),
    ("メール", "email"),
    ("チャット", "chat"),
    ("電話", "phone"),
]
CONFIRM = [("この内容で申し込む", "submit"), ("修正する", "edit"), ("やめる", "cancel")]
YES_NO = [("はい", "yes"), ("いいえ", "no")]
DOMAINS = [
    ("セキュリティ対策の徹底", "セキュリティ対策の徹底"),
    ("ICT-BCP", "ICT-BCP"),
    ("BPRの取組の徹底", "BPRの取組の徹底"),
]
SURVEY = [
    ("1（不満）", "1"),
    ("2（やや不満）", "2"),
    ("3（ふつう）", "3"),
    ("4（満足）", "4"),
    ("5（とても満足）", "5"),
]
# A proposal in which two experts share a name: only their numbers tell them apart.
EXPERTS = [
    ("佐藤 健", "SAI-2026-001:7"),
    ("佐藤 健", "SAI-2026-001:9"),
    ("小林 大輔", "SAI-2026-001:12"),
]
# Hours offered as bare numbers: "1" is the second choice's label and the first choice's number.
HOURS = [("2", "h2"), ("1", "h1")]

METHOD_HINT = "1〜5の番号か、「オンライン」のように選択肢の言葉でお答えください。"

ROWS: list[tuple[list[tuple[str, str]], str, str | None]] = [
    # the number, as typed
    (METHOD, "1", "online"),
    (METHOD, "１", "online"),
    (METHOD, "2.", "onsite"),
    (METHOD, "３．", "email"),
    (METHOD, "4番", "chat"),
    (METHOD, " 5 ", "phone"),
    (METHOD, "　５。", "phone"),
    # the label, as shown and as typed
    (METHOD, "オンライン", "online"),
    (METHOD, "おんらいん", "online"),
    (METHOD, "ｵﾝﾗｲﾝ", "online"),
    (METHOD, "めーる", "email"),
    (METHOD, "電話。", "phone"),
    (CONFIRM, "修正する", "edit"),
    (CONFIRM, " この内容で 申し込む ", "submit"),
    (CONFIRM, "やめる！", "cancel"),
    (YES_NO, "ハイ", "yes"),
    (YES_NO, "はい。", "yes"),
    (YES_NO, "イイエ", "no"),
    (DOMAINS, "ict-bcp", "ICT-BCP"),
    (DOMAINS, "ＩＣＴ－ＢＣＰ", "ICT-BCP"),
    (DOMAINS, "bprの取組の徹底", "BPRの取組の徹底"),
    (SURVEY, "５", "5"),
    (SURVEY, "5(とても満足)", "5"),
    # the words the bot shows in a label are an answer too (issue 19)
    (SURVEY, "とても満足", "5"),
    (SURVEY, "ふつう", "3"),
    (SURVEY, "４（満足）", "4"),
    (EXPERTS, "3", "SAI-2026-001:12"),
    (EXPERTS, "小林　大輔", "SAI-2026-001:12"),
    (EXPERTS, "２", "SAI-2026-001:9"),
    # nothing matches
    (METHOD, "0", None),
    (METHOD, "6", None),
    (METHOD, "ファックス", None),
    (METHOD, "1,3", None),
    (METHOD, "オンラインか訪問", None),
    (METHOD, "", None),
    (METHOD, "   ", None),
    (SURVEY, "まあまあ", None),
    (SURVEY, "6", None),
    (EXPERTS, "佐藤 健", None),
    (EXPERTS, "佐藤健", None),
    (HOURS, "1", None),
]


@pytest.mark.parametrize(("offered", "typed", "expected"), ROWS)
def test_typed_answer(offered: list[tuple[str, str]], typed: str, expected: str | None) -> None:
    found = match(offered, typed)
    if expected is None:
        assert isinstance(found, NoMatch), typed
        assert found.hint == hint_for(offered)
    else:
        assert isinstance(found, Chosen), typed
        assert found.value == expected


@pytest.mark.parametrize(
    ("offered", "typed", "reason", "meant"),
    [
        (METHOD, "6", "out_of_range", True),
        (METHOD, "0番", "out_of_range", True),
        (EXPERTS, "佐藤 健", "ambiguous", True),
        (HOURS, "1", "ambiguous", True),
        (METHOD, "ファックス", "unknown", False),
        (METHOD, "", "empty", False),
    ],
)
def test_why_nothing_matched(
    offered: list[tuple[str, str]], typed: str, reason: str, meant: bool
) -> None:
    found = match(offered, typed)
    assert isinstance(found, NoMatch)
    assert (found.reason, found.meant_a_choice) == (reason, meant)


def test_the_hint_is_one_sentence_naming_what_is_accepted() -> None:
    assert hint_for(METHOD) == METHOD_HINT
    assert hint_for(CONFIRM) == (
        "1〜3の番号か、「この内容で申し込む」のように選択肢の言葉でお答えください。"
    )
    assert (
        hint_for([("アンケートに答える", "42")])
        == "「1」か「アンケートに答える」とお答えください。"
    )
    found = match(METHOD, "7")
    assert isinstance(found, NoMatch) and found.hint == METHOD_HINT


# --- end to end: every kind of conversation ------------------------------------------------------


async def _state(bot: ChatBot, user: str) -> tuple[str, str, dict[str, object]] | None:
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        state = await conversations.get(s, "console", user, "")
    return None if state is None else (state.flow, state.step, dict(state.data))


def _texts(replies: list[Outbound]) -> list[str]:
    return [r.text for r in replies]


async def test_intake_takes_labels_and_full_width_numbers(bot: ChatBot) -> None:
    await bot.say(
        "officer1", "電子契約の共同調達について相談したいです。オンラインで来週火曜の午後希望"
    )
    # The domains question (several may be chosen), answered with two labels as typed.
    (summary,) = await bot.say("officer1", "せきゅりてぃ対策の徹底、ｉｃｔ－ｂｃｐ")
    assert dict(summary.fields)["分野"] == "セキュリティ対策の徹底、ICT-BCP"

    before = await _state(bot, "officer1")
    replies = await bot.say("officer1", "たぶん大丈夫")
    assert _texts(replies) == [
        "1〜3の番号か、「この内容で申し込む」のように選択肢の言葉でお答えください。",
        "以下の内容で相談を申し込みます。よろしいですか？",
    ]
    assert await _state(bot, "officer1") == before

    (menu,) = await bot.say("officer1", "２")  # 修正する
    assert menu.choices[6].label == "希望する方法"
    (method,) = await bot.say("officer1", "希望する方法")
    assert method.choices[0].label == "オンライン"
    (summary,) = await bot.say("officer1", "ﾒｰﾙ")
    assert dict(summary.fields)["希望する方法"] == "メール"
    (opened,) = await bot.say("officer1", "この内容で申し込む。")
    assert opened.text.startswith("相談を受け付けました。")
    assert await _state(bot, "officer1") is None


async def test_the_report_takes_labels_and_full_width_numbers(
    bot: ChatBot, clock: FixedClock
) -> None:
    b = await ended(bot, clock)
    started = await bot.say("expert1", "１")  # the number of the reminder's one button
    assert started[0].text.startswith(f"{b.case_no}の支援実施報告を作成します")
    summary = (await answer_all(bot))[-1]
    assert summary.choices[0].label == "この内容で提出する"

    before = await _state(bot, "expert1")
    replies = await bot.say("expert1", "うーん")
    assert _texts(replies)[0] == (
        "1〜3の番号か、「この内容で提出する」のように選択肢の言葉でお答えください。"
    )
    assert replies[-1].text == summary.text
    assert await _state(bot, "expert1") == before

    await bot.say("expert1", "２")  # 修正する
    asked = await bot.say("expert1", "相談概要")
    assert asked[-1].text.startswith("相談の概要を教えてください。")
    await bot.say("expert1", "生成AIの庁内利用ガイドラインの作り方（改訂版）")
    await bot.say("expert1", "この内容で提出する。")
    (report,) = await reports_of(bot, b.session_id)
    assert report.fields["summary"] == "生成AIの庁内利用ガイドラインの作り方（改訂版）"


async def test_the_survey_takes_labels_and_full_width_numbers(
    bot: ChatBot, clock: FixedClock
) -> None:
    await reported(bot, clock)
    # The survey request's one button, out of any conversation: a wrong number is told how to
    # answer, and the button's label typed out starts the survey.
    assert _texts(await bot.say("officer1", "2")) == [
        "「1」か「アンケートに答える」とお答えください。"
    ]
    started = await bot.say("officer1", "アンケートに答える")
    assert started[-1].text == "満足度を5段階で教えてください（5: とても満足 〜 1: 不満）。"

    before = await _state(bot, "officer1")
    replies = await bot.say("officer1", "まあまあ")
    assert _texts(replies) == [
        "1〜5の番号か、「1（不満）」のように選択肢の言葉でお答えください。",
        "満足度を5段階で教えてください（5: とても満足 〜 1: 不満）。",
    ]
    assert await _state(bot, "officer1") == before

    await bot.say("officer1", "４")
    await bot.say("officer1", "一部解決した")
    await bot.say("officer1", "なし")
    (answer,) = await surveys(bot)
    assert (answer.satisfaction, answer.resolved) == (4, "partly")


async def test_a_proposal_and_an_approval_take_labels_and_full_width_numbers(
    bot: ChatBot,
) -> None:
    await _roster(bot, ROSTER)
    case_no = await _new_case(bot)
    (proposal,) = await bot.say("staff1", f"/dx match {case_no}")
    assert [c.label for c in proposal.choices] == ["伊藤 由美", "小林 大輔", "田中 誠"]

    replies = await bot.say("staff1", "４")
    assert _texts(replies) == ["1〜3の番号か、「伊藤 由美」のように選択肢の言葉でお答えください。"]
    assert (await _state(bot, "staff1")) is not None  # the proposal still stands

    picked = await bot.say("staff1", "小林大輔")
    assert _texts(picked) == [
        f"{case_no}の担当に小林 大輔さんを選びました。県の承認をお待ちください。"
    ]
    # The prefecture's approval request came with numbered choices: its label, typed.
    approved = await bot.say("pref1", "承認する。")
    assert _texts(approved) == [f"{case_no}の小林 大輔さんを承認しました。"]
    case = await _case(bot.services.db, case_no)  # type: ignore[attr-defined]
    assert case.match_state == "approved"


async def test_a_slash_commands_argument_is_not_an_answer_to_the_menu(bot: ChatBot) -> None:
    """Slack sends `/status 1` as a command whose text is "1": it is the command's argument,
    not choice 1 of the proposal still standing."""
    await _roster(bot, ROSTER)
    case_no = await _new_case(bot)
    await bot.say("staff1", f"/dx match {case_no}")
    replies = await bot.say("staff1", "1", kind="command", command="/status")
    assert _texts(replies) == ["案件「1」は見つかりませんでした。番号をご確認ください。"]
    case = await _case(bot.services.db, case_no)  # type: ignore[attr-defined]
    assert case.proposed_expert_user_id is None  # nobody was picked
    # The proposal still takes its number afterwards.
    picked = await bot.say("staff1", "1")
    assert _texts(picked) == [
        f"{case_no}の担当に伊藤 由美さんを選びました。県の承認をお待ちください。"
    ]
