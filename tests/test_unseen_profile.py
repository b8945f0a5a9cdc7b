"""A program no seed describes runs from one profile file, with no code change (issue 13, item 6).

The profile below is written into a temporary ``DXBOT_PROFILES_DIR``: another prefecture
(鳥取県), next fiscal year, a 7開庁日 report deadline, a cap of 3 sessions per municipality,
office hours 08:30-17:15, two extra closed days and a monthly report on the 15th moved to the
next 開庁日. A case then goes through intake (the conversation), matching, `/dx schedule`, the
report reminders, the monthly report reminder, the cap and `/status`, on SQLite and PostgreSQL.

Dates worked out by hand on the 開庁日 calendar (June 2027 has no national holiday; the
profile closes Fri 2027-06-11 and Tue 2027-06-15):

- a session on Tue 2027-06-08: 6/9 (1), 6/10 (2), [6/11 closed], 6/14 (3), [6/15 closed],
  6/16 (4), 6/17 (5), 6/18 (6), 6/21 (7) → report due **Mon 2027-06-21**;
- reminder 2開庁日 before: 6/18, 6/17 → **Thu 2027-06-17 at 08:30** (not at 08:20);
- due-day reminder **Mon 2027-06-21 08:30**; overdue:1 on Tue 6/22 (until 17:15, not at
  17:20); the prefecture told when 3開庁日 late: 6/22 (1), 6/23 (2), 6/24 (3) → **Thu 6/24**;
- the May report, due on the 15th: Tue 2027-06-15 is closed, so the next 開庁日 **Wed
  2027-06-16**; its reminder starts 3開庁日 before: 6/14, [6/11 closed], 6/10, 6/9 → **Wed
  2027-06-09**, and the due-day one on 6/16.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.config import Settings
from reminders.clock import JST, FixedClock
from store.reference import loaded_municipalities
from tests.conftest import ChatBot, RecordingSender

# Switch: the prefecture of the unseen program (its municipalities ship in
# store/data/municipalities.json: all 47 prefectures).
PREFECTURE, PREFECTURE_CODE, CITY, CITY_CODE = "鳥取県", "31", "鳥取市", "312011"

PROFILE_ID = "tottori-2027"
PROFILE = f"""\
# A program no seed describes: written by an administrator, loaded from DXBOT_PROFILES_DIR.
id: {PROFILE_ID}
case_prefix: TOT
name: 令和9年度市町村DX相談支援業務
prefecture: {PREFECTURE}
prefecture_code: "{PREFECTURE_CODE}"
fiscal_year: 2027
term_start: 2027-04-01
term_end: 2028-03-31
chat_platform: slack
match_approver: staff
tracks:
  - id: soudan
    kind: consultation
    name: DX相談
    target: 40
    per_municipality_cap: 3
    default_hours: 1
    default_method: online
    methods: [online, onsite]
    report_open_days: 7
deadlines:
  monthly_report_day: 15
  monthly_report_closed_day_rule: next_open_day
reminders:
  office_start: "08:30"
  office_end: "17:15"
closed_days: [2027-06-11, 2027-06-15]
"""

NOW = dt.datetime(2027, 6, 1, 10, 0, tzinfo=JST)  # Tuesday, inside the term


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2027, 6, day, hour, minute, tzinfo=JST)


@pytest.fixture
async def unseen(db_url: str, tmp_path: Path) -> AsyncIterator[ChatBot]:
    """The bot on the unseen program, set up as `dxbot seed --program` would, with the demo
    people (their officers in the program's prefecture)."""
    from bot.app import build_services
    from bot.demo import add_people
    from store.seed import seed_program

    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "next-year.yaml").write_text(PROFILE, encoding="utf-8")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        DATABASE_URL=db_url,
        DXBOT_PROGRAM=PROFILE_ID,
        DXBOT_PROFILES_DIR=str(folder),
    )
    services = build_services(settings, clock=FixedClock(NOW))
    async with services.db.transaction() as s:
        await seed_program(s, services.profile, NOW)
        munis = await loaded_municipalities(s, PREFECTURE_CODE)
        await add_people(s, munis, NOW)
    yield ChatBot(services, RecordingSender())
    await services.db.dispose()


async def say(bot: ChatBot, user: str, text: str) -> str:
    return "\n".join(r.text for r in await bot.say(user, text))


async def pass_at(bot: ChatBot, when: dt.datetime) -> list[tuple[str, str]]:
    """One reminder pass at ``when`` (the same pass as `dxbot remind --now`): who was sent
    what, each message's first line."""
    from bot.app import remind_once

    services: Any = bot.services
    services.clock.set(when)
    before = len(bot.sender.sent)
    await remind_once(services)
    await bot.deliver()
    return [(target, m.text.splitlines()[0]) for _, target, m in bot.sender.sent[before:]]


