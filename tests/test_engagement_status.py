"""Engaged vs expected municipalities in `/status`, `dxbot status --json` and the summary deck,
against data counted by hand; a municipality outside the track is refused; the demo data of
every shipped program has engagements, one without a goal. On SQLite and PostgreSQL.

Saitama's 長期伴走支援 expects 10 municipalities (§6(4)エ 5～10, the profile takes 10) out of the
prefecture's 63 (all served: no include/exclude list). The hand-made data: engagements with
さいたま市 (111007, a goal), 川越市 (112011, a goal), 熊谷市 (112020, no goal yet), and 川口市
(112038) whose case was then withdrawn — it counts nowhere. So: engaged 3 of 10, one without a
goal, and 63 − 3 = 60 not yet served, in 団体コード order 川口市 (112038), 行田市 (112062),
秩父市 (112071), … — the chat names three "ほか57団体".

Miyazaki's 標準化 track serves 24 of the 26 (宮崎市 452017 and 都城市 452025 excluded, §6(1)ア):
with no engagement, 24 not yet served, neither of the two among them; 実効性 serves all 26.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pptx import Presentation
from sqlalchemy import select, update

from bot.app import build_services
from bot.core.config import Settings
from bot.demo import add_people, seed_with_demo
from reminders.calendar import BusinessCalendar
from reminders.clock import JST, FixedClock
from reports import deck
from reports.status import Period
from store import cases as case_store
from store import engagements
from store.db import Database
from store.models import Case, Engagement
from store.profiles import load_profile
from store.reference import loaded_municipalities
from store.seed import seed_program
from tests.conftest import ChatBot, RecordingSender
from tests.test_cli import main_in_process
from tests.test_deck import heading
from tests.test_reminder_pass import person

NOW = dt.datetime(2026, 11, 16, 10, 0, tzinfo=JST)
TRACK = "県職員と連携した長期伴走支援"
ENGAGED = {"111007": "さいたま市", "112011": "川越市", "112020": "熊谷市"}
SHIPPED = ("kumamoto-2026", "miyazaki-2025", "nagano-2024", "saitama-2026", "yamagata-2026")


async def _case(bot: ChatBot, code: str, track: str = "bansou") -> str:
    services: Any = bot.services
    async with services.db.transaction() as s:
        case = await case_store.create(
            s,
            program_id=services.profile.id,
            prefix=services.profile.case_prefix,
            year=services.profile.fiscal_year,
            track_id=track,
            municipality_code=code,
            now=services.clock.now(),
            status="coordinating",
        )
        return case.case_no


async def _hand_counted(bot: ChatBot) -> None:
    for code in ENGAGED:
        case_no = await _case(bot, code)
        goal = "" if code == "112020" else " 目標=申請のオンライン化率を5割にする"
        (reply,) = await bot.say("staff1", f"/dx engage {case_no} テーマ=電子申請{goal}")
        assert "支援計画を記録しました" in reply.text, reply.text
    withdrawn = await _case(bot, "112038")
    await bot.say("staff1", f"/dx engage {withdrawn} テーマ=窓口改革 目標=書かない窓口")
    await _case(bot, "112089", "soudan")  # 所沢市 on the desk: no engagement, still not served
    services: Any = bot.services
    async with services.db.transaction() as s:
        await s.execute(update(Case).where(Case.case_no == withdrawn).values(status="withdrawn"))


async def test_status_and_json_show_engaged_vs_expected(
    bot: ChatBot, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await _hand_counted(bot)

    (status,) = await bot.say("staff1", "/status")

    lines = status.text.splitlines()
    at = lines.index("■ 伴走支援の対象団体（支援計画あり／想定）")
    assert lines[at + 1 : at + 3] == [
        f"・{TRACK}: 3/10団体（目標未設定 1）",
        "　未支援: 川口市、行田市、秩父市 ほか57団体",
    ]
    (officer,) = await bot.say("officer1", "/status")  # an officer's view has no such block
    assert "伴走支援の対象団体" not in officer.text

    run = await asyncio.to_thread(  # the CLI runs its own event loop
        main_in_process,
        ("status", "--json", "--now", NOW.isoformat()),
        capsys,
        DATABASE_URL=db_url,
        DXBOT_PROGRAM="saitama-2026",
    )
    assert run.returncode == 0, run.stderr
    (item,) = json.loads(run.stdout)["engagements"]
    assert {k: item[k] for k in ("track_id", "expected", "engaged", "without_goal")} == {
        "track_id": "bansou",
        "expected": 10,
        "engaged": 3,
        "without_goal": 1,
    }
    assert [(m["code"], m["name"], m["goal_set"]) for m in item["municipalities"]] == [
        ("111007", "さいたま市", True),
        ("112011", "川越市", True),
        ("112020", "熊谷市", False),
    ]
    assert len(item["not_served"]) == 60
    assert item["not_served"][:2] == [
        {"code": "112038", "name": "川口市"},
        {"code": "112062", "name": "行田市"},
    ]
    assert not set(ENGAGED) & {m["code"] for m in item["not_served"]}


async def test_the_summary_deck_shows_the_engagements(bot: ChatBot) -> None:
    await _hand_counted(bot)
    services: Any = bot.services
    profile = services.profile
    cal = BusinessCalendar(profile.closed_days)
    async with services.db.transaction() as s:
        data = await deck.load_deck_data(
            s, profile, cal, NOW, "summary", Period(profile.term_start, NOW.date())
        )
        completion = await deck.load_deck_data(
            s, profile, cal, NOW, "completion", Period(profile.term_start, profile.term_end)
        )
    prs = Presentation(io.BytesIO(deck.build_deck(data)[0]))
    titles = [heading(s) for s in prs.slides]  # the section headings
    (slide,) = [
        s
        for s, title in zip(prs.slides, titles, strict=True)
        if title == "伴走支援の対象団体と支援計画"
    ]
    assert titles.index("伴走支援の対象団体と支援計画") == titles.index("支援した市町村") + 1
    texts = [sh.text_frame.text for sh in slide.shapes if sh.has_text_frame]
    assert f"{TRACK}: 支援中 3団体／想定 10団体" in texts
    assert any(x.startswith("未支援の団体（60）: 川口市、行田市、秩父市") for x in texts)
    (table,) = [sh.table for sh in slide.shapes if sh.has_table]
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[0] == ["市町村", "テーマ", "取組目標", "段階"]
    assert [r[0] for r in rows[1:]] == ["さいたま市", "川越市", "熊谷市"]
    assert rows[3][2] == "未設定"
    # The completion report keeps its outline (Saitama declares none: the generic one).
    prs = Presentation(io.BytesIO(deck.build_deck(completion)[0]))
    assert "伴走支援の対象団体と支援計画" not in [
        s.shapes.title.text_frame.text for s in prs.slides
    ]


# --- Miyazaki: a municipality outside the track --------------------------------------------------


@pytest.fixture
async def miyazaki(db_url: str) -> AsyncIterator[ChatBot]:
    clock = FixedClock(dt.datetime(2025, 11, 17, 10, 0, tzinfo=JST))  # a Monday of its term
    settings = Settings(_env_file=None, DATABASE_URL=db_url, DXBOT_PROGRAM="miyazaki-2025")  # type: ignore[call-arg]
    services = build_services(settings, clock=clock)
    async with services.db.transaction() as s:
        await seed_program(s, load_profile("miyazaki-2025"), clock.now())
        await add_people(s, await loaded_municipalities(s, "45"), clock.now())
    yield ChatBot(services, RecordingSender())
    await services.db.dispose()


async def test_a_municipality_outside_the_track_is_refused(miyazaki: ChatBot) -> None:
    miyazaki_city = await _case(miyazaki, "452017", "hyojunka")  # excluded, §6(1)ア
    (reply,) = await miyazaki.say("staff1", f"/dx engage {miyazaki_city} テーマ=標準化移行")
    assert reply.text == (
        "宮崎市は情報システム標準化・共通化の伴走支援（24市町村）の対象外のため、"
        "この区分では登録できません。"
    )
    services: Any = miyazaki.services
    async with services.db.transaction() as s:
        assert (await s.scalars(select(Engagement))).all() == []
        (hyojunka, jikkousei) = await engagements.track_engagements(s, services.profile)
    assert (hyojunka.track_id, hyojunka.expected, len(hyojunka.not_served)) == ("hyojunka", 24, 24)
    assert not {"452017", "452025"} & {c for c, _ in hyojunka.not_served}
    assert (jikkousei.expected, len(jikkousei.not_served)) == (5, 26)
    nobeoka = await _case(miyazaki, "452033", "hyojunka")
    (reply,) = await miyazaki.say("staff1", f"/dx engage {nobeoka} テーマ=標準化移行 回数=6")
    assert reply.text.startswith(f"{nobeoka}の支援計画を記録しました。")
    assert (await person(services, "officer1")).municipality_code == "452017"


# --- demo data -------------------------------------------------------------------------------------


@pytest.mark.parametrize("program_id", SHIPPED)
async def test_demo_engagements_for_every_engagement_track(db: Database, program_id: str) -> None:
    profile = load_profile(program_id)
    async with db.transaction() as s:
        await seed_with_demo(s, profile, NOW)
    async with db.transaction() as s:
        items = await engagements.track_engagements(s, profile)
        rows = await engagements.rows(s, profile.id)
    assert [i.track_id for i in items] == [
        t.id for t in profile.tracks if t.expected_municipalities
    ]
    for item in items:
        assert 0 < len(item.engaged) < item.expected, item.track_id
        assert item.not_served, item.track_id
    assert any(not r.goal for r in rows), "one engagement has no goal (the reminder's demo)"
    assert any(r.goal and r.goal_set_at for r in rows)
    assert all(r.theme and r.start_on for r in rows)
    async with db.transaction() as s:  # seeding again adds nothing
        await seed_with_demo(s, profile, NOW)
    async with db.transaction() as s:
        assert len(await engagements.rows(s, profile.id)) == len(rows)
