"""The follow-up conversation that makes the session report (支援実施報告 / 業務日報), as the expert
lives it: started by `/report` or by the reminder's own button (or its number, typed), questions
one at a time with what the bot knows filled in, free notes read and only the gaps asked, one
field corrected from the summary, the record stored with a report file for the staff channel,
amendments that keep the history, attachments kept, 「あとで」 to snooze — and, with the LLM
configured, notes extracted by the model (against a fake OpenAI-compatible server).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import AsyncIterator, Sequence

import openpyxl
import pytest
from sqlalchemy import func, select

from bot.app import build_services
from bot.core.config import Settings
from bot.core.messages import FileRef, Outbound
from reminders.clock import FixedClock
from store import cases as case_store
from store.models import ReportAttachment, SessionReport, SessionTally, SupportSession
from tests.conftest import ChatBot, RecordingSender
from tests.fakes.openai_server import FakeOpenAI
from tests.test_reminder_pass import Booked, book, case_status, jst, run, texts_to, to

ANSWERS = [
    ("attendees", "デジタル推進課 主査 山田花子、情報政策課 主任 佐藤一郎"),
    ("summary", "生成AIの庁内利用ガイドラインの作り方"),
    ("response", "他団体の事例を紹介し、ガイドラインの骨子案を示した"),
    ("issues", "利用してよい業務の線引きが決まっていない"),
    ("policy", "12月中に素案を作成し、庁議に諮る"),
    ("effect", "論点が整理され、作業の段取りが決まった"),
    ("materials", "他団体ガイドライン比較表"),
    ("next_plan", "1月にオンラインで素案のレビュー"),
]
QUESTIONS = {
    "attendees": "市町村側の出席者を、所属・役職・氏名で教えてください",
    "summary": "相談の概要を教えてください。",
    "response": "どのように回答・助言しましたか？",
    "issues": "把握された課題やその内容を教えてください。",
    "policy": "合意した今後の対応方針を教えてください。",
    "effect": "支援によって得られた効果を教えてください。",
    "materials": "使用した資料やツールを教えてください",
    "next_plan": "次回の支援予定を教えてください。",
    "hours": "支援時間は1時間でよろしいですか？",
}
LABELS = [
    "市町村名",
    "日時",
    "対応方法",
    "場所",
    "対応者",
    "市町村職員（所属・職・氏名）",
    "相談概要",
    "対応内容（回答・助言）",
    "把握された課題・内容",
    "対応方針",
    "支援の効果",
    "使用した資料・ツール",
    "次回支援予定",
    "支援時間（時間）",
]


def last(replies: Sequence[Outbound]) -> Outbound:
    assert replies, "no reply"
    return replies[-1]


def asks(replies: Sequence[Outbound], key: str) -> bool:
    return QUESTIONS[key] in last(replies).text


async def ended(bot: ChatBot, clock: FixedClock) -> Booked:
    """A session on Thursday 11/19 14:00–15:00 whose first follow-up request went out at its end;
    the clock is then set to Friday 10:00, when the expert sits down to write."""
    b = await book(bot.services, "2026-11-19 14:00")
    await run(bot, clock, "2026-11-19 15:00")
    clock.set(jst("2026-11-20 10:00"))
    return b


async def reports_of(bot: ChatBot, session_id: int) -> list[SessionReport]:
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        return list(
            (
                await s.scalars(
                    select(SessionReport)
                    .where(SessionReport.session_id == session_id)
                    .order_by(SessionReport.version)
                )
            ).all()
        )


async def answer_all(bot: ChatBot, user: str = "expert1") -> list[Outbound]:
    replies: list[Outbound] = []
    for key, text in ANSWERS:
        replies = await bot.say(user, text)
        nxt = ANSWERS[[k for k, _ in ANSWERS].index(key) + 1][0] if key != "next_plan" else "hours"
        assert asks(replies, nxt), (key, [r.text for r in replies])
    return await bot.say(user, "はい")


# --- the conversation --------------------------------------------------------------------------


async def test_report_from_question_to_stored_record_and_file(
    bot: ChatBot, clock: FixedClock
) -> None:
    b = await ended(bot, clock)
    officer_before = len(texts_to(bot, "officer1"))

    intro, question = await bot.say("expert1", "/report")
    assert intro.text.startswith(
        f"{b.case_no}の支援実施報告を作成します（提出期限: 2026年11月27日(金)）"
    )
    assert dict(intro.fields) == {
        "市町村名": "さいたま市",
        "日時": "2026年11月19日(木) 14:00〜15:00",
        "対応方法": "オンライン",
        "場所": "オンライン（Teams）",
        "対応者": "田中 誠",
    }
    assert "メモをまとめて貼り付けて" in question.text and asks([question], "attendees")

    summary = last(await answer_all(bot))
    assert summary.text == "以下の内容で報告を提出します。よろしいですか？"
    assert [label for label, _ in summary.fields] == LABELS
    assert dict(summary.fields)["支援時間（時間）"] == "1"
    assert [c.value for c in summary.choices] == ["submit", "edit", "pause"]

    # Correct one field from the summary: 2 = 修正する, 3 = 対応内容.
    menu = last(await bot.say("expert1", "2"))
    assert menu.text == "どの項目を修正しますか？" and len(menu.choices) == 9
    assert asks(await bot.say("expert1", "3"), "response")
    again = last(await bot.say("expert1", "骨子案を示し、三つの他団体事例を紹介した"))
    assert (
        dict(again.fields)["対応内容（回答・助言）"] == "骨子案を示し、三つの他団体事例を紹介した"
    )
    assert dict(again.fields)["相談概要"] == ANSWERS[1][1]  # nothing else changed

    clock.set(jst("2026-11-20 10:30"))
    done = await bot.say("expert1", "1")
    assert [r.text for r in done] == [
        f"{b.case_no}の支援実施報告を提出しました（第1版）。ありがとうございました。"
    ]

    # Stored: version 1, the session marked reported at that moment.
    (v1,) = await reports_of(bot, b.session_id)
    assert (v1.version, v1.is_current) == (1, True)
    assert v1.fields["response"] == "骨子案を示し、三つの他団体事例を紹介した"
    assert v1.fields["municipalities"] == "さいたま市" and v1.fields["hours"] == "1"
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        session = await s.get(SupportSession, b.session_id)
        assert session is not None
        assert session.report_submitted_at == jst("2026-11-20 10:30")

    # The report file went to the staff channel, Japanese labels and values in order.
    (posted,) = [m for m in to(bot, "staff") if m.files]
    assert (
        posted.text
        == f"【報告】{b.case_no}の支援実施報告（第1版）が田中 誠さんから提出されました。"
    )
    (xlsx,) = posted.files
    assert xlsx.name == f"支援実施報告_{b.case_no}_20261119_v1.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet.title == "支援実施報告"
    assert sheet["A1"].value == "令和8年度第2期埼玉県市町村DX推進支援業務 支援実施報告書"
    rows = [(r[0], r[1]) for r in sheet.iter_rows(min_row=3, max_col=2, values_only=True)]
    expected_values = {
        "市町村名": "さいたま市",
        "日時": "2026年11月19日(木) 14:00〜15:00",
        "対応方法": "オンライン",
        "場所": "オンライン（Teams）",
        "対応者": "田中 誠",
        **{label: value for label, (_, value) in zip(LABELS[5:], ANSWERS, strict=False)},
        "対応内容（回答・助言）": "骨子案を示し、三つの他団体事例を紹介した",
        "支援時間（時間）": "1",
    }
    assert rows == [
        ("案件番号", b.case_no),
        ("報告版", "第1版"),
        ("報告期限", "2026年11月27日(金)"),
        ("報告日", "2026年11月20日(金)"),
        *((label, expected_values[label]) for label in LABELS),
    ]

    # The case is 報告済, everyone is told, and the officer is asked for the survey.
    assert await case_status(bot.services, b.case_id) == "reported"
    changed = f"【{b.case_no}】状態が「実施済(報告待ち)」から「報告済」に変わりました（田中 誠）"
    assert changed in texts_to(bot, "staff") and changed in texts_to(bot, "prefecture")
    officer = to(bot, "officer1")[officer_before:]
    assert [m.text for m in officer] == [
        f"相談（{b.case_no}）の支援実施報告が提出されました。",
        f"{b.case_no}（2026年11月19日(木)実施）の支援について、簡単なアンケートにご協力ください（3問・1分程度）。",
    ]
    assert officer[1].action_id == "survey_start"
    assert [c.value for c in officer[1].choices] == [str(b.session_id)]

    # No more reminders for this session.
    for when in ("2026-11-25 09:00", "2026-11-27 09:00", "2026-11-30 09:00"):
        assert not [x for x in (await run(bot, clock, when)).sent if b.case_no in x]


async def test_a_report_written_before_the_pass_saw_the_session_end(
    bot: ChatBot, clock: FixedClock
) -> None:
    """The expert types /report a minute after the session, before the reminder pass ran."""
    b = await book(bot.services, "2026-11-19 14:00")
    clock.set(jst("2026-11-19 15:01"))
    await bot.say("expert1", "/report")
    await answer_all(bot)
    await bot.say("expert1", "1")
    assert await case_status(bot.services, b.case_id) == "reported"
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        session = await s.get(SupportSession, b.session_id)
        assert session is not None and session.status == "done"
        history = [h.to_status for h in await case_store.history(s, b.case_id)]
    assert history == ["scheduled", "held", "reported"]
    report = await run(bot, clock, "2026-11-19 15:05")
    assert (report.ended, report.sent) == (0, [])
    assert texts_to(bot, "expert1") == []


async def test_the_reminders_button_or_its_number_starts_the_report(
    bot: ChatBot, clock: FixedClock
) -> None:
    b = await ended(bot, clock)
    # A Slack button press: the action and the session id.
    replies = await bot.say(
        "expert1", "", kind="action", action_id="report_start", value=str(b.session_id)
    )
    assert replies[0].text.startswith(f"{b.case_no}の支援実施報告を作成します")
    assert asks(replies, "attendees")
    assert (await bot.say("expert1", "やめる"))[0].text.startswith("「支援実施報告」")


async def test_typing_the_number_of_the_reminders_button(bot: ChatBot, clock: FixedClock) -> None:
    first = await ended(bot, clock)
    second = await book(bot.services, "2026-11-20 13:00")
    await run(bot, clock, "2026-11-20 14:00")  # the second session's request, with one button
    ping = to(bot, "expert1")[-1]
    assert [c.value for c in ping.choices] == [str(second.session_id)]
    replies = await bot.say("expert1", "1")  # LoGo Chat / console: the number of the button
    assert replies[0].text.startswith(f"{second.case_no}の支援実施報告を作成します")
    await bot.say("expert1", "やめる")

    # `/report` with two pending offers both, and the number picks one.
    pick = last(await bot.say("expert1", "/report"))
    assert pick.text == "どの支援の報告を作成しますか？" and pick.action_id == "report_start"
    assert [c.value for c in pick.choices] == [str(first.session_id), str(second.session_id)]
    assert "期限2026年11月27日(金)" in pick.choices[0].label
    replies = await bot.say("expert1", "2")
    assert replies[0].text.startswith(f"{second.case_no}の支援実施報告を作成します")


async def test_free_notes_fill_fields_and_only_the_gaps_are_asked(
    bot: ChatBot, clock: FixedClock
) -> None:
    b = await ended(bot, clock)
    await bot.say("expert1", "/report")
    notes = "\n".join(
        [
            "出席者：デジタル推進課 主査 山田花子",
            "課題：利用してよい業務の線引きが決まっていない",
            "方針：12月中に素案を作成",
            "【効果】論点が整理された",
            "次回：1月にレビュー",
            "時間：1.5",
        ]
    )
    replies = await bot.say("expert1", notes)
    # Only the gaps: 相談概要, 対応内容, 資料 — in the report's order; hours were given.
    assert asks(replies, "summary") and len(replies) == 1
    assert asks(await bot.say("expert1", "ガイドライン策定の進め方"), "response")
    assert asks(await bot.say("expert1", "事例を紹介した"), "materials")
    summary = last(await bot.say("expert1", "なし"))
    fields = dict(summary.fields)
    assert fields["市町村職員（所属・職・氏名）"] == "デジタル推進課 主査 山田花子"
    assert fields["把握された課題・内容"] == "利用してよい業務の線引きが決まっていない"
    assert fields["対応方針"] == "12月中に素案を作成"
    assert fields["支援の効果"] == "論点が整理された"
    assert fields["次回支援予定"] == "1月にレビュー"
    assert fields["支援時間（時間）"] == "1.5"
    await bot.say("expert1", "1")
    (v1,) = await reports_of(bot, b.session_id)
    assert v1.fields["hours"] == "1.5" and v1.fields["summary"] == "ガイドライン策定の進め方"
    # The hours held replace the hours booked (1): the record and the program's totals agree.
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        session = await s.get(SupportSession, b.session_id)
        assert session is not None and session.hours == 1.5
        assert session.ends_at - session.starts_at == dt.timedelta(hours=1.5)
        tally = await s.scalar(
            select(func.sum(SessionTally.hours)).where(
                SessionTally.dim == "track", SessionTally.program_id == session.program_id
            )
        )
        assert tally == 1.5


async def test_unlabelled_notes_without_the_llm_are_kept_and_everything_else_asked(
    bot: ChatBot, clock: FixedClock
) -> None:
    await ended(bot, clock)
    await bot.say("expert1", "/report")
    notes = (
        "本日はガイドライン策定について相談を受けた。先行団体の事例を紹介し、利用範囲の考え方を"
        "説明した。次回までに素案を作ってもらうことにした。担当課は前向きで、庁内の合意も得られそうである。"
    )
    assert len(notes) >= 80
    replies = await bot.say("expert1", notes)
    assert asks(replies, "attendees")  # nothing could be read into fields: ask each one
    # The notes became the summary: after the attendees comes the response.
    assert asks(await bot.say("expert1", "デジタル推進課 主査 山田花子"), "response")


async def test_required_fields_cannot_be_left_empty(bot: ChatBot, clock: FixedClock) -> None:
    await ended(bot, clock)
    await bot.say("expert1", "/report")
    await bot.say("expert1", ANSWERS[0][1])
    # A message with only a file at a text question: the file is kept, the question stands.
    photo = FileRef(name="板書.jpg", url="https://files.example/2", content_type="image/jpeg")
    replies = await bot.say("expert1", "", files=(photo,))
    assert replies[0].text == "「相談概要」は報告に必要な項目です。入力をお願いします。"
    assert asks(replies, "summary")
    # An empty message is refused before the conversation sees it; the question stands.
    assert (await bot.say("expert1", "   "))[0].text.startswith("メッセージが空でした。")
    assert asks(await bot.say("expert1", ANSWERS[1][1]), "response")
    for _, text in ANSWERS[2:5]:
        await bot.say("expert1", text)
    # The file already fills 使用した資料, so that question is skipped.
    assert asks(await bot.say("expert1", ANSWERS[5][1]), "next_plan")
    hours = await bot.say("expert1", ANSWERS[7][1])
    assert asks(hours, "hours")
    assert last(hours).choices == ()  # a typed number is hours, never a numbered choice
    for bad in ("たくさん", "25", "0"):
        replies = await bot.say("expert1", bad)
        assert replies[0].text == "支援時間は 0〜24 の数字で入力してください（例: 2.5）。"
        assert asks(replies, "hours")
    summary = last(await bot.say("expert1", "２．５"))  # full-width digits
    fields = dict(summary.fields)
    assert fields["支援時間（時間）"] == "2.5"
    assert fields["使用した資料・ツール"] == "板書.jpg"
    assert all(value for value in fields.values())


async def test_amending_keeps_the_history(bot: ChatBot, clock: FixedClock) -> None:
    b = await ended(bot, clock)
    await bot.say("expert1", "/report")
    await answer_all(bot)
    await bot.say("expert1", "1")
    officer_before = len(texts_to(bot, "officer1"))
    clock.set(jst("2026-11-24 11:00"))

    replies = await bot.say("expert1", f"/report amend {b.session_id}")
    assert "提出済みの報告を修正します。修正前の版は履歴として残ります。" in replies[0].text
    summary = last(replies)
    assert dict(summary.fields)["使用した資料・ツール"] == ANSWERS[6][1]  # the stored answers
    await bot.say("expert1", "2")  # 修正する
    assert asks(await bot.say("expert1", "7"), "materials")
    await bot.say("expert1", "他団体ガイドライン比較表、議事メモ")
    done = await bot.say("expert1", "1")
    assert done[0].text == f"{b.case_no}の支援実施報告を修正しました（第2版）。"

    v1, v2 = await reports_of(bot, b.session_id)
    assert (v1.version, v1.is_current, v1.fields["materials"]) == (1, False, ANSWERS[6][1])
    assert (v2.version, v2.is_current) == (2, True)
    assert v2.fields["materials"] == "他団体ガイドライン比較表、議事メモ"
    assert {k: v for k, v in v2.fields.items() if k != "materials"} == {
        k: v for k, v in v1.fields.items() if k != "materials"
    }
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        session = await s.get(SupportSession, b.session_id)
        assert session is not None and session.report_submitted_at == jst("2026-11-20 10:00")
    files = [f.name for m in to(bot, "staff") for f in m.files]
    assert files == [
        f"支援実施報告_{b.case_no}_20261119_v1.xlsx",
        f"支援実施報告_{b.case_no}_20261119_v2.xlsx",
    ]
    assert await case_status(bot.services, b.case_id) == "reported"
    assert texts_to(bot, "officer1")[officer_before:] == []  # no second survey request


async def test_an_expert_cannot_report_another_experts_session(
    bot: ChatBot, clock: FixedClock
) -> None:
    b = await ended(bot, clock)
    for replies in (
        await bot.say("expert2", f"/report {b.session_id}"),
        await bot.say("expert2", f"/report amend {b.session_id}"),
        await bot.say(
            "expert2", "", kind="action", action_id="report_start", value=str(b.session_id)
        ),
        await bot.say("expert2", f"/report {b.case_no}"),
    ):
        assert "に当たる、ご担当の支援が見つかりませんでした。" in replies[0].text
    assert (await bot.say("expert2", "/report"))[
        0
    ].text == "未提出の支援実施報告はありません。ありがとうございます。"
    # An officer cannot write one at all.
    forbidden = await bot.say("officer1", f"/report {b.session_id}")
    assert forbidden[0].text.startswith("申し訳ありませんが、") and "権限" in forbidden[0].text
    assert await reports_of(bot, b.session_id) == []


async def test_attached_files_are_kept_with_the_record(bot: ChatBot, clock: FixedClock) -> None:
    b = await ended(bot, clock)
    await bot.say("expert1", "/report")
    for _, text in ANSWERS[:6]:
        await bot.say("expert1", text)
    deck = FileRef(
        name="事例紹介.pdf", url="https://files.example/1", content_type="application/pdf"
    )
    sheet = FileRef(name="比較表.xlsx", url="https://files.example/3")
    assert asks(
        await bot.say("expert1", "事例紹介資料と比較表を使用", files=(deck, sheet)), "next_plan"
    )
    await bot.say("expert1", ANSWERS[7][1])
    summary = last(await bot.say("expert1", "はい"))
    assert (
        dict(summary.fields)["使用した資料・ツール"]
        == "事例紹介資料と比較表を使用、事例紹介.pdf、比較表.xlsx"
    )
    await bot.say("expert1", "1")
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        kept = list(
            (
                await s.scalars(
                    select(ReportAttachment)
                    .where(ReportAttachment.session_id == b.session_id)
                    .order_by(ReportAttachment.id)
                )
            ).all()
        )
    assert [(a.filename, a.url, a.content_type) for a in kept] == [
        ("事例紹介.pdf", "https://files.example/1", "application/pdf"),
        ("比較表.xlsx", "https://files.example/3", "application/octet-stream"),
    ]


async def test_a_file_alone_answers_the_materials_question(bot: ChatBot, clock: FixedClock) -> None:
    await ended(bot, clock)
    await bot.say("expert1", "/report")
    for _, text in ANSWERS[:6]:
        await bot.say("expert1", text)
    deck = FileRef(name="事例紹介.pdf", url="https://files.example/1")
    assert asks(await bot.say("expert1", "", files=(deck,)), "next_plan")


# --- 「あとで」 -------------------------------------------------------------------------------------


async def test_later_snoozes_until_the_next_open_day_morning(
    bot: ChatBot, clock: FixedClock
) -> None:
    first = await book(bot.services, "2026-11-20 10:00")  # Friday
    await run(bot, clock, "2026-11-20 11:00")
    second = await book(bot.services, "2026-11-20 14:00")
    clock.set(jst("2026-11-20 15:02"))  # the second session just ended; its pass has not run
    replies = await bot.say("expert1", "あとで")
    assert replies[0].text == (
        "承知しました。2026年11月24日(火)の朝に改めてお知らせします（最も近い期限: 2026年11月30日(月)）。"
    )
    pinged = len(to(bot, "expert1"))
    for when in ("2026-11-20 15:05", "2026-11-20 16:55", "2026-11-24 08:55"):
        report = await run(bot, clock, when)
        assert [x for x in report.sent if x.startswith("expert")] == [], when
    assert len(to(bot, "expert1")) == pinged
    await run(bot, clock, "2026-11-24 09:00")  # 11/23 is a holiday: Tuesday morning
    ping = to(bot, "expert1")[-1]
    assert second.case_no in ping.text and first.case_no not in ping.text


async def test_later_on_the_due_day_promises_nothing_past_it(
    bot: ChatBot, clock: FixedClock
) -> None:
    await book(bot.services, "2026-11-20 10:00")  # Friday; due 2026-11-30 (Monday)
    await run(bot, clock, "2026-11-20 11:00")
    clock.set(jst("2026-11-30 10:30"))  # the due day
    (reply,) = await bot.say("expert1", "あとで")
    assert reply.text.startswith("報告期限（2026年11月30日(月)）を迎えているため")
    assert "12月1日" not in reply.text
    clock.set(jst("2026-12-02 10:30"))  # overdue: no snooze either
    (reply,) = await bot.say("expert1", "あとで")
    assert "2026年11月30日(月)" in reply.text and "延ばせません" in reply.text


async def test_later_the_day_before_the_due_day_holds_until_the_due_morning(
    bot: ChatBot, clock: FixedClock
) -> None:
    await book(bot.services, "2026-11-20 10:00")  # due 2026-11-30 (Monday)
    await run(bot, clock, "2026-11-20 11:00")
    clock.set(jst("2026-11-27 16:00"))  # Friday before the due Monday
    (reply,) = await bot.say("expert1", "あとで")
    assert reply.text == (
        "承知しました。2026年11月30日(月)の朝に改めてお知らせします（最も近い期限: 2026年11月30日(月)）。"
    )


async def test_later_with_nothing_pending(bot: ChatBot, clock: FixedClock) -> None:
    assert (await bot.say("expert1", "あとで"))[
        0
    ].text == "未提出の支援実施報告はありません。ありがとうございます。"


# --- with the LLM configured (a fake OpenAI-compatible server) ---------------------------------------


LLM_ANSWER = {
    "attendees": "デジタル推進課 主査 [氏名]",
    "summary": "生成AIの庁内利用ガイドラインの策定",
    "response": "先行団体の事例を紹介し、利用範囲の考え方を説明した",
    "issues": "利用してよい業務の線引き",
    "policy": "次回までに素案を作成する",
    "effect": "担当課の進め方が明確になった",
    "materials": "",
    "next_plan": "",
}
NOTES = (
    "本日はデジタル推進課の山田 花子さんとガイドライン策定について打合せ。先行団体の事例を紹介し、"
    "利用範囲の考え方を説明した。課題は利用してよい業務の線引き。次回までに素案を作ってもらう。"
)


@pytest.fixture
async def llm_bot(
    db_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[ChatBot, FakeOpenAI]]:
    from bot.demo import add_people
    from store.models import Municipality
    from store.seed import seed_program

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with FakeOpenAI(answer=dict(LLM_ANSWER)) as fake:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            DATABASE_URL=db_url,
            DXBOT_PROGRAM="saitama-2026",
            OPENAI_API_KEY="test",
            OPENAI_BASE_URL=fake.base_url,
            DXBOT_LLM_TIMEOUT=2,
            DXBOT_LLM_MODEL="fake-model",
        )
        services = build_services(settings, clock=clock)
        async with services.db.transaction() as s:
            await seed_program(s, services.profile, clock.now())
            munis = list(
                (
                    await s.scalars(
                        select(Municipality)
                        .where(Municipality.prefecture_code == "11")
                        .order_by(Municipality.code)
                    )
                ).all()
            )
            await add_people(s, munis, clock.now())
        try:
            yield ChatBot(services, RecordingSender()), fake
        finally:
            await services.db.dispose()


async def test_with_the_llm_notes_are_extracted_and_only_gaps_asked(
    llm_bot: tuple[ChatBot, FakeOpenAI], clock: FixedClock
) -> None:
    bot, fake = llm_bot
    b = await ended(bot, clock)
    await bot.say("expert1", "/report")
    assert fake.requests == []  # a single answer is not sent to the model

    replies = await bot.say("expert1", NOTES)
    assert asks(replies, "materials") and len(replies) == 1
    (body,) = fake.requests
    assert body["response_format"]["json_schema"]["name"] == "LLMReport"
    (user_text,) = fake.user_texts()
    assert "山田 花子" not in user_text and "[氏名]" in user_text  # personal data masked

    assert asks(await bot.say("expert1", "なし"), "next_plan")
    assert asks(await bot.say("expert1", "1月にレビュー"), "hours")
    fields = dict(last(await bot.say("expert1", "はい")).fields)
    for key, label in (("summary", "相談概要"), ("response", "対応内容（回答・助言）"),
                       ("issues", "把握された課題・内容"), ("effect", "支援の効果")):  # fmt: skip
        assert fields[label] == LLM_ANSWER[key]
    await bot.say("expert1", "1")
    (v1,) = await reports_of(bot, b.session_id)
    assert v1.fields["policy"] == "次回までに素案を作成する"
    assert len(fake.requests) == 1


async def test_with_a_failing_llm_the_notes_are_kept_and_the_rest_asked(
    llm_bot: tuple[ChatBot, FakeOpenAI], clock: FixedClock
) -> None:
    bot, fake = llm_bot
    fake.behaviour = "error"
    await ended(bot, clock)
    await bot.say("expert1", "/report")
    replies = await bot.say("expert1", NOTES)
    assert asks(replies, "attendees")
    assert len(fake.requests) >= 1


async def test_case_status_is_untouched_until_submission(bot: ChatBot, clock: FixedClock) -> None:
    b = await ended(bot, clock)
    await bot.say("expert1", "/report")
    await answer_all(bot)
    assert (await bot.say("expert1", "3"))[0].text.startswith(
        "「支援実施報告」の入力を中断し、ここまでの内容を保存しました"
    )  # あとで続ける
    assert await case_status(bot.services, b.case_id) == "held"
    assert await reports_of(bot, b.session_id) == []
