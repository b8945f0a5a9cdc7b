"""Every answer understood or explained (issue 19, done-when 2): the shared choice matcher takes
the words the bot shows (a name without its spacing or with さん, the start of one name, a
label's note), everyday ways of saying "cancel" work, questions about dates, deadlines and what
the bot can do are answered instead of starting a consultation, a preference stated as a
negation is not taken as the preference, and a meeting word does not pick a domain."""

from __future__ import annotations

import pytest

from bot.core import choices
from bot.core.catalog import t
from bot.core.conversation import is_cancel, is_pause
from handlers.extract import find_domains
from handlers.help import question_kind
from store.reference import domains
from tests.conftest import ChatBot
from tests.test_matching import ROSTER, _new_case, _roster

PEOPLE = [("伊藤 由美", "1"), ("小林 大輔", "2"), ("田中 誠", "3")]


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("小林大輔", "2"),
        ("小林 大輔さん", "2"),
        ("小林さん", "2"),
        ("こばやし", None),  # a reading is not the name
        ("田中", "3"),
        ("２", "2"),
    ],
)
def test_names_as_shown_are_choices(typed: str, value: str | None) -> None:
    found = choices.match(PEOPLE, typed)
    if value is None:
        assert isinstance(found, choices.NoMatch)
    else:
        assert isinstance(found, choices.Chosen) and found.value == value


@pytest.mark.parametrize(
    "word",
    [
        "やめます",
        "キャンセル",
        "キャンセルします",
        "中止",
        "取り消し",
        "もういい",
        "もういいです",
        "ｷｬﾝｾﾙ",
        "CANCEL",
    ],
)
def test_everyday_ways_of_cancelling(word: str) -> None:
    assert is_cancel(word)
    assert not is_pause(word)


@pytest.mark.parametrize("word", ["あとで", "後で", "中断します", "あとで続ける", "Later"])
def test_everyday_ways_of_pausing(word: str) -> None:
    assert is_pause(word)
    assert not is_cancel(word)


async def test_staff_type_an_experts_name_at_the_match_list(bot: ChatBot) -> None:
    await _roster(bot, ROSTER)
    case_no = await _new_case(bot)
    await bot.say("staff1", f"/dx match {case_no}")
    replies = await bot.say("staff1", "小林さん")
    assert "ご用件を読み取れませんでした" not in replies[0].text
    assert "小林 大輔さんを選びました" in replies[0].text


async def test_cancelling_an_intake_with_everyday_words(bot: ChatBot) -> None:
    for word in ("やめます", "中止", "もういいです"):
        await bot.say("officer1", "相談したい")
        (reply,) = await bot.say("officer1", word)
        assert reply.text == t("conversation_cancelled", flow="相談受付"), word


# --- questions are answered, not turned into a consultation --------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("12月28日は開庁日ですか？", "open_day"),
        ("年末は何日まで開いていますか", "open_day"),
        ("12月3日に実施した支援の報告期限はいつですか？", "deadline"),
        ("報告の締め切りを教えてください", "deadline"),
        ("このボットで何ができますか？", "abilities"),
        ("電子契約の共同調達について相談したいです。", None),
        ("生成AIのガイドラインはどう作ればよいですか？", None),
    ],
)
def test_question_kinds(text: str, kind: str | None) -> None:
    assert question_kind(text) == kind


async def test_a_date_question_is_answered_not_taken_as_a_consultation(bot: ChatBot) -> None:
    (reply,) = await bot.say("officer1", "12月29日は開庁日ですか？")
    assert (
        reply.text
        == "2026年12月29日(火)は年末年始のため閉庁日です。次の開庁日は2027年1月4日(月)です。"
    )
    (reply,) = await bot.say("officer1", "11月25日は開庁日ですか？")
    assert reply.text == "2026年11月25日(水)は開庁日です。"
    # No intake began: the next message is not taken as an answer to 「団体名」.
    replies = await bot.say("officer1", "情報政策課")
    assert all(r.text != t("ask_requester_name") for r in replies)


async def test_a_deadline_question_is_answered(bot: ChatBot) -> None:
    (reply,) = await bot.say("expert1", "11月19日に実施した支援の報告期限はいつですか？")
    assert reply.text.startswith("2026年11月19日(木)に実施した支援の報告期限は、")
    (rule,) = await bot.say("officer1", "報告の期限はいつまでですか？")
    assert rule.text.startswith("支援実施報告の提出期限は、支援を実施した日から")


async def test_what_the_bot_can_do_is_answered_with_the_help(bot: ChatBot) -> None:
    (reply,) = await bot.say(
        "officer1", "このボットではどんなことができますか？使い方を教えてください"
    )
    assert reply.text.startswith("市町村職員としてできること:")


# --- free text --------------------------------------------------------------------------------


def test_a_meeting_word_does_not_pick_the_telework_domain() -> None:
    taxonomy = domains()
    found = find_domains("窓口のオンライン申請について、Web会議で相談したいです", taxonomy)
    assert "テレワークの推進" not in found
    assert found[0] == "自治体フロントヤード改革"
    assert "テレワークの推進" in find_domains("職員のテレワークを進めたい", taxonomy)


def test_a_negated_preference_is_not_the_preference() -> None:
    from handlers.experts import _negated

    def negated(text: str) -> bool:
        return _negated(choices.fold(text), choices.fold("田中 誠"))

    assert negated("田中誠さん以外でお願いします")
    assert negated("田中 誠さんではない方を希望")
    assert not negated("田中誠さんにお願いしたい")
