"""A staff review step before the report goes on (issue 12 item 5), on Saitama's dispatch track
(デジタル専門人材派遣結果報告書: the expert hands it in, the contractor checks it and reports it
to the prefecture, profile ``report: {submitted_to: prefecture, staff_review: true}``).

Hand-in → the staff are reminded while it waits (not the expert) → sent back with a reason →
the expert is asked and chased again → handed in again → approved → the file reaches the
prefecture channel, and the deadline is met at that moment.

Dates worked out by hand on the 開庁日 calendar: the session is on Thursday 2026-11-19; its
report is due 5開庁日 later, Friday 2026-11-27 (11/23 Mon is 勤労感謝の日). The expert's
'before_due' step (2開庁日 before the due day) is Wednesday 11/25.
"""

from __future__ import annotations

import io

import openpyxl

from reminders.clock import FixedClock
from store.models import SupportSession
from tests.conftest import ChatBot
from tests.test_followup import ANSWERS
from tests.test_reminder_pass import book, case_status, jst, person, run, texts_to, to


async def session_row(bot: ChatBot, session_id: int) -> SupportSession:
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        row = await s.get(SupportSession, session_id)
    assert row is not None
    return row


async def hand_in(bot: ChatBot) -> None:
    await bot.say("expert1", "/report")
    for _key, text in ANSWERS:
        await bot.say("expert1", text)
    await bot.say("expert1", "はい")  # the hours