CASE = "TOT-2027-0001"
PENDING = f"・{CASE}（2027年6月8日(火) 14:00〜15:00実施）期限 2027年6月21日(月)"
ENDED = f"【{CASE}】状態が「実施予定」から「実施済(報告待ち)」に変わりました（自動・理由: 支援の終了時刻を過ぎたため）"
ASKED = "ご支援いただきありがとうございました。支援実施報告の作成をお願いいたします:"
CHASED = "未提出の支援実施報告があります:"
OVERDUE = "提出期限を過ぎた支援実施報告があります:"
LATE = "【報告遅延】支援実施報告が期限を過ぎています:"
TO_PREFECTURE = (
    "【報告遅延（県へのお知らせ）】次の支援実施報告が期限を過ぎています。事務局が督促しています:"
)
MONTHLY_BEFORE = "2027年5月分の月例業務報告の期限は2027年6月16日(水)です。準備をお願いします。"
MONTHLY_DUE = "本日2027年6月16日(水)は2027年5月分の月例業務報告の期限です。"

# Each reminder pass and what it delivers (the module docstring works the dates out).
PASSES = [
    # People's pings go out ahead of the channels' notices.
    (at(8, 15), [("expert1", ASKED), ("staff", ENDED), ("prefecture", ENDED)]),
    (at(9, 8, 29), []),  # before office hours
    (at(9, 8, 30), [("staff", MONTHLY_BEFORE)]),  # 3開庁日 before 6/16, 6/11 being closed
    (at(15, 10), []),  # an extra closed day (and the 15th, the monthly report's day)
    (at(16, 8, 30), [("staff", MONTHLY_DUE)]),
    (at(17, 8, 20), []),  # before office hours
    (at(17, 8, 30), [("expert1", CHASED)]),  # 2開庁日 before the due day
    (at(21, 8, 30), [("expert1", CHASED)]),  # the due day
    (at(22, 17, 15), []),  # office hours end at 17:15
    (at(23, 17, 14), [("expert1", OVERDUE), ("staff", LATE)]),
    (at(24, 8, 30), [("expert1", OVERDUE), ("staff", LATE), ("prefecture", TO_PREFECTURE)]),
]


async def test_an_unseen_program_runs_from_its_profile_file(unseen: ChatBot) -> None:
    bot = unseen
    services: Any = bot.services
    assert (services.profile.id, services.profile.prefecture) == (PROFILE_ID, PREFECTURE)

    # Intake: the officer's conversation opens the program's first case, in its own prefix.
    summary = await say(
        bot, "officer1", "電子申請の導入について相談したいです。オンラインで来週火曜の午後希望"
    )
    assert summary.startswith("以下の内容で相談を申し込みます。よろしいですか？")
    assert await say(bot, "officer1", "申し込む") == (
        f"相談を受け付けました。案件番号は {CASE}（{CITY}）です。事務局が内容を確認し、"
        f"専門人材との調整を始めます。進み具合は「/status {CASE}」で確認できます。"
    )

    # Matching (the staff approve here: match_approver staff) and scheduling.
    proposal = await say(bot, "staff1", f"/dx match {CASE}")
    assert "1. 田中 誠 — " in proposal
    assert (await say(bot, "staff1", "1")).startswith(f"{CASE}の担当を田中 誠さんに決めました。")
    booked = await say(bot, "staff1", f"/dx schedule {CASE} 2027-06-08 14:00 1 オンライン Teams")
    assert booked.startswith("日程を登録しました（状態: 実施予定）。")
    assert "日時: 2027年6月8日(火) 14:00（1時間）" in booked
    assert "報告期限: 2027年6月21日(月)" in booked  # 7開庁日, past both extra closed days

    # The cap of 3 per municipality: two more sessions fit, a fourth is refused.
    for day, due in (("2027-07-06", "2027年7月15日(木)"), ("2027-07-07", "2027年7月16日(金)")):
        more = await say(bot, "staff1", f"/dx schedule {CASE} {day} 14:00 1 オンライン")
        assert f"報告期限: {due}" in more, more
    assert await say(bot, "staff1", f"/dx schedule {CASE} 2027-07-08 14:00 1 オンライン") == (
        f"{CITY}はDX相談の上限（3回）に達しているため、これ以上登録できません。"
    )

    # /status, as the staff and as the officer, in the program's own words.
    staff_view = await say(bot, "staff1", "/status")
    assert staff_view.startswith("【進捗】令和9年度市町村DX相談支援業務\n2027年6月1日(火)時点")
    assert "・【遅れ】DX相談: 実施済0/40件（目標） 0時間・予定3件" in staff_view
    assert f"■ DX相談（1団体3回まで・実施済＋予定で計上・1団体）上限到達: {CITY}" in staff_view
    officer_view = await say(bot, "officer1", "/status")
    assert officer_view.startswith(f"【{CITY}の相談状況】2027年6月1日(火)時点")
    assert "■ DX相談: 3/3回 利用（実施済0・予定3）" in officer_view

    # The report reminders within office hours (08:30-17:15), and the May report.
    for when, expected in PASSES:
        assert await pass_at(bot, when) == expected, when
    to_expert = bot.sender.texts("expert1")
    assert [line for text in to_expert for line in text.splitlines() if CASE in line][-5:] == [
        f"{PENDING} — あと7開庁日（支援ID 1）",  # asked for when the session ended
        f"{PENDING} — あと2開庁日（支援ID 1）",
        f"{PENDING} — 本日が期限（支援ID 1）",
        f"{PENDING} — 2開庁日超過（支援ID 1）",
        f"{PENDING} — 3開庁日超過（支援ID 1）",
    ]
