"""The desk's queue (issue 20), as staff, the prefecture, officers and experts read it in the chat
(on SQLite and PostgreSQL): `/status` leads with what waits for whom — the case id, the
municipality, who holds it and its age in 開庁日 — the 10 oldest then the count of the rest and
`/dx queue`; each kind of wait appears when it begins and leaves when it is done; waits older than
the profile's ``queue:`` numbers are flagged and told to the staff in their bundled reminder once
per 開庁日.

Calendar used: Friday 2026-11-20; Saturday, Sunday and Monday 11/23 (勤労感謝の日) are closed, so
Tuesday 11/24 is the 1st 開庁日 after it, Wednesday the 2nd, Thursday 11/26 the 3rd.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.core.messages import Outbound
from reminders.clock import FixedClock
from reports import queue as queue_view
from store import sessions as session_store
from store.models import Case, DeliverableItem, SupportSession
from store.profiles import load_profile
from tests.conftest import ENV_KEYS, ChatBot
from tests.test_intake import FIRST_MESSAGE
from tests.test_reminder_pass import book, jst, report_in, run, texts_to

PROFILE = load_profile("saitama-2026")


def last(replies: Sequence[Outbound]) -> Outbound:
    assert replies, "no reply"
    return replies[-1]


async def status(bot: ChatBot, who: str) -> list[str]:
    return last(await bot.say(who, "/status")).text.splitlines()


def queue_block(lines: list[str]) -> list[str]:
    """The queue's lines of a `/status`: from its header to the next ■ block."""
    start = next(
        i for i, ln in enumerate(lines) if ln.startswith("■ 対応待ち") or "ご対応待ち" in ln
    )
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("■")), len(lines))
    return lines[start:end]


async def open_case(bot: ChatBot, clock: FixedClock, when: str) -> str:
    """An officer of さいたま市 opens a consultation in the chat (the shortest intake)."""
    clock.set(jst(when))
    await bot.say("officer1", FIRST_MESSAGE)
    await bot.say("officer1", "わからない")
    opened = last(await bot.say("officer1", "申し込む")).text
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        case = (await s.scalars(select(Case).order_by(Case.id.desc()).limit(1))).one()
    assert case.case_no in opened
    return case.case_no


async def municipality_of(bot: ChatBot, case_no: str) -> str:
    from store.models import Municipality

    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        name = await s.scalar(
            select(Municipality.name)
            .join(Case, Case.municipality_code == Municipality.code)
            .where(Case.case_no == case_no)
        )
    assert name
    return str(name)


# --- a new case: at once, aged in 開庁日, gone when matched ------------------------------------------


async def test_a_new_case_waits_in_staff_status_at_once_aged_in_open_days(
    bot: ChatBot, clock: FixedClock
) -> None:
    case_no = await open_case(bot, clock, "2026-11-20 10:00")  # Friday
    muni = await municipality_of(bot, case_no)

    lines = await status(bot, "staff1")
    # The queue leads, right under the header, before the shortfalls and the figures.
    assert lines[2] == "■ 対応待ち 1件（待ちの長い順・うち要対応0件）"
    assert lines[3] == f"・{case_no} {muni} マッチング待ち（事務局） 本日から"
    assert lines.index("■ 要対応") > 3

    # Saturday, Sunday and the Monday holiday do not count: Tuesday is the 1st 開庁日.
    clock.set(jst("2026-11-23 12:00"))
    assert queue_block(await status(bot, "staff1"))[1].endswith("マッチング待ち（事務局） 本日から")
    clock.set(jst("2026-11-24 09:00"))
    assert queue_block(await status(bot, "staff1"))[1] == (
        f"・{case_no} {muni} マッチング待ち（事務局） 1開庁日経過"
    )
    # The profile flags matching after 2 開庁日 (queue: {match: 2}): Thursday is the 3rd.
    clock.set(jst("2026-11-25 09:00"))
    assert "【要対応】" not in "\n".join(queue_block(await status(bot, "staff1")))
    clock.set(jst("2026-11-26 09:00"))
    assert queue_block(await status(bot, "staff1")) == [
        "■ 対応待ち 1件（待ちの長い順・うち要対応1件）",
        f"・【要対応】{case_no} {muni} マッチング待ち（事務局） 3開庁日経過",
    ]

    # Matched: it leaves the matching wait and waits for the prefecture's approval instead.
    await bot.say("staff1", f"/dx pick {case_no} expert1")
    block = queue_block(await status(bot, "staff1"))
    assert not [ln for ln in block if "マッチング待ち" in ln]
    assert block[1] == f"・{case_no} {muni} 県の承認待ち（県: 田中 誠） 本日から"