async def test_submit_review_send_back_approve(bot: ChatBot, clock: FixedClock) -> None:
    b = await book(bot.services, "2026-11-19 14:00", track="haken")
    expert = await person(bot.services, "expert1")
    await run(bot, clock, "2026-11-19 15:00")  # ended: the expert is asked
    officer_before = len(texts_to(bot, "officer1"))

    # --- the expert hands it in on Friday 11/20 ------------------------------------------------
    clock.set(jst("2026-11-20 10:00"))
    await hand_in(bot)
    clock.set(jst("2026-11-20 10:30"))
    done = await bot.say("expert1", "1")
    assert [r.text for r in done] == [
        f"{b.case_no}の支援実施報告を受け付けました（第1版）。事務局の確認後、県へ提出されます。"
    ]
    row = await session_row(bot, b.session_id)
    assert (row.report_stage, row.report_submitted_at) == ("review", None)
    assert row.report_handed_in_at == jst("2026-11-20 10:30")

    # The staff channel gets the file with 承認 / 差戻し; nothing reaches the prefecture yet.
    (request,) = [m for m in to(bot, "staff") if m.files]
    assert request.text == (
        f"【確認依頼】{b.case_no}のデジタル専門人材派遣結果報告書（第1版）が田中 誠さんから"
        "提出されました。内容を確認し、承認（県へ提出）または差戻しをお願いします"
        "（提出期限: 2026年11月27日(金)）。"
    )
    assert [f.name for f in request.files] == [
        f"デジタル専門人材派遣結果報告_{b.case_no}_20261119_v1.xlsx"
    ]
    assert [(c.label, c.value) for c in request.choices] == [
        ("承認", f"{b.session_id}:1:approve"),
        ("差戻し", f"{b.session_id}:1:return"),
    ]
    assert not [m for m in to(bot, "prefecture") if m.files]
    assert await case_status(bot.services, b.case_id) == "held"  # not 報告済 yet
    assert texts_to(bot, "officer1")[officer_before:] == []  # no survey yet

    # --- while it waits, the staff are reminded each 開庁日 morning, the expert is not -------
    assert (await run(bot, clock, "2026-11-20 15:00")).sent == []  # the hand-in day itself
    assert (await run(bot, clock, "2026-11-24 09:00")).sent == [
        f"staff {b.case_no} review@202611201030:1"
    ]
    (ping,) = [m for m in to(bot, "staff") if m.text.startswith("【確認待ち】")]
    assert ping.text == (
        "【確認待ち】次の支援実施報告が事務局の確認を待っています。承認または差戻しをお願いします:\n"
        f"・{b.case_no}（2026年11月19日(木) 14:00〜15:00実施）期限 2026年11月27日(金) — あと3開庁日"
        f"（支援ID {b.session_id}）"
    )
    # 11/25 is the expert's 'before_due' day: while the report waits, the staff get it instead.
    assert (await run(bot, clock, "2026-11-25 09:00")).sent == [
        f"staff {b.case_no} review@202611201030:2"
    ]
    assert (await run(bot, clock, "2026-11-25 10:00")).sent == []  # once a day

    # --- sent back with a reason ----------------------------------------------------------------
    clock.set(jst("2026-11-25 11:00"))
    asked = await bot.say(
        "staff1", "", kind="action", action_id="report_review", value=f"{b.session_id}:1:return"
    )
    assert [r.text for r in asked] == [
        f"{b.case_no}の報告を差し戻す理由を入力してください。専門人材にそのままお伝えします。"
    ]
    reason = "支援の効果を、削減できた時間など具体的に記載してください。"
    back = await bot.say("staff1", reason)
    assert [r.text for r in back] == [
        f"{b.case_no}の報告（第1版）を差し戻しました。専門人材に再提出をお願いしました。"
    ]
    told = to(bot, "expert1")[-1]
    assert told.text == (
        f"{b.case_no}の支援実施報告（第1版）が事務局から差し戻されました。\n理由: {reason}\n"
        "修正のうえ、再度提出をお願いします（提出期限: 2026年11月27日(金)）。"
    )
    assert [(c.label, c.value) for c in told.choices] == [("報告を修正する", str(b.session_id))]
    row = await session_row(bot, b.session_id)
    assert (row.report_stage, row.report_review_note) == ("returned", reason)
    # Approving the returned version is refused: it no longer waits.
    refused = await bot.say(
        "staff1", "", kind="action", action_id="report_review", value=f"{b.session_id}:1:approve"
    )
    assert refused[0].text.startswith(f"「{b.session_id}」の報告は確認待ちではありません")

    # --- the expert is chased again (the next morning), not the staff ------------------------------
    sent = (await run(bot, clock, "2026-11-26 09:00")).sent
    assert sent == [f"expert:{expert.id} {b.case_no} before_due"]

    # --- corrected and handed in again ----------------------------------------------------------
    clock.set(jst("2026-11-26 10:00"))
    intro, summary = await bot.say("expert1", "1")  # the reminder's button, typed as its number
    assert f"事務局から差し戻されています。理由: {reason}" in intro.text
    assert summary.text == "以下の内容で報告を提出します。よろしいですか？"  # the stored answers
    await bot.say("expert1", "2")  # 修正する
    await bot.say("expert1", "6")  # 支援の効果
    await bot.say("expert1", "窓口の問い合わせ対応が月10時間減る見込み")
    done = await bot.say("expert1", "1")
    assert [r.text for r in done] == [
        f"{b.case_no}の支援実施報告を受け付けました（第2版）。事務局の確認後、県へ提出されます。"
    ]
    assert (await run(bot, clock, "2026-11-27 09:00")).sent == [
        f"staff {b.case_no} review@202611261000:1"
    ]

    # --- approved on the due day, through `/dx review` and typed numbers (LoGo / console) --------
    clock.set(jst("2026-11-27 11:00"))
    (pick,) = await bot.say("staff1", "/dx review")
    assert pick.text == "確認待ちの報告です。確認する報告を選んでください。"
    assert [c.label for c in pick.choices] == [
        f"{b.case_no}（支援ID {b.session_id}・2026年11月19日(木)実施・期限2026年11月27日(金)）"
    ]
    (shown,) = await bot.say("staff1", "1")
    assert shown.text.startswith(
        f"{b.case_no}のデジタル専門人材派遣結果報告書（第2版、田中 誠さん提出"
    )
    approved = await bot.say("staff1", "1")  # 承認
    assert [r.text for r in approved] == [f"{b.case_no}の報告（第2版）を承認し、県へ提出しました。"]

    # The file reached the prefecture channel; the deadline is met now, on the due day.
    (filed,) = [m for m in to(bot, "prefecture") if m.files]
    assert filed.text == (
        f"【報告】{b.case_no}のデジタル専門人材派遣結果報告書（第2版）を提出します（ファイル1件）。"
    )
    (xlsx,) = filed.files
    assert xlsx.name == f"デジタル専門人材派遣結果報告_{b.case_no}_20261119_v2.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = dict((r[0], r[1]) for r in sheet.iter_rows(min_row=3, max_col=2, values_only=True))
    assert rows["支援の効果"] == "窓口の問い合わせ対応が月10時間減る見込み"
    assert rows["報告版"] == "第2版"
    row = await session_row(bot, b.session_id)
    assert (row.report_stage, row.report_submitted_at) == ("delivered", jst("2026-11-27 11:00"))
    assert to(bot, "expert1")[-1].text == (
        f"{b.case_no}の支援実施報告（第2版）が承認され、県へ提出されました。ありがとうございました。"
    )
    # Now the case is 報告済 and the officer is asked for the survey.
    assert await case_status(bot.services, b.case_id) == "reported"
    assert texts_to(bot, "officer1")[-1].startswith(
        f"{b.case_no}（2026年11月19日(木)実施）の支援について"
    )
    # Nobody is chased any more.
    assert not [x for x in (await run(bot, clock, "2026-11-30 09:00")).sent if b.case_no in x]


async def test_a_consultation_report_goes_to_the_prefecture_at_once(
    bot: ChatBot, clock: FixedClock
) -> None:
    """Saitama's よろず相談窓口 has no review step: the file goes to the prefecture on submission."""
    b = await book(bot.services, "2026-11-19 14:00")
    await run(bot, clock, "2026-11-19 15:00")
    clock.set(jst("2026-11-20 10:00"))
    await hand_in(bot)
    clock.set(jst("2026-11-20 10:30"))
    await bot.say("expert1", "1")
    (filed,) = [m for m in to(bot, "prefecture") if m.files]
    assert [f.name for f in filed.files] == [f"支援実施報告_{b.case_no}_20261119_v1.xlsx"]
    row = await session_row(bot, b.session_id)
    assert (row.report_stage, row.report_submitted_at) == ("delivered", jst("2026-11-20 10:30"))
