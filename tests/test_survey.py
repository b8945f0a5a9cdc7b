"""The post-session survey (アンケート) as the municipal officer answers it: satisfaction 1–5 (a
typed number means that many points), resolved / partly / not yet, a comment; stored once per
session; the case closes (完了) when the survey is in and no other session of the case is open;
a second attempt is told it is already answered.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import select

from bot.core.messages import Outbound
from reminders.clock import FixedClock
from store import cases as case_store
from store import users as user_store
from store.models import Survey
from tests.conftest import ChatBot
from tests.test_followup import answer_all
from tests.test_reminder_pass import (
    Booked,
    book,
    case_status,
    jst,
    person,
    report_in,
    run,
    texts_to,
    to,
)

SATISFACTION = "満足度を5段階で教えてください（5: とても満足 〜 1: 不満）。"
RESOLVED = "ご相談の課題は解決しましたか？"
COMMENT = "ご意見・ご感想があればお書きください。なければ「なし」。"
THANKS = "ご回答ありがとうございました。今後の支援の改善に活用します。"


def last(replies: Sequence[Outbound]) -> Outbound:
    assert replies, "no reply"
    return replies[-1]


async def reported(bot: ChatBot, clock: FixedClock) -> Booked:
    """A session on 11/19 14:00–15:00, held and reported at 16:00; the officer has the survey
    request with its button."""
    b = await book(bot.services, "2026-11-19 14:00")
    await run(bot, clock, "2026-11-19 15:00")
    await report_in(bot, clock, b, "2026-11-19 16:00")
    return b


async def surveys(bot: ChatBot) -> list[Survey]:
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        return list((await s.scalars(select(Survey).order_by(Survey.id))).all())


async def test_survey_from_the_request_to_the_closed_case(bot: ChatBot, clock: FixedClock) -> None:
    b = await reported(bot, clock)
    request = to(bot, "officer1")[-1]
    assert request.action_id == "survey_start"
    assert [(c.label, c.value) for c in request.choices] == [
        ("アンケートに答える", str(b.session_id))
    ]
    clock.set(jst("2026-11-20 11:00"))

    intro, question = await bot.say("officer1", "1")  # the request's only button, by number
    assert intro.text == f"{b.case_no}（2026年11月19日(木)実施）の支援についてのアンケートです。"
    assert question.text == SATISFACTION
    assert [c.value for c in question.choices] == ["1", "2", "3", "4", "5"]
    assert question.choices[4].label == "5（とても満足）"

    resolved = last(await bot.say("officer1", "5"))
    assert resolved.text == RESOLVED
    assert [(c.label, c.value) for c in resolved.choices] == [
        ("解決した", "resolved"),
        ("一部解決した", "partly"),
        ("まだ解決していない", "not_yet"),
    ]
    assert last(await bot.say("officer1", "2")).text == COMMENT
    # Answering closes the case, and the officer is told so in the same reply.
    assert last(await bot.say("officer1", "具体的な助言で助かりました")).text == (
        THANKS + f"案件 {b.case_no} はこれで完了となりました。"
    )

    (answer,) = await surveys(bot)
    officer1 = await person(bot.services, "officer1")
    assert (answer.session_id, answer.satisfaction, answer.resolved, answer.comment) == (
        b.session_id,
        5,
        "partly",
        "具体的な助言で助かりました",
    )
    assert answer.respondent_user_id == officer1.id
    assert answer.answered_at == jst("2026-11-20 11:00")
    assert f"【アンケート】{b.case_no}: 満足度5、一部解決した" in texts_to(bot, "staff")

    assert await case_status(bot.services, b.case_id) == "closed"
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        history = await case_store.history(s, b.case_id)
    assert (history[-1].from_status, history[-1].to_status, history[-1].reason) == (
        "reported",
        "closed",
        "アンケート回答済み",
    )
    closed = f"【{b.case_no}】状態が「報告済」から「完了」に変わりました"
    assert any(closed in x for x in texts_to(bot, "staff"))
    assert any(closed in x for x in texts_to(bot, "prefecture"))

    # No reminder, no grace-period closing afterwards.
    for when in ("2026-11-25 09:00", "2026-12-04 09:00"):
        sent = (await run(bot, clock, when)).sent
        assert not [x for x in sent if "survey" in x or "case" in x]


@pytest.mark.parametrize("typed", ["1", "2", "3", "4", "5", "４"])
async def test_a_typed_number_means_that_many_points(
    bot: ChatBot, clock: FixedClock, typed: str
) -> None:
    b = await reported(bot, clock)
    await bot.say("officer1", "", kind="action", action_id="survey_start", value=str(b.session_id))
    await bot.say("officer1", typed)
    await bot.say("officer1", "解決した")  # the label typed out
    await bot.say("officer1", "なし")
    (answer,) = await surveys(bot)
    assert answer.satisfaction == int(typed.translate(str.maketrans("１２３４５", "12345")))
    assert (answer.resolved, answer.comment) == ("resolved", "")


async def test_bad_answers_are_asked_again(bot: ChatBot, clock: FixedClock) -> None:
    b = await reported(bot, clock)
    await bot.say("officer1", f"/dx survey {b.session_id}")
    out_of_range = await bot.say("officer1", "6")
    hint = "1〜5の番号か、「1（不満）」のように選択肢の言葉でお答えください。"
    assert out_of_range[0].text == hint
    words = await bot.say("officer1", "まあまあ")
    assert [r.text for r in words] == [hint, SATISFACTION]
    assert last(await bot.say("officer1", "3")).text == RESOLVED
    assert last(await bot.say("officer1", "わからない")).text == RESOLVED
    assert last(await bot.say("officer1", "まだ解決していない")).text == COMMENT
    assert last(await bot.say("officer1", "特になし")).text.startswith(THANKS)
    (answer,) = await surveys(bot)
    assert (answer.satisfaction, answer.resolved, answer.comment) == (3, "not_yet", "")


async def test_a_second_attempt_is_told_it_is_already_answered(
    bot: ChatBot, clock: FixedClock
) -> None:
    b = await reported(bot, clock)
    for text in ("1", "4", "1", "ありがとうございました"):
        await bot.say("officer1", text)
    assert len(await surveys(bot)) == 1

    # The request's button pressed again, and the command with the session or case number.
    for replies in (
        await bot.say(
            "officer1", "", kind="action", action_id="survey_start", value=str(b.session_id)
        ),
        await bot.say("officer1", f"/dx survey {b.session_id}"),
        await bot.say("officer1", f"/dx survey {b.case_no}"),
    ):
        assert [r.text for r in replies] == [
            "このアンケートには回答済みです。ありがとうございました。"
        ]
    assert (await bot.say("officer1", "/dx survey"))[
        0
    ].text == "回答いただくアンケートはありません。"
    assert len(await surveys(bot)) == 1


async def test_two_officers_answering_at_once_store_one_survey(
    bot: ChatBot, clock: FixedClock
) -> None:
    b = await reported(bot, clock)
    officer1 = await person(bot.services, "officer1")
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        await user_store.add(
            s,
            platform="console",
            platform_id="officer1b",
            role="officer",
            now=clock.now(),
            municipality_code=officer1.municipality_code,
            name="川口 真一",
        )
    for who in ("officer1", "officer1b"):
        await bot.say(who, f"/dx survey {b.session_id}")
        await bot.say(who, "4")
        await bot.say(who, "解決した")
    assert last(await bot.say("officer1", "よかったです")).text.startswith(THANKS)
    late = await bot.say("officer1b", "参考になりました")
    assert [r.text for r in late] == ["このアンケートには回答済みです。ありがとうございました。"]
    (answer,) = await surveys(bot)
    assert (answer.respondent_user_id, answer.comment) == (officer1.id, "よかったです")


async def test_an_officer_of_another_municipality_cannot_answer(
    bot: ChatBot, clock: FixedClock
) -> None:
    b = await reported(bot, clock)
    replies = await bot.say(
        "officer2", "", kind="action", action_id="survey_start", value=str(b.session_id)
    )
    assert [r.text for r in replies] == ["回答いただくアンケートはありません。"]
    assert await surveys(bot) == []


async def test_the_case_closes_only_when_no_other_session_is_open(
    bot: ChatBot, clock: FixedClock
) -> None:
    """Two sessions of one case, both booked ahead. The first one's survey leaves the case
    open; the second ends, is reported (through the conversation) and surveyed: then it closes."""
    first = await book(bot.services, "2026-11-19 14:00")
    second = await book(bot.services, "2026-11-26 10:00", case_id=first.case_id)
    await run(bot, clock, "2026-11-19 15:00")
    await report_in(bot, clock, first, "2026-11-19 16:00")
    for text in ("1", "5", "1", "なし"):  # officer answers the first survey
        await bot.say("officer1", text)
    assert await case_status(bot.services, first.case_id) == "reported"

    await run(bot, clock, "2026-11-26 11:00")  # the second session ends
    assert await case_status(bot.services, first.case_id) == "held"
    clock.set(jst("2026-11-26 14:00"))
    await bot.say("expert1", f"/report {second.session_id}")
    await answer_all(bot)
    await bot.say("expert1", "1")
    assert await case_status(bot.services, first.case_id) == "reported"
    request = to(bot, "officer1")[-1]
    assert request.action_id == "survey_start"
    assert [c.value for c in request.choices] == [str(second.session_id)]
    assert "2026年11月26日(木)実施" in request.text

    for text in ("1", "4", "2", "なし"):
        await bot.say("officer1", text)
    assert await case_status(bot.services, first.case_id) == "closed"
    assert sorted(a.session_id for a in await surveys(bot)) == [
        first.session_id,
        second.session_id,
    ]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("未解決", "not_yet"), ("一部解決", "partly"), ("解決", "resolved"), ("みかいけつ", None)],
)
async def test_the_words_the_exports_write_are_understood_as_answers(
    bot: ChatBot, clock: FixedClock, typed: str, stored: str | None
) -> None:
    """An officer who has read 「未解決」 in the Excel export answers in that word; a word that
    names no choice is asked again, never stored as something else."""
    b = await reported(bot, clock)
    await bot.say("officer1", f"/dx survey {b.session_id}")
    assert last(await bot.say("officer1", "4")).text == RESOLVED
    reply = last(await bot.say("officer1", typed))
    if stored is None:
        assert reply.text == RESOLVED
        return
    assert reply.text == COMMENT
    assert last(await bot.say("officer1", "なし")).text.startswith(THANKS)
    (answer,) = await surveys(bot)
    assert answer.resolved == stored