async def test_each_kind_of_wait_appears_and_leaves(bot: ChatBot, clock: FixedClock) -> None:
    services: Any = bot.services
    case_no = await open_case(bot, clock, "2026-11-16 10:00")

    def kinds(items: list[queue_view.QueueItem]) -> list[tuple[str, str]]:
        return [(i.wait.kind, i.wait.ref) for i in items]

    async def all_waits() -> list[tuple[str, str]]:
        async with services.db.transaction() as s:
            from bot.app import system_context
            from handlers.queue import queue_of

            return kinds(list((await queue_of(system_context(services, s))).items))

    async def waits() -> list[tuple[str, str]]:
        """The cases' waits (the reminder pass also makes the program's deliverable items)."""
        return [(k, ref) for k, ref in await all_waits() if k != "deliverable"]

    assert await waits() == [("match", case_no)]
    # match → approval (the prefecture holds it) → schedule (the desk books a session) → none
    await bot.say("staff1", f"/dx pick {case_no} expert1")
    assert await waits() == [("approval", case_no)]
    await bot.say("pref1", f"/dx approve {case_no}")
    assert await waits() == [("schedule", case_no)]
    await bot.say("staff1", f"/dx schedule {case_no} 11月19日 14:00 1 online")
    assert await waits() == []

    # The session ends: the expert owes the report; once in, the officer owes the survey.
    await run(bot, clock, "2026-11-19 15:00")
    assert await waits() == [("report", case_no)]
    async with services.db.transaction() as s:
        session = (
            await s.scalars(select(SupportSession).order_by(SupportSession.id.desc()).limit(1))
        ).one()
        case = (await s.scalars(select(Case).where(Case.case_no == case_no))).one()
    from tests.test_reminder_pass import Booked

    booked = Booked(case.id, case_no, session.id, session.report_due)
    await report_in(bot, clock, booked, "2026-11-19 16:00")
    assert await waits() == [("survey", case_no)]
    await bot.say("officer1", f"/dx survey {session.id}")
    await bot.say("officer1", "4")
    await bot.say("officer1", "解決した")
    await bot.say("officer1", "なし")
    assert await waits() == []

    # A report of a track with a review step waits for the desk once handed in.
    haken = await book(services, "2026-11-19 10:00", track="haken")
    await run(bot, clock, "2026-11-19 16:30")
    assert await waits() == [("report", haken.case_no)]
    async with services.db.transaction() as s:
        row = await s.get(SupportSession, haken.session_id)
        assert row is not None
        await session_store.add_report(
            s, row, {"summary": "済"}, author_user_id=None, now=clock.now(), deliver=False
        )
    assert await waits() == [("review", haken.case_no)]
    async with services.db.transaction() as s:
        row = await s.get(SupportSession, haken.session_id)
        assert row is not None
        await session_store.approve_report(s, row, version=1, now=clock.now(), actor="佐藤 美咲")
    assert await waits() == []  # approved: delivered to the prefecture

    # A deliverable due within 3 開庁日 waits for the desk until it is marked done.
    async with services.db.transaction() as s:
        item = DeliverableItem(
            program_id=PROFILE.id,
            spec_id="plan",
            period="queue-test",
            title="実施計画書",
            due_on=dt.date(2026, 11, 24),
            created_at=clock.now(),
        )
        s.add(item)
        await s.flush()
        item_ref = f"D{item.id}"
    assert ("deliverable", item_ref) in await all_waits()
    text = last(await bot.say("staff1", "/dx queue")).text
    assert f"・{item_ref} 成果物「実施計画書」（事務局） 期限2026年11月24日(火)" in text
    await bot.say("staff1", f"/dx done {item_ref}")
    assert ("deliverable", item_ref) not in await all_waits()


