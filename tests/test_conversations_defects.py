"""Defects found running each journey as each role (issue 19, done-when 3): a case put on hold
and resumed goes back to where it was, and the officer is told so; a prefecture official who
rejects a proposed expert with the button is asked why; bad parts of `/dx schedule` are named;
`/report amend` opens the latest report or asks which, every label with the session's time.
"""

from __future__ import annotations

from bot.core.catalog import t
from reminders.clock import FixedClock
from tests.conftest import ChatBot
from tests.test_followup import answer_all, ended, last
from tests.test_matching import ROSTER, _case, _db, _new_case, _roster
from tests.test_reminder_pass import book, case_status, jst, run

# --- hold and resume ---------------------------------------------------------------------------


async def test_resume_puts_a_booked_case_back_to_scheduled_and_tells_the_officer_so(
    bot: ChatBot,
) -> None:
    b = await book(bot.services, "2026-11-26 14:00")
    assert await case_status(bot.services, b.case_id) == "scheduled"
    await bot.say("staff1", f"/dx hold {b.case_no} 先方の人事異動待ち")
    assert await case_status(bot.services, b.case_id) == "on_hold"

    replies = await bot.say("staff1", f"/dx resume {b.case_no}")

    assert [r.text for r in replies] == [t("status_resumed", case_no=b.case_no, to="実施予定")]
    assert await case_status(bot.services, b.case_id) == "scheduled"
    officer = bot.sender.texts("officer1")
    assert officer[-1] == t("officer_told_resumed", case_no=b.case_no, status="実施予定")
    assert t("officer_told_coordinating", case_no=b.case_no) not in officer


async def test_resume_after_the_sessions_were_cancelled_goes_back_to_coordinating(
    bot: ChatBot,
) -> None:
    b = await book(bot.services, "2026-11-26 14:00")
    await bot.say("staff1", f"/dx hold {b.case_no}")
    await bot.say("staff1", f"/dx cancel {b.session_id} 先方の都合")
    await bot.say("staff1", f"/dx resume {b.case_no}")
    assert await case_status(bot.services, b.case_id) in ("coordinating", "received")


# --- a reason asked where a decision needs one --------------------------------------------------


async def test_rejecting_a_proposed_expert_by_button_asks_the_reason(bot: ChatBot) -> None:
    await _roster(bot, ROSTER)
    case_no = await _new_case(bot)
    await bot.say("staff1", f"/dx pick {case_no} expert1")

    (asked,) = await bot.say(
        "pref1", "", kind="action", action_id="match_decide", value=f"{case_no}:reject"
    )
    assert asked.text == t("reject_ask_reason", case_no=case_no, name="田中 誠")
    assert (await _case(_db(bot), case_no)).match_state == "proposed"  # nothing changed yet

    replies = await bot.say("pref1", "訪問できる方を希望します")

    assert [r.text for r in replies] == [t("rejected_reply", case_no=case_no)]
    assert bot.sender.texts("staff")[-1] == t(
        "match_rejected_staff", case_no=case_no, name="田中 誠", reason="訪問できる方を希望します"
    )


async def test_a_typed_reject_without_a_reason_asks_for_it_too(bot: ChatBot) -> None:
    await _roster(bot, ROSTER)
    case_no = await _new_case(bot)
    await bot.say("staff1", f"/dx pick {case_no} expert1")
    (asked,) = await bot.say("pref1", f"/dx reject {case_no}")
    assert asked.text == t("reject_ask_reason", case_no=case_no, name="田中 誠")
    (cancelled,) = await bot.say("pref1", "やめます")
    assert "取り消しました" in cancelled.text
    assert (await _case(_db(bot), case_no)).match_state == "proposed"


# --- /report amend -----------------------------------------------------------------------------


async def test_report_amend_asks_which_latest_first_with_times(
    bot: ChatBot, clock: FixedClock
) -> None:
    first = await ended(bot, clock)  # 11/19 14:00-15:00
    await bot.say("expert1", f"/report {first.session_id}")
    await answer_all(bot)
    await bot.say("expert1", "1")
    second = await book(bot.services, "2026-11-20 16:00", case_id=first.case_id)
    await run(bot, clock, "2026-11-20 17:10")
    clock.set(jst("2026-11-24 10:00"))
    await bot.say("expert1", f"/report {second.session_id}")
    await answer_all(bot)
    await bot.say("expert1", "1")

    (pick,) = await bot.say("expert1", "/report amend")
    assert [c.value for c in pick.choices] == [str(second.session_id), str(first.session_id)]
    assert "2026年11月20日(金) 16:00〜17:00" in pick.choices[0].label
    assert "2026年11月19日(木) 14:00〜15:00" in pick.choices[1].label
    assert len({c.label for c in pick.choices}) == 2

    # With the case number, the same question (both sessions are of that case).
    (again,) = await bot.say("expert1", f"/report amend {first.case_no}")
    assert [c.value for c in again.choices] == [str(second.session_id), str(first.session_id)]
    opened = await bot.say("expert1", "1")
    assert t("report_amend_note") in opened[0].text
    assert dict(opened[0].fields)["日時"] == "2026年11月20日(金) 16:00〜17:00"
    assert last(opened).text == "以下の内容で報告を提出します。よろしいですか？"


# --- routine notices wait for office hours ---------------------------------------------------


async def test_a_status_change_on_a_saturday_reaches_the_channels_on_the_next_open_day(
    bot: ChatBot, clock: FixedClock
) -> None:
    b = await book(bot.services, "2026-12-10 14:00")
    clock.set(jst("2026-11-21 10:00"))  # Saturday; Monday 11/23 is 勤労感謝の日
    before = len(bot.sender.texts("staff"))
    await bot.say("staff1", f"/dx hold {b.case_no} 先方の人事異動待ち")
    assert len(bot.sender.texts("staff")) == before  # not on a Saturday
    assert bot.sender.texts("officer1") == []

    clock.set(jst("2026-11-23 12:00"))
    await bot.deliver()
    assert len(bot.sender.texts("staff")) == before  # nor on the holiday

    clock.set(jst("2026-11-24 09:00"))
    await bot.deliver()
    assert "「実施予定」から「保留」" in bot.sender.texts("staff")[-1]
    assert bot.sender.texts("officer1") == [t("officer_told_on_hold", case_no=b.case_no)]


async def test_a_status_change_during_the_new_year_closure_waits_until_january_4(
    bot: ChatBot, clock: FixedClock
) -> None:
    b = await book(bot.services, "2027-01-14 14:00")
    clock.set(jst("2026-12-29 20:00"))
    before = len(bot.sender.texts("prefecture"))
    await bot.say("staff1", f"/dx hold {b.case_no}")
    clock.set(jst("2027-01-03 10:00"))
    await bot.deliver()
    assert len(bot.sender.texts("prefecture")) == before
    clock.set(jst("2027-01-04 10:00"))
    await bot.deliver()
    assert len(bot.sender.texts("prefecture")) == before + 1


async def test_a_status_change_in_office_hours_goes_at_once(
    bot: ChatBot, clock: FixedClock
) -> None:
    b = await book(bot.services, "2026-12-10 14:00")
    await bot.say("staff1", f"/dx hold {b.case_no}")  # Monday 11/16 10:00
    assert "「実施予定」から「保留」" in bot.sender.texts("staff")[-1]
