"""Deliverables and events in /status, `dxbot status --json` and the CLI (`dxbot events add|list`,
`dxbot deliverables list|done`), on SQLite and PostgreSQL.

Miyazaki, now Wed 2026-01-07 10:00: the 報告会 of Thu 2025-12-25 had its 議事録 due Tue 1/6
(12/26, 1/5, 1/6): one 開庁日 late today. The 報告会 of Fri 2026-01-09 has its 資料 due the
開庁日 before, Thu 1/8: due within 3開庁日 (1/8, 1/9, 1/13 — Mon 1/12 is 成人の日).
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import ChatBot
from tests.test_cli import main_in_process
from tests.test_deck import heading
from tests.test_deliverables import chat_bot, clock_of, item_id_of, jst

NOW = jst(2026, 1, 7, 10)


@pytest.fixture
async def miyazaki(db_url: str) -> AsyncIterator[ChatBot]:
    bot = await chat_bot(db_url, "miyazaki-2025", "45", jst(2025, 12, 22))
    yield bot
    await bot.services.db.dispose()  # type: ignore[attr-defined]


async def two_meetings(bot: ChatBot) -> tuple[int, int]:
    """The 12/25 報告会 (its 資料 handed in) and the 1/9 one; returns (late minutes, materials)."""
    await bot.say("staff1", "/dx event 月次報告会 2025-12-25")
    early = await item_id_of(bot, "報告会資料（12/25）")
    await bot.say("staff1", f"/dx done D{early}")
    clock_of(bot).set(NOW)
    await bot.say("staff1", "/dx event houkokukai 1月9日")
    return await item_id_of(bot, "議事録（12/25）"), await item_id_of(bot, "報告会資料（1/9）")


def cli(db_url: str, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    return main_in_process(
        (*args, "--now", NOW.isoformat()),
        capsys,
        DATABASE_URL=db_url,
        DXBOT_PROGRAM="miyazaki-2025",
    )


async def test_status_shows_the_late_minutes_and_the_counts_and_forgets_a_closed_item(
    miyazaki: ChatBot,
) -> None:
    minutes, materials = await two_meetings(miyazaki)
    (status,) = await miyazaki.say("staff1", "/status")
    lines = status.text.splitlines()
    # Held by today: the 12/25 one (the 1/9 one is ahead).
    assert "■ 会議・行事（開催／想定） 月次報告会 1/12回、職員研修・意見交換会 0回" in lines
    at = next(i for i, line in enumerate(lines) if line.startswith("■ 成果物 "))
    # Late: the four 速やかに items of April (made late, in December), and the 議事録.
    assert lines[at] == "■ 成果物 期限超過 5件・3開庁日以内に期限 1件"
    shown = lines[at + 1 : at + 7]
    assert f"　D{minutes} 議事録（12/25） 期限2026年1月6日(火)【1開庁日超過】" in shown
    assert shown[-1] == "　…ほか1件（「/dx deliverables」で一覧）"

    await miyazaki.say("staff1", f"/dx done D{minutes}")
    (status,) = await miyazaki.say("staff1", "/status")
    assert f"D{minutes} " not in status.text
    assert "■ 成果物 期限超過 4件・3開庁日以内に期限 1件" in status.text
    assert f"　D{materials} 報告会資料（1/9） 期限2026年1月8日(木)" in status.text


async def test_json_lists_every_item_and_the_events_against_expected(
    miyazaki: ChatBot, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    minutes, materials = await two_meetings(miyazaki)
    run = await asyncio.to_thread(cli, db_url, capsys, "status", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    items = {d["id"]: d for d in data["deliverables"]}
    assert items[f"D{minutes}"] == {
        "id": f"D{minutes}",
        "spec": "minutes",
        "title": "議事録（12/25）",
        "due": "2026-01-06",
        "done": False,
        "done_at": None,
        "done_by": "",
        "overdue_open_days": 1,
    }
    (early,) = [d for d in data["deliverables"] if d["title"] == "報告会資料（12/25）"]
    assert (early["done"], early["done_at"], early["done_by"], early["overdue_open_days"]) == (
        True,
        "2025-12-22T10:00:00+09:00",
        "佐藤 美咲",
        0,
    )
    assert items[f"D{materials}"]["due"] == "2026-01-08"
    assert data["events"] == [
        {"kind": "houkokukai", "name": "月次報告会", "held": 1, "expected": 12},
        {"kind": "kenshu", "name": "職員研修・意見交換会", "held": 0, "expected": None},
    ]


async def test_cli_events_add_list_and_deliverables_list_done(
    miyazaki: ChatBot, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = await asyncio.to_thread(
        cli, db_url, capsys, "events", "add", "--kind", "houkokukai", "--date", "2026-01-09",
        "--place", "県庁", "--attendee", "佐藤", "--attendee", "鈴木", "--notes", "12月分",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "Recorded E1: houkokukai (月次報告会) on 2026-01-09."
    assert "  D5 報告会資料（1/9） due 2026-01-08" in lines
    minutes_line = next(line for line in lines if "議事録" in line)
    # Fri 1/9: Tue 1/13 (1; Mon 1/12 is 成人の日), Wed 1/14 (2), Thu 1/15 (3).
    assert minutes_line.endswith("議事録（1/9） due 2026-01-15")
    minutes = minutes_line.split()[0]

    run = await asyncio.to_thread(cli, db_url, capsys, "events", "list")
    assert run.stdout.splitlines() == [
        "E1\t2026-01-09\thoukokukai at 県庁 (佐藤, 鈴木)",
        "houkokukai (月次報告会): 0 held of 12 expected",
        "kenshu (職員研修・意見交換会): 0 held",
    ]

    run = await asyncio.to_thread(cli, db_url, capsys, "deliverables", "done", minutes)
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"Marked {minutes} 議事録（1/9） done (2026-01-07 10:00, CLI).\n"
    run = await asyncio.to_thread(cli, db_url, capsys, "deliverables", "done", minutes[1:])
    assert run.returncode == 1
    assert "was already marked done by CLI" in run.stderr

    run = await asyncio.to_thread(cli, db_url, capsys, "deliverables", "list")
    assert minutes not in run.stdout
    assert "D5\t2026-01-08\tmaterials\t報告会資料（1/9）\topen" in run.stdout.splitlines()
    run = await asyncio.to_thread(cli, db_url, capsys, "deliverables", "list", "--all")
    assert f"{minutes}\t2026-01-15\tminutes\t議事録（1/9）\tdone 2026-01-07 10:00 by CLI" in (
        run.stdout.splitlines()
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("events", "add", "--kind", "party", "--date", "2026-01-09"), "Unknown event kind"),
        (("events", "add", "--kind", "houkokukai", "--date", "9 Jan"), "is not a date"),
        (("events", "add", "--kind", "kenshu", "--date", "2026-04-01"), "outside the program"),
        (("deliverables", "done", "X1"), "ID must look like D12 or 12"),
        (("deliverables", "done", "D999"), "No deliverable D999"),
    ],
)
async def test_cli_refuses_bad_input_with_a_clear_message(
    miyazaki: ChatBot,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    message: str,
) -> None:
    run = await asyncio.to_thread(cli, db_url, capsys, *args)
    assert run.returncode == 1
    assert message in run.stderr


async def test_summary_and_completion_decks_show_events_against_expected(miyazaki: ChatBot) -> None:
    from pptx import Presentation

    from reminders.calendar import BusinessCalendar
    from reports import deck
    from reports.status import Period

    minutes, _ = await two_meetings(miyazaki)
    services: Any = miyazaki.services
    profile = services.profile
    cal = BusinessCalendar(profile.closed_days)
    for kind, period in (
        ("summary", Period(profile.term_start, NOW.date())),
        ("completion", Period(profile.term_start, profile.term_end)),
    ):
        async with services.db.transaction() as s:
            data = await deck.load_deck_data(s, profile, cal, NOW, kind, period)
        prs = Presentation(io.BytesIO(deck.build_deck(data)[0]))
        # The generic heading, or Miyazaki's own outline's (its 業務完了報告書).
        (slide,) = [
            s for s in prs.slides if heading(s) in ("会議・行事と成果物", "報告会・研修と提出物")
        ]
        events, items = [sh.table for sh in slide.shapes if sh.has_table]
        assert [[c.text for c in r.cells] for r in events.rows] == [
            ["会議・行事", "開催／予定"],
            ["月次報告会", "1／12"],
            ["職員研修・意見交換会", "0"],
        ]
        rows = [[c.text for c in r.cells] for r in items.rows]
        assert rows[0] == ["成果物", "期限", "状況"]
        assert [f"D{minutes} 議事録（12/25）", "2026年1月6日(火)", "1開庁日超過"] in rows
        assert [
            "D5 報告会資料（12/25）",
            "2025年12月24日(水)",
            "提出済（2025年12月22日(月)）",
        ] in rows