# --- roles ------------------------------------------------------------------------------------------


async def test_each_role_leads_with_its_own_waits(bot: ChatBot, clock: FixedClock) -> None:
    older = await open_case(bot, clock, "2026-11-16 10:00")  # waits for matching since Monday
    newer = await open_case(bot, clock, "2026-11-18 10:00")
    await bot.say("staff1", f"/dx pick {newer} expert1")  # waits for the prefecture since Wed.
    clock.set(jst("2026-11-19 10:00"))

    # The desk: oldest first.
    staff = queue_block(await status(bot, "staff1"))
    assert [ln.split()[0].lstrip("・") for ln in staff[1:]] == [f"【要対応】{older}", newer]
    # The prefecture: its approval first, then the rest.
    pref = queue_block(await status(bot, "pref1"))
    assert pref[0] == "■ 対応待ち 2件（県のご対応分1件を先頭に、待ちの長い順・うち要対応1件）"
    assert (
        pref[1].startswith(f"・{newer} ") and "県の承認待ち（県: 田中 誠） 1開庁日経過" in pref[1]
    )
    assert pref[2].startswith(f"・【要対応】{older} ") and "マッチング待ち" in pref[2]

    # The officer: each open case with what it waits for, and no program-wide pace or target.
    officer = await status(bot, "officer1")
    at = next(i for i, ln in enumerate(officer) if ln.startswith(f"・{older}"))
    assert officer[at + 1] == "　└ マッチング待ち（事務局・3開庁日経過）"
    at = next(i for i, ln in enumerate(officer) if ln.startswith(f"・{newer}"))
    assert officer[at + 1] == "　└ 県の承認待ち（県: 田中 誠・1開庁日経過）"
    assert not [ln for ln in officer if "ペース" in ln or "目標" in ln or "開庁日あたり" in ln]

    # The expert: their pending reports first, then their upcoming sessions.
    services: Any = bot.services
    held = await book(services, "2026-11-17 10:00", experts=("expert2",))
    await book(services, "2026-11-27 10:00", experts=("expert2",), case_id=held.case_id)
    await run(bot, clock, "2026-11-19 10:00")
    expert = await status(bot, "expert2")
    assert expert[1].startswith("■ 未提出の報告 1件")
    assert held.case_no in expert[2]
    upcoming = expert.index("■ 今後の支援")
    assert "2026年11月27日(金) 10:00" in expert[upcoming + 1]
    # JSON: the expert's own report leads their queue.
    from handlers.status import status_json_text

    async with services.db.transaction() as s:
        from bot.app import system_context
        from bot.core.permissions import Actor
        from tests.test_reminder_pass import person

        ctx = system_context(services, s)
        import dataclasses

        ctx = dataclasses.replace(ctx, actor=Actor.of_user(await person(services, "expert2")))
        data = json.loads(await status_json_text(ctx))
    assert [(i["kind"], i["case_id"], i["holder"]) for i in data["queue"]["items"]] == [
        ("report", held.case_no, "expert")
    ]


async def test_the_ten_oldest_then_the_rest_and_the_command(
    bot: ChatBot, clock: FixedClock
) -> None:
    opened = [await open_case(bot, clock, f"2026-11-{day:02d} 10:00") for day in range(2, 15)]
    clock.set(jst("2026-11-16 10:00"))
    block = queue_block(await status(bot, "staff1"))
    assert block[0].startswith("■ 対応待ち 13件")
    assert [ln.split()[0].lstrip("・").replace("【要対応】", "") for ln in block[1:11]] == opened[
        :10
    ]
    assert block[11] == "　…ほか3件。全件は「/dx queue」でご覧いただけます。"
    everything = last(await bot.say("staff1", "/dx queue")).text
    assert all(case_no in everything for case_no in opened)
    assert everything.startswith("【対応待ち一覧】2026年11月16日(月)時点 全13件")
    assert last(await bot.say("staff1", "/dx queue zzz")).text.startswith("使い方")
    # The JSON lists every wait with its age; `shown` is what /status shows.
    from bot.app import system_context
    from handlers.status import status_json_text

    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        data = json.loads(await status_json_text(system_context(bot.services, s)))  # type: ignore[arg-type]
    q = data["queue"]
    assert (q["total"], q["shown"], q["command"]) == (13, 10, "/dx queue")
    first = q["items"][0]
    assert (first["kind"], first["case_id"], first["holder"]) == ("match", opened[0], "staff")
    # 11/2 → 11/16: 11/3 文化の日 closed; 11/4–6, 9–13, 16 → 9 開庁日
    assert (first["age_open_days"], first["flag_after_open_days"], first["flagged"]) == (9, 2, True)


