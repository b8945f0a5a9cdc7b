"""Nothing a person typed is lost (issue 19, done-when 1).

An expert writing a session report after a long day pastes labelled notes, answers one question
with 「あとで」, closes the laptop and comes back days later, perhaps after the bot restarted:
「あとで」 pauses the report (and says how to resume) instead of being stored as an answer,
「/report」 again goes back to the question it stopped at with the notes still there, the draft
is kept for at least 7 days, and starting something else in between keeps it. The console's
automatic greeting is never taken as an answer of a conversation in progress.
"""

from __future__ import annotations

import datetime as dt
import io
import json

from sqlalchemy import select

from bot.adapters.console import ConsoleAdapter, save_file
from bot.app import build_services, expire_conversations
from bot.core.catalog import t
from bot.core.config import Settings
from reminders.clock import FixedClock
from store.models import ConversationState
from tests.conftest import ChatBot, RecordingSender
from tests.test_followup import ANSWERS, asks, ended, last, reports_of

LABELLED_NOTES = (
    "課題：利用してよい業務の線引きが決まっていない\n"
    "方針：12月中に素案を作成し、庁議に諮る\n"
    "効果：論点が整理され、作業の段取りが決まった\n"
)


async def _states(bot: ChatBot, user: str) -> list[ConversationState]:
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        return list(
            (
                await s.scalars(
                    select(ConversationState)
                    .where(ConversationState.user_platform_id == user)
                    .order_by(ConversationState.id)
                )
            ).all()
        )


async def _paste_notes_then_later(bot: ChatBot) -> None:
    await bot.say("expert1", "/report")
    replies = await bot.say("expert1", LABELLED_NOTES)
    assert asks(replies, "attendees"), [r.text for r in replies]
    paused = last(await bot.say("expert1", "あとで"))
    assert paused.text.startswith("「支援実施報告」の入力を中断し、ここまでの内容を保存しました")
    assert "「/report」とご入力いただくと、中断したところから再開できます" in paused.text


async def test_later_pauses_the_report_and_report_resumes_it_with_the_notes(
    bot: ChatBot, clock: FixedClock
) -> None:
    b = await ended(bot, clock)
    await _paste_notes_then_later(bot)

    # 「あとで」 was not taken as the attendees: the report asks for them again on resuming.
    resumed = await bot.say("expert1", "/report")
    assert resumed[0].text == "中断していた「支援実施報告」を、中断したところから再開します。"
    assert asks(resumed, "attendees")
    for key, text in ANSWERS:
        if key in ("issues", "policy", "effect"):
            continue  # the pasted notes answered these
        replies = await bot.say("expert1", text)
    assert asks(replies, "hours")
    summary = last(await bot.say("expert1", "はい"))
    fields = dict(summary.fields)
    assert fields["把握された課題・内容"] == "利用してよい業務の線引きが決まっていない"
    assert fields["支援の効果"] == "論点が整理され、作業の段取りが決まった"
    assert fields["市町村職員（所属・職・氏名）"] == ANSWERS[0][1]
    assert "あとで" not in fields.values()
    await bot.say("expert1", "1")
    (report,) = await reports_of(bot, b.session_id)
    assert report.fields["policy"] == "12月中に素案を作成し、庁議に諮る"


async def test_a_draft_survives_a_restart_and_a_week(
    bot: ChatBot, clock: FixedClock, settings: Settings
) -> None:
    await ended(bot, clock)
    await _paste_notes_then_later(bot)
    await bot.services.db.dispose()  # type: ignore[attr-defined]

    clock.advance(days=8)  # past the default one-day conversation lifetime, past a week
    restarted = build_services(settings, clock=clock)
    try:
        assert await expire_conversations(restarted) == 0  # the sweeper leaves the draft alone
        bot2 = ChatBot(restarted, RecordingSender())
        resumed = await bot2.say("expert1", "/report")
        assert asks(resumed, "attendees")
        replies = await bot2.say("expert1", ANSWERS[0][1])
        assert asks(replies, "summary")  # then the gaps only: issues/policy/effect stay answered
    finally:
        await restarted.db.dispose()


async def test_the_summary_later_choice_keeps_the_draft(bot: ChatBot, clock: FixedClock) -> None:
    await ended(bot, clock)
    await bot.say("expert1", "/report")
    for _, text in ANSWERS:
        await bot.say("expert1", text)
    summary = last(await bot.say("expert1", "はい"))
    assert [c.label for c in summary.choices][-1] == "あとで続ける"
    paused = last(await bot.say("expert1", "あとで続ける"))
    assert "入力内容は保存していません" not in paused.text
    assert "ここまでの内容を保存しました" in paused.text

    clock.advance(days=2)
    resumed = await bot.say("expert1", "/report")
    assert resumed[-1].text == "以下の内容で報告を提出します。よろしいですか？"
    assert dict(resumed[-1].fields)["相談概要"] == ANSWERS[1][1]


