"""The demo data of every shipped program shows its meetings, events and deliverables: events
held, items closed, one item of the latest event late (a 議事録 where the profile has one) and
shown in /status. On SQLite and PostgreSQL, at the demo's today 2026-11-16 (Miyazaki's and
Nagano's terms have ended by then: all their meetings are in the past)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.demo import seed_with_demo
from bot.demo_structure import meeting_days
from reminders.calendar import BusinessCalendar
from reminders.clock import JST
from reports.render_status import render
from reports.status import program_status
from store import deliverables as item_store
from store import program_events
from store.db import Database
from store.profiles import load_profile

NOW = dt.datetime(2026, 11, 16, 10, 0, tzinfo=JST)
PROGRAMS = ["kumamoto-2026", "miyazaki-2025", "nagano-2024", "saitama-2026", "yamagata-2026"]
LATE_TITLE = {  # the late item each program's demo leaves open (its latest event's)
    "miyazaki-2025": "議事録（3/16）",  # the 12th 報告会, Mon 2026-03-16
    "saitama-2026": "キックオフミーティング議事録（4/10）",
    "yamagata-2026": "定例会資料（11/16）",  # Mon 11/16's 資料, due Fri 11/13 (no 議事録 asked)
    "nagano-2024": "進捗状況の資料（2/17）",
    "kumamoto-2026": "打合せ議事録（10/15）",
}


@pytest.mark.parametrize("program_id", PROGRAMS)
async def test_demo_has_events_closed_items_and_one_late(db: Database, program_id: str) -> None:
    profile = load_profile(program_id)
    cal = BusinessCalendar(profile.closed_days)
    async with db.transaction() as s:
        await seed_with_demo(s, profile, NOW)
    async with db.transaction() as s:
        events = await program_events.listed(s, program_id)
        items = await item_store.listed(s, program_id, include_done=True)
        text = render(await program_status(s, profile, cal, NOW), cal)
    assert events and all(e.is_demo for e in events)
    assert all(i.is_demo for i in items)
    today = NOW.date()
    late = [i for i in items if i.done_at is None and i.due_on < today]
    assert [i.title for i in late] == [LATE_TITLE[program_id]]
    assert any(i.done_at is not None and i.done_by == "佐藤 美咲" for i in items)
    (line,) = [x for x in text.splitlines() if x.startswith("■ 成果物 期限超過 1件")]
    assert f"　D{late[0].id} {late[0].title} 期限" in text
    assert "■ 会議・行事（開催／想定） " in text, line


def test_meeting_days_are_monthly_on_the_first_open_day_from_the_15th() -> None:
    profile = load_profile("yamagata-2026")
    cal = BusinessCalendar()
    (teireikai, _) = profile.events
    days = meeting_days(teireikai, profile, cal, dt.date(2026, 8, 1))
    # 4/15 Wed, 5/15 Fri, 6/15 Mon, 7/15 Wed, then the next one ahead: 8/17 Mon (8/15 is a Sat).
    assert days == [
        dt.date(2026, 4, 15),
        dt.date(2026, 5, 15),
        dt.date(2026, 6, 15),
        dt.date(2026, 7, 15),
        dt.date(2026, 8, 17),
    ]