# --- the staff's bundled reminder --------------------------------------------------------------------


async def test_a_flagged_wait_joins_the_staff_reminder_once_per_open_day(
    bot: ChatBot, clock: FixedClock
) -> None:
    case_no = await open_case(bot, clock, "2026-11-20 10:00")
    told = f"【要対応】{case_no}"

    def times_told() -> int:
        return sum(told in x for x in texts_to(bot, "staff"))

    # Not flagged yet on the 1st and 2nd 開庁日.
    await run(bot, clock, "2026-11-24 09:00")
    await run(bot, clock, "2026-11-25 09:00")
    assert times_told() == 0
    # Flagged on Thursday: told at the first pass, not again that day.
    report = await run(bot, clock, "2026-11-26 09:00")
    assert f"staff queue match:{case_no}" in report.sent
    assert times_told() == 1
    (message,) = [x for x in texts_to(bot, "staff") if told in x]
    assert message.startswith("【対応待ちのお知らせ】")
    assert "マッチング待ち（事務局） 3開庁日経過" in message
    for when in ("2026-11-26 11:00", "2026-11-26 16:30"):
        await run(bot, clock, when)
    assert times_told() == 1
    # Not on the weekend, once again on Friday.
    await run(bot, clock, "2026-11-28 10:00")
    assert times_told() == 1
    await run(bot, clock, "2026-11-27 10:00")
    await run(bot, clock, "2026-11-27 14:00")
    assert times_told() == 2
    # Matched and approved: no longer told.
    await bot.say("staff1", f"/dx pick {case_no} expert1")
    await bot.say("pref1", f"/dx approve {case_no}")
    await run(bot, clock, "2026-11-30 10:00")
    assert times_told() == 2


async def test_a_flagged_wait_rides_in_the_report_chase_of_that_day(
    bot: ChatBot, clock: FixedClock
) -> None:
    """When the staff are chased for an overdue report, the flagged waits are in that message."""
    late = await book(bot.services, "2026-11-16 10:00")  # due 11/24 (5 開庁日)
    await run(bot, clock, "2026-11-16 11:00")
    case_no = await open_case(bot, clock, "2026-11-20 10:00")
    await run(bot, clock, "2026-11-26 09:00")
    chase = [x for x in texts_to(bot, "staff") if late.case_no in x and case_no in x]
    assert len(chase) == 1
    assert "■ 目安を過ぎた対応待ち（1件）" in chase[0]
    assert f"・【要対応】{case_no}" in chase[0]


# --- the command line ------------------------------------------------------------------------------


async def test_dxbot_queue_lists_every_wait(bot: ChatBot, clock: FixedClock, db_url: str) -> None:
    case_no = await open_case(bot, clock, "2026-11-20 10:00")
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env |= {"DATABASE_URL": db_url, "PYTHONIOENCODING": "utf-8"}
    dxbot = str(Path(sys.executable).parent / "dxbot")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [dxbot, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    common = ("--program", "saitama-2026", "--now", "2026-11-26T09:00:00+09:00")
    text = cli("queue", *common)
    assert text.returncode == 0, text.stderr
    assert f"・【要対応】{case_no} " in text.stdout and "3開庁日経過" in text.stdout
    data = cli("queue", *common, "--json", "--as", "staff1")
    assert data.returncode == 0, data.stderr
    listing = json.loads(data.stdout)
    assert (listing["program"], listing["total"], listing["items"][0]["case_id"]) == (
        "saitama-2026",
        1,
        case_no,
    )
    as_json = cli("status", *common, "--json")
    assert as_json.returncode == 0, as_json.stderr
    status = json.loads(as_json.stdout)
    assert status["queue"]["items"][0]["age_open_days"] == 3
    bad = cli("queue", "--bogus")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