async def test_report_again_mid_conversation_resumes_instead_of_starting_over(
    bot: ChatBot, clock: FixedClock
) -> None:
    await ended(bot, clock)
    await bot.say("expert1", "/report")
    await bot.say("expert1", LABELLED_NOTES)
    again = await bot.say("expert1", "/report")
    assert asks(again, "attendees")
    assert not any("メモをまとめて貼り付けて" in r.text for r in again)
    await bot.say("expert1", ANSWERS[0][1])
    assert asks(await bot.say("expert1", ANSWERS[1][1]), "response")


async def test_a_report_draft_outlives_an_intake_draft(
    bot: ChatBot, clock: FixedClock, settings: Settings
) -> None:
    """The conversation time-to-live is per kind: a report's at least 7 days, others the
    configured default."""
    await ended(bot, clock)
    await bot.say("expert1", "/report")
    await bot.say("expert1", LABELLED_NOTES)
    await bot.say("officer1", "相談したい")
    clock.advance(minutes=settings.conversation_ttl_minutes + 1)
    assert await expire_conversations(bot.services) == 1  # the officer's intake only
    (state,) = await _states(bot, "expert1")
    assert state.expires_at - clock.now() >= dt.timedelta(days=7) - dt.timedelta(
        minutes=settings.conversation_ttl_minutes + 1
    )
    assert asks(await bot.say("expert1", "/report"), "attendees")


async def test_starting_something_else_keeps_the_report_draft(
    bot: ChatBot, clock: FixedClock
) -> None:
    await ended(bot, clock)
    await bot.say("expert1", "/report")
    await bot.say("expert1", LABELLED_NOTES)
    # A staff-looking journey is not the expert's, so use cancel-free /report on the same
    # session via its id: the in-progress draft is resumed, not begun again.
    states = await _states(bot, "expert1")
    sid = states[0].data["sid"]
    replies = await bot.say("expert1", f"/report {sid}")
    assert asks(replies, "attendees")
    assert replies[0].text.startswith("中断していた「支援実施報告」")


async def test_a_new_conversation_sets_the_one_in_progress_aside(
    bot: ChatBot, clock: FixedClock
) -> None:
    await bot.say("staff1", "相談したい")
    await bot.say("staff1", "川越市")
    replies = await bot.say("staff1", "/consult")
    # /consult while an intake is in progress: the intake goes on where it stopped or is
    # set aside as a draft, never silently thrown away.
    states = await _states(bot, "staff1")
    assert any("川越市" in json.dumps(st.data, ensure_ascii=False) for st in states), [
        r.text for r in replies
    ]


async def test_other_words_for_later_pause_too(bot: ChatBot, clock: FixedClock) -> None:
    await ended(bot, clock)
    await bot.say("expert1", "/report")
    for word in ("後で", "中断します", "ＬＡＴＥＲ"):
        paused = last(await bot.say("expert1", word))
        assert "ここまでの内容を保存しました" in paused.text, word
        assert asks(await bot.say("expert1", "/report"), "attendees")


async def test_later_outside_a_conversation_still_snoozes_the_reminders(
    bot: ChatBot, clock: FixedClock
) -> None:
    await ended(bot, clock)
    (reply,) = await bot.say("expert1", "あとで")
    assert reply.text.startswith("承知しました。")


# --- the console's greeting ------------------------------------------------------------------


async def test_the_console_greeting_is_not_fed_into_a_conversation(bot: ChatBot) -> None:
    await bot.say("officer1", "相談したい")
    before = await _states(bot, "officer1")
    out = io.StringIO()
    console = ConsoleAdapter(bot.services, out=out)  # type: ignore[arg-type]
    assert await console.run_interactive("officer1", io.StringIO(""), interactive=False) == 0
    assert t("console_conversation_waiting", flow="相談受付") in out.getvalue()
    after = await _states(bot, "officer1")
    assert [(s.step, s.data) for s in after] == [(s.step, s.data) for s in before]
    assert "こんにちは" not in json.dumps([s.data for s in after], ensure_ascii=False)


async def test_the_console_greets_when_nothing_is_in_progress(bot: ChatBot) -> None:
    out = io.StringIO()
    console = ConsoleAdapter(bot.services, out=out)  # type: ignore[arg-type]
    await console.run_interactive("officer1", io.StringIO(""), interactive=False)
    assert "相談窓口ボットです" in out.getvalue()


# --- files posted to the console never overwrite each other ------------------------------------


def test_console_files_never_overwrite_each_other(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path)) / "files"
    first = save_file(folder, "支援実績_2026.pptx", b"deck of officer1")
    second = save_file(folder, "支援実績_2026.pptx", b"deck of officer2")
    third = save_file(folder, "../支援実績_2026.pptx", b"third")
    assert (first.name, second.name, third.name) == (
        "支援実績_2026.pptx",
        "支援実績_2026-2.pptx",
        "支援実績_2026-3.pptx",
    )
    assert first.read_bytes() == b"deck of officer1"
    assert second.read_bytes() == b"deck of officer2"
    assert all(p.parent == folder for p in (first, second, third))
