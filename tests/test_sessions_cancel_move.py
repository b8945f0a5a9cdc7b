"""Cancelling and moving a session, in the chat and on the command line; withdrawing or closing a
case that still has sessions ahead.

A cancelled session never counts, is never chased for a report, stays in the record with who,
when and why, and its expert and officers are told. A moved session keeps its id; its new start
passes the scheduling rules and its report due date follows the new day. Dates worked out by hand
on the 開庁日 calendar (Saitama, 5 開庁日; now is Mon 2026-11-16 10:00 JST):

- a session on Tue 2026-12-08: 12/9 (1), 12/10, 12/11, 12/14, 12/15 (5) → due **2026-12-15**;
- moved to Thu 2026-12-10: 12/11 (1), 12/14, 12/15, 12/16, 12/17 (5) → due **2026-12-17**.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.app import remind_once
from reminders.clock import JST, FixedClock
from store import cases as case_store
from store import session_changes
from store import sessions as session_store
from tests.conftest import ChatBot
from tests.test_methods import CASE, _seed, case_status, cli, open_case, sessions_of, track_tally
from tests.test_reminder_pass import person, texts_to

CANCEL_NOTICE = (
    f"【支援の中止】{CASE}の支援（支援ID 1、2026年12月8日(火) 14:00）は中止になりました。"
    "理由: 先方の都合により延期（佐藤 美咲）"
)


async def schedule(bot: ChatBot, when: str = "2026-12-08 14:00") -> None:
    (reply,) = await bot.say("staff1", f"/dx schedule {CASE} {when} 1 オンライン")
    assert reply.text.startswith("日程を登録しました"), reply.text


async def audit(bot: ChatBot, session_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    services: Any = bot.services
    async with services.db.transaction() as s:
        rows = await session_changes.history(s, session_id)
    return [(r.action, r.actor, r.detail) for r in rows]


async def history(bot: ChatBot) -> list[tuple[str, str]]:
    services: Any = bot.services
    async with services.db.transaction() as s:
        case = await case_store.get_by_no(s, CASE)
        assert case is not None
        return [(h.to_status, h.reason) for h in await case_store.history(s, case.id)]


async def pass_at(bot: ChatBot, clock: FixedClock, when: dt.datetime) -> list[str]:
    clock.set(when)
    report = await remind_once(bot.services)  # type: ignore[arg-type]
    await bot.deliver()
    # The desk's queue may remind the staff that the case waits for a new session (a flagged
    # "staff queue schedule:…", tests/test_queue.py); these tests are about the session's chase.
    chase = [ln for ln in report.sent if CASE in ln and not ln.startswith("staff queue ")]
    return [*chase, f"ended {report.ended}"]


# --- cancel --------------------------------------------------------------------------------------


async def test_a_cancelled_session_never_counts_is_not_chased_and_is_kept(
    bot: ChatBot, clock: FixedClock
) -> None:
    await open_case(bot)
    await schedule(bot)
    assert await track_tally(bot, "soudan") == (1, 1.0)

    (reply,) = await bot.say("staff1", "/dx cancel 1 先方の都合により延期")

    assert reply.text == (
        f"支援ID 1（{CASE}、2026年12月8日(火) 14:00）を中止しました。案件の状態: 調整中。"
        "専門人材と参加団体の担当者にお知らせしました。"
    )
    assert await track_tally(bot, "soudan") == (0, 0.0)
    (session,) = await sessions_of(bot)  # the row stays, marked
    assert session.status == "cancelled"
    assert await audit(bot, 1) == [
        (
            "session_cancelled",
            "佐藤 美咲",
            {
                "reason": "先方の都合により延期",
                "previous_status": "scheduled",
                "starts_at": "2026-12-08T05:00:00+00:00",
            },
        )
    ]
    assert (await history(bot))[-1] == ("coordinating", "支援ID 1 の中止")
    assert texts_to(bot, "expert1")[-1] == CANCEL_NOTICE
    assert CANCEL_NOTICE in texts_to(bot, "officer1")
    assert CANCEL_NOTICE in texts_to(bot, "staff")
    told = len(texts_to(bot, "expert1"))

    # The day comes and goes: nothing is marked held, nobody is asked for a report.
    assert await pass_at(bot, clock, dt.datetime(2026, 12, 8, 16, 0, tzinfo=JST)) == ["ended 0"]
    assert await pass_at(bot, clock, dt.datetime(2026, 12, 16, 9, 0, tzinfo=JST)) == ["ended 0"]
    assert len(texts_to(bot, "expert1")) == told
    assert (await sessions_of(bot))[0].status == "cancelled"
    # The case view keeps it, by its id, marked as cancelled and not counted.
    (view,) = await bot.say("staff1", f"/status {CASE}")
    assert "■ 支援 0回" in view.text
    assert (
        "・支援ID 1　2026年12月8日(火) 14:00 1時間 オンライン さいたま市（田中 誠）— 中止"
        in view.text
    )


async def test_a_cancellation_goes_at_once_when_the_session_is_near_else_in_office_hours(
    bot: ChatBot, clock: FixedClock
) -> None:
    """Sat 2026-11-21: the next two 開庁日 are Tue 11/24 and Wed 11/25 (Mon 11/23 is 勤労感謝の日)."""
    await open_case(bot)
    await schedule(bot)  # session 1: Tue 12/8, weeks ahead
    await schedule(bot, "2026-11-24 14:00")  # session 2: the first 開庁日 after the weekend
    clock.set(dt.datetime(2026, 11, 21, 10, 0, tzinfo=JST))
    told = len(texts_to(bot, "officer1"))

    await bot.say("staff1", "/dx cancel 2 講師の体調不良")
    await bot.say("staff1", "/dx cancel 1 先方の都合により延期")
    await bot.deliver()

    # The near one is told at once, on the Saturday; the far one waits for office hours.
    assert [m for m in texts_to(bot, "officer1")[told:] if "支援の中止" in m] == [
        f"【支援の中止】{CASE}の支援（支援ID 2、2026年11月24日(火) 14:00）は中止になりました。"
        "理由: 講師の体調不良（佐藤 美咲）"
    ]
    clock.set(dt.datetime(2026, 11, 23, 10, 0, tzinfo=JST))  # a holiday: still waiting
    await bot.deliver()
    assert CANCEL_NOTICE not in texts_to(bot, "officer1")
    clock.set(dt.datetime(2026, 11, 24, 9, 0, tzinfo=JST))
    await bot.deliver()
    assert texts_to(bot, "officer1").count(CANCEL_NOTICE) == 1
    assert texts_to(bot, "expert1").count(CANCEL_NOTICE) == 1


async def test_cancelling_a_session_that_did_not_take_place_stops_the_chase(
    bot: ChatBot, clock: FixedClock
) -> None:
    """Tue 11/17 14:00-15:00, due 11/25 (11/18, 11/19, 11/20, 11/24 — 11/23 is a holiday —,
    11/25); its before_due reminder would go out on Fri 11/20, the due-day one on 11/25."""
    await open_case(bot)
    await schedule(bot, "2026-11-17 14:00")
    expert = (await person(bot.services, "expert1")).id
    assert await pass_at(bot, clock, dt.datetime(2026, 11, 17, 15, 30, tzinfo=JST)) == [
        f"expert:{expert} {CASE} request",
        "ended 1",
    ]
    assert await case_status(bot) == "held"

    clock.set(dt.datetime(2026, 11, 18, 10, 0, tzinfo=JST))
    (reply,) = await bot.say("staff1", "/dx cancel 1 当日、先方の都合で実施されなかったため")

    assert "案件の状態: 調整中。" in reply.text
    assert await track_tally(bot, "soudan") == (0, 0.0)
    for day in (20, 25, 26, 30):
        when = dt.datetime(2026, 11, day, 9, 0, tzinfo=JST)
        assert await pass_at(bot, clock, when) == ["ended 0"], day


async def test_cancel_refusals(bot: ChatBot) -> None:
    await open_case(bot)
    await schedule(bot)
    (reply,) = await bot.say("officer1", "/dx cancel 1 都合が悪くなりました")
    assert reply.text == "申し訳ありませんが、市町村職員の権限ではこの操作はできません。"
    (reply,) = await bot.say("staff1", "/dx cancel 1")
    assert reply.text == "中止の理由を添えてください。例: /dx cancel 1 先方の都合により中止"
    (reply,) = await bot.say("staff1", "/dx cancel 99 理由")
    assert reply.text == (
        "支援ID「99」の支援は見つかりません。支援IDは「/status 案件番号」で確認できます。"
    )
    (reply,) = await bot.say("staff1", "/dx cancel")
    assert reply.text.startswith("支援の中止は「/dx cancel 支援ID 理由」の形で")
    assert (await sessions_of(bot))[0].status == "scheduled"
    await bot.say("staff1", "/dx cancel 1 先方の都合により延期")
    (reply,) = await bot.say("staff1", "/dx cancel 1 もう一度")
    assert reply.text == "支援ID 1 の支援はすでに中止されています。"


# --- move ----------------------------------------------------------------------------------------


async def test_a_moved_session_is_chased_from_its_new_end(bot: ChatBot, clock: FixedClock) -> None:
    await open_case(bot)
    await schedule(bot)

    (reply,) = await bot.say("staff1", "/dx move 1 2026-12-10 14:00")

    assert reply.text == (
        f"支援ID 1（{CASE}）の日時を2026年12月10日(木) 14:00に変更しました。"
        "報告期限: 2026年12月17日(木)。専門人材と参加団体の担当者にお知らせしました。"
    )
    (session,) = await sessions_of(bot)
    assert session.starts_at == dt.datetime(2026, 12, 10, 14, 0, tzinfo=JST)
    assert session.ends_at == dt.datetime(2026, 12, 10, 15, 0, tzinfo=JST)
    assert session.report_due == dt.date(2026, 12, 17)
    notice = texts_to(bot, "expert1")[-1]
    assert notice.startswith(
        "【支援の日時変更】2026年12月8日(火) 14:00の支援の日時が変わりました。\n支援ID: 1\n"
    )
    assert "日時: 2026年12月10日(木) 14:00（1時間）" in notice
    assert "報告期限: 2026年12月17日(木)" in notice
    assert texts_to(bot, "officer1")[-1] == notice
    assert await audit(bot, 1) == [
        (
            "session_moved",
            "佐藤 美咲",
            {"from": "2026-12-08T05:00:00+00:00", "to": "2026-12-10T14:00:00+09:00"},
        )
    ]
    assert await track_tally(bot, "soudan") == (1, 1.0)  # still one session

    # The old end passes quietly; the new one starts the follow-up.
    assert await pass_at(bot, clock, dt.datetime(2026, 12, 8, 15, 30, tzinfo=JST)) == ["ended 0"]
    expert = (await person(bot.services, "expert1")).id
    assert await pass_at(bot, clock, dt.datetime(2026, 12, 10, 15, 30, tzinfo=JST)) == [
        f"expert:{expert} {CASE} request",
        "ended 1",
    ]


async def test_a_move_follows_the_scheduling_rules(bot: ChatBot) -> None:
    await open_case(bot)
    await schedule(bot)  # session 1: 12/8 14:00-15:00
    await schedule(bot, "2026-12-10 14:00")  # session 2, the same expert
    (reply,) = await bot.say("staff1", "/dx move 1 2026-12-12 14:00")
    assert reply.text == "2026年12月12日(土)は土曜日のため閉庁日です。開庁日を指定してください。"
    (reply,) = await bot.say("staff1", "/dx move 1 2026-11-13 14:00")
    assert (
        reply.text == "2026年11月13日(金) 14:00は過ぎています。これからの日時を指定してください。"
    )
    (reply,) = await bot.say("staff1", "/dx move 1 2026-12-10 14:30")
    assert reply.text == (
        "田中 誠さんは2026年12月10日(木) 14:30に別の予定が入っています。別の日時を指定してください。"
    )
    (reply,) = await bot.say("staff1", "/dx move 1 12月8日")
    assert reply.text.startswith("支援の日時の変更は「/dx move 支援ID 日付 開始時刻」の形で")
    # A date or a time it cannot read is named, not answered with the usage text.
    (reply,) = await bot.say("staff1", "/dx move 1 12月88日 14:00")
    assert reply.text.startswith("「12月88日」を日付として読み取れませんでした。")
    (reply,) = await bot.say("staff1", "/dx move 1 2026-12-08 25:00")
    assert reply.text.startswith("「25:00」を開始時刻として読み取れませんでした。")
    # Half an hour later on the same day overlaps only itself: allowed.
    (reply,) = await bot.say("staff1", "/dx move 1 2026-12-08 14:30")
    assert reply.text.startswith("支援ID 1（SAI-2026-0001）の日時を2026年12月8日(火) 14:30に変更")
    await bot.say("staff1", "/dx cancel 2 重複のため")
    (reply,) = await bot.say("staff1", "/dx move 2 2026-12-11 14:00")
    assert reply.text == "支援ID 2 の支援はすでに中止されています。"


# --- ending a case with sessions ahead -------------------------------------------------------------


async def test_withdrawing_lists_the_sessions_ahead_and_cancels_them_once_confirmed(
    bot: ChatBot, clock: FixedClock
) -> None:
    await open_case(bot)
    await schedule(bot)
    await schedule(bot, "2026-12-10 14:00")

    (ask,) = await bot.say("officer1", f"/dx withdraw {CASE} 予算の都合")

    assert ask.text == (
        f"{CASE}には今後の支援が2件あります。「取下げ」にすると、次の支援を中止し、"
        "専門人材と参加団体の担当者にお知らせします。よろしいですか？\n"
        "・支援ID 1　2026年12月8日(火) 14:00　担当: 田中 誠\n"
        "・支援ID 2　2026年12月10日(木) 14:00　担当: 田中 誠"
    )
    assert [c.label for c in ask.choices] == [
        "支援を中止して「取下げ」にする",
        "やめる（何も変更しない）",
    ]
    assert await case_status(bot) == "scheduled"  # nothing yet

    (done,) = await bot.say("officer1", "1")

    assert done.text == f"{CASE}を取り下げました。\nあわせて支援（支援ID 1、2）を中止しました。"
    assert await case_status(bot) == "withdrawn"
    assert [x.status for x in await sessions_of(bot)] == ["cancelled", "cancelled"]
    assert await track_tally(bot, "soudan") == (0, 0.0)
    reason = "理由: 案件の取下げに伴う中止（予算の都合）（山田 花子）"
    assert [t for t in texts_to(bot, "expert1") if t.startswith("【支援の中止】")] == [
        f"【支援の中止】{CASE}の支援（支援ID 1、2026年12月8日(火) 14:00）は中止になりました。"
        + reason,
        f"【支援の中止】{CASE}の支援（支援ID 2、2026年12月10日(木) 14:00）は中止になりました。"
        + reason,
    ]
    assert (await history(bot))[-1] == ("withdrawn", "予算の都合")
    assert await pass_at(bot, clock, dt.datetime(2026, 12, 11, 9, 0, tzinfo=JST)) == ["ended 0"]


async def test_declining_leaves_the_case_and_its_sessions_as_they_were(bot: ChatBot) -> None:
    await open_case(bot)
    await schedule(bot)
    await bot.say("officer1", f"/dx withdraw {CASE}")
    (kept,) = await bot.say("officer1", "2")
    assert kept.text == f"{CASE}は変更していません。支援の予定もそのままです。"
    assert await case_status(bot) == "scheduled"
    assert [x.status for x in await sessions_of(bot)] == ["scheduled"]


async def test_closing_a_reported_case_cancels_the_session_added_after(
    bot: ChatBot, clock: FixedClock
) -> None:
    """A case reported for its first session got a second one booked; staff close it: the
    second is cancelled (the first, reported, stays held) and the case is 完了."""
    await open_case(bot)
    services: Any = bot.services
    clock.set(dt.datetime(2026, 11, 10, 9, 0, tzinfo=JST))
    await schedule(bot, "2026-11-11 10:00")
    await pass_at(bot, clock, dt.datetime(2026, 11, 11, 12, 0, tzinfo=JST))  # held
    async with services.db.transaction() as s:
        first = await session_store.with_case(s, 1)
        assert first is not None
        await session_store.add_report(
            s, first.session, {"summary": "済"}, author_user_id=None, now=clock.now()
        )
        case = await case_store.get_by_no(s, CASE)
        assert case is not None
        case.status = "reported"
    clock.set(dt.datetime(2026, 11, 16, 10, 0, tzinfo=JST))
    await schedule(bot, "2026-12-08 14:00")  # session 2; the case is 実施予定 again

    (ask,) = await bot.say("staff1", f"/dx close {CASE}")
    assert "・支援ID 2　2026年12月8日(火) 14:00　担当: 田中 誠" in ask.text
    assert "支援ID 1" not in ask.text
    (done,) = await bot.say("staff1", "1")

    assert done.text == f"{CASE}を「完了」にしました。\nあわせて支援（支援ID 2）を中止しました。"
    assert [x.status for x in await sessions_of(bot)] == ["done", "cancelled"]
    assert [status for status, _ in await history(bot)][-3:] == [
        "scheduled",
        "reported",
        "closed",
    ]
    assert await track_tally(bot, "soudan") == (1, 1.0)  # the held one counts
    (reply,) = await bot.say("staff1", "/dx cancel 1 誤登録")
    assert reply.text == "支援ID 1 の支援は報告が提出済みのため、中止できません。"


async def test_closing_is_refused_before_asking_when_the_case_could_not_close(
    bot: ChatBot,
) -> None:
    await open_case(bot)
    await schedule(bot)
    (reply,) = await bot.say("staff1", f"/dx close {CASE}")
    assert reply.text == (
        f"{CASE}は「実施予定」のため「完了」にはできません。"
        "次にできる状態: 調整中、実施予定、実施済(報告待ち)、報告済、保留、取下げ"
    )
    assert [x.status for x in await sessions_of(bot)] == ["scheduled"]


# --- the command line ----------------------------------------------------------------------------


ADD = (
    "add", "--case", CASE, "--expert", "expert1", "--start", "2026-12-08T14:00",
    "--hours", "1", "--method", "online",
)  # fmt: skip


def test_cli_cancel_and_move(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(db_url)
    assert cli(db_url, capsys, *ADD).returncode == 0

    run = cli(db_url, capsys, "move", "1", "--start", "2026-12-10T14:00")
    assert (run.returncode, run.stdout) == (
        0,
        f"Moved session 1 of {CASE} to 2026-12-10 14:00; report due 2026-12-17.\n",
    )
    run = cli(db_url, capsys, "cancel", "1", "--reason", "postponed by the town")
    assert (run.returncode, run.stdout) == (
        0,
        f"Cancelled session 1 of {CASE} (2026-12-10 14:00); it no longer counts, and its "
        "experts and officers are told.\n",
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("cancel", "99", "--reason", "x"), "error: Session 99 does not exist in this program."),
        (
            ("cancel", "1", "--reason", " "),
            "error: --reason must not be empty; say why the session is cancelled.",
        ),
        (("cancel", "abc", "--reason", "x"), "argument SESSION_ID: invalid int value: 'abc'"),
        (("cancel", "1"), "the following arguments are required: --reason"),
        (
            ("move", "1", "--start", "2026-12-12T14:00"),
            "error: 2026年12月12日(土) is a closed day (土曜日); choose a 開庁日.",
        ),
        (
            ("move", "1", "--start", "2026-11-13T14:00"),
            "error: The start 2026年11月13日(金) 14:00 is in the past; give a future date and time.",
        ),
        (
            ("move", "1", "--start", "tomorrow"),
            "error: 'tomorrow' is not a date and time; use ISO 8601, e.g. 2026-12-03T14:00.",
        ),
    ],
    ids=["unknown", "empty-reason", "not-a-number", "no-reason", "closed", "past", "not-iso"],
)
def test_cli_errors_are_english_with_exit_2(
    db_url: str, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], error: str
) -> None:
    _seed(db_url)
    assert cli(db_url, capsys, *ADD).returncode == 0
    run = cli(db_url, capsys, *args)
    assert run.returncode == 2
    assert error in run.stderr
    assert run.stdout == ""


def test_cli_cancel_twice_says_so(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(db_url)
    assert cli(db_url, capsys, *ADD).returncode == 0
    assert cli(db_url, capsys, "cancel", "1", "--reason", "x").returncode == 0
    run = cli(db_url, capsys, "cancel", "1", "--reason", "x")
    assert (run.returncode, run.stderr.strip()) == (2, "error: Session 1 is already cancelled.")
