"""Stages of an engagement (issue 14, item 2), on SQLite and PostgreSQL: the expert's follow-up
asks which stage was reached (pre-filled from the last session) and, only when that stage has a
KPI, whether it is met; staff correct with `/dx stage`; staff are reminded once of an engagement
with no 取組目標 after its 3rd held session, on a 開庁日 inside office hours only; `/status` and
`dxbot status --json` show the municipality × stage matrix.

The program is Kumamoto's profile as a folder profile (DXBOT_PROFILES_DIR) with two changes a
test needs: the BPR track runs engagements (expected_municipalities 8, §2.1(4)) and stage 2 has
no KPI, so both kinds of stage are exercised.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pptx import Presentation
from sqlalchemy import select

from bot.app import build_services, system_context
from bot.core.config import Settings
from bot.core.messages import Outbound
from handlers.status import status_json_text, status_text
from reminders.clock import FixedClock
from reports import deck
from store import cases as case_store
from store import stages as stage_store
from store.models import (
    Case,
    Engagement,
    Municipality,
    ReminderLedger,
    StageMark,
    SupportSession,
)
from store.profiles import load_profile
from tests.conftest import ChatBot, RecordingSender
from tests.test_deck import heading
from tests.test_followup import answer_all, last
from tests.test_reminder_pass import book, jst, run, texts_to

PROGRAM = "kumastage-2026"
MODEL = "BPR支援プロセス（想定する支援例 1〜10回目）"
STAGE1 = "ステップ1 対象業務のヒアリング、支援対象部署の整理（1〜2回目）"
STAGE2 = "ステップ2 現状業務フローの作成（3回目）"
STAGE3 = "ステップ3 業務分析と課題抽出（4〜5回目）"


def _profile_folder(tmp_path: Path) -> Path:
    shipped = Path(__file__).parents[1] / "store" / "profiles" / "kumamoto-2026.yaml"
    data = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    data.update(id=PROGRAM, case_prefix="KST")
    data.pop("demo_default", None)
    for track in data["tracks"]:
        if track["id"] == "bpr":
            track["expected_municipalities"] = 8
    data["stage_model"]["stages"][1].pop("kpi")
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "kumastage-2026.yaml").write_text(
        yaml.safe_dump(data, allow_unicode=True), encoding="utf-8"
    )
    return folder


@pytest.fixture
async def kbot(db_url: str, clock: FixedClock, tmp_path: Path) -> AsyncIterator[ChatBot]:
    """The bot on Kumamoto's stage model with the demo people (no history)."""
    from bot.demo import add_people
    from store.seed import seed_program

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        DATABASE_URL=db_url,
        DXBOT_PROGRAM=PROGRAM,
        DXBOT_PROFILES_DIR=str(_profile_folder(tmp_path)),
    )
    services = build_services(settings, clock=clock)
    async with services.db.transaction() as s:
        await seed_program(s, services.profile, clock.now())
        munis = list(
            (
                await s.scalars(
                    select(Municipality)
                    .where(Municipality.prefecture_code == "43")
                    .order_by(Municipality.code)
                )
            ).all()
        )
        await add_people(s, munis, clock.now())
    yield ChatBot(services, RecordingSender())
    await services.db.dispose()


async def engage(services: Any, case_id: int, goal: str = "") -> None:
    """An engagement recorded on the case, as staff would with `/dx engage`."""
    async with services.db.transaction() as s:
        case = await s.get(Case, case_id)
        assert case is not None
        s.add(
            Engagement(
                case_id=case.id,
                program_id=case.program_id,
                track_id=case.track_id,
                municipality_code=case.municipality_code,
                goal=goal,
                created_at=case.opened_at,
                updated_at=case.opened_at,
            )
        )


async def stage_of(services: Any, case_id: int) -> tuple[int | None, dict[int, bool | None]]:
    async with services.db.transaction() as s:
        case = await s.get(Case, case_id)
        assert case is not None
        return case.stage, await stage_store.marks_of(s, case_id)


async def report_until_stage(bot: ChatBot, clock: FixedClock, session_id: int) -> Outbound:
    """The expert answers the report's questions; the reply after the hours."""
    await bot.say("expert1", f"/report {session_id}")
    return last(await answer_all(bot))


# --- the follow-up ----------------------------------------------------------------------------------


async def test_followup_asks_the_stage_then_its_kpi_and_stores_both(
    kbot: ChatBot, clock: FixedClock
) -> None:
    b = await book(kbot.services, "2026-11-19 14:00", track="bpr")
    await run(kbot, clock, "2026-11-19 15:00")
    clock.set(jst("2026-11-20 10:00"))

    asked = await report_until_stage(kbot, clock, b.session_id)
    # No stage recorded yet: the first stage is the one-keystroke answer.
    assert asked.text == (
        f"今回の支援で到達したステップを番号でお選びください（{MODEL}）。"
        f"「{STAGE1}」でよろしければ「1」とお答えください。"
    )
    assert [c.label for c in asked.choices][:3] == [STAGE1, STAGE2, STAGE3]
    assert len(asked.choices) == 6

    kpi = last(await kbot.say("expert1", "3"))
    assert kpi.text == (
        f"「{STAGE3}」のKPI「業務フローを分析し、非効率箇所や重複作業などの課題を整理した」"
        "は達成されましたか？"
    )
    assert [c.label for c in kpi.choices] == ["はい", "いいえ"]

    summary = last(await kbot.say("expert1", "いいえ"))
    assert summary.text == "以下の内容で報告を提出します。よろしいですか？"
    fields = dict(summary.fields)
    assert fields["到達ステップ"] == STAGE3 and fields["KPIの達成"] == "未達成"
    assert await stage_of(kbot.services, b.case_id) == (None, {})  # nothing until submitted

    await kbot.say("expert1", "1")  # この内容で提出する
    assert await stage_of(kbot.services, b.case_id) == (3, {3: False})
    async with kbot.services.db.transaction() as s:  # type: ignore[attr-defined]
        mark = await s.scalar(select(StageMark).where(StageMark.case_id == b.case_id))
    assert mark is not None and mark.session_id == b.session_id


async def test_the_next_followup_offers_the_last_stage_first(
    kbot: ChatBot, clock: FixedClock
) -> None:
    b = await book(kbot.services, "2026-11-19 14:00", track="bpr")
    await run(kbot, clock, "2026-11-19 15:00")
    clock.set(jst("2026-11-20 10:00"))
    await report_until_stage(kbot, clock, b.session_id)
    await kbot.say("expert1", "3")
    await kbot.say("expert1", "いいえ")
    await kbot.say("expert1", "1")

    second = await book(kbot.services, "2026-11-26 14:00", track="bpr", case_id=b.case_id)
    await run(kbot, clock, "2026-11-26 15:00")
    clock.set(jst("2026-11-27 10:00"))
    asked = await report_until_stage(kbot, clock, second.session_id)
    assert asked.text == (
        f"今回の支援で到達したステップを番号でお選びください（{MODEL}）。"
        f"前回と同じ「{STAGE3}」のままでよろしければ「1」とお答えください。"
    )
    assert asked.choices[0].label == f"前回のまま（{STAGE3}）"
    assert [c.label for c in asked.choices][1:4] == [STAGE1, STAGE2, STAGE3]

    kpi = last(await kbot.say("expert1", "1"))  # one keystroke keeps stage 3
    assert kpi.text.startswith(f"「{STAGE3}」のKPI")
    await kbot.say("expert1", "はい")
    await kbot.say("expert1", "1")
    assert await stage_of(kbot.services, b.case_id) == (3, {3: True})


async def test_a_stage_without_kpi_asks_one_question(kbot: ChatBot, clock: FixedClock) -> None:
    b = await book(kbot.services, "2026-11-19 14:00", track="bpr")
    await run(kbot, clock, "2026-11-19 15:00")
    clock.set(jst("2026-11-20 10:00"))
    await report_until_stage(kbot, clock, b.session_id)

    summary = last(await kbot.say("expert1", "ステップ2"))  # typed as the step, not its number
    assert summary.text == "以下の内容で報告を提出します。よろしいですか？"
    fields = dict(summary.fields)
    assert fields["到達ステップ"] == STAGE2 and "KPIの達成" not in fields

    # Corrected from the summary's 修正 menu: the stage is its last entry.
    menu = last(await kbot.say("expert1", "2"))
    assert menu.choices[-1].label == "到達ステップ"
    again = last(await kbot.say("expert1", str(len(menu.choices))))
    assert again.choices[0].label == STAGE1  # no stage recorded before this report
    assert last(await kbot.say("expert1", "1")).text.startswith(f"「{STAGE1}」のKPI")
    summary = last(await kbot.say("expert1", "はい"))
    assert dict(summary.fields)["到達ステップ"] == STAGE1
    await kbot.say("expert1", "1")
    assert await stage_of(kbot.services, b.case_id) == (1, {1: True})


async def test_no_stage_questions_outside_engagements(kbot: ChatBot, clock: FixedClock) -> None:
    b = await book(kbot.services, "2026-11-19 14:00", track="soudan")
    await run(kbot, clock, "2026-11-19 15:00")
    clock.set(jst("2026-11-20 10:00"))
    summary = await report_until_stage(kbot, clock, b.session_id)
    assert summary.text == "以下の内容で報告を提出します。よろしいですか？"
    assert "到達ステップ" not in dict(summary.fields)


async def test_an_engagement_on_another_track_is_asked(kbot: ChatBot, clock: FixedClock) -> None:
    b = await book(kbot.services, "2026-11-19 14:00", track="soudan")
    await engage(kbot.services, b.case_id)
    await run(kbot, clock, "2026-11-19 15:00")
    clock.set(jst("2026-11-20 10:00"))
    asked = await report_until_stage(kbot, clock, b.session_id)
    assert asked.choices[0].label == STAGE1


# --- /dx stage ---------------------------------------------------------------------------------------


async def test_staff_correct_the_stage_and_its_kpi(kbot: ChatBot, clock: FixedClock) -> None:
    b = await book(kbot.services, "2026-11-19 14:00", track="bpr")
    (reply,) = await kbot.say("staff1", f"/dx stage {b.case_no} 3 はい")
    assert reply.text == (
        f"{b.case_no}（熊本市）の到達ステップを「{STAGE3}」に更新しました。KPI: 達成"
    )
    assert await stage_of(kbot.services, b.case_id) == (3, {3: True})

    # Without はい/いいえ the KPI answer is kept; a stage without KPI records none.
    (reply,) = await kbot.say("staff1", f"/dx stage {b.case_no.lower()} ３")
    assert reply.text.endswith("KPI: 達成（前回の記録のまま）")
    (reply,) = await kbot.say("staff1", f"/dx stage {b.case_no} 2 はい")
    assert reply.text.endswith("このステップにはKPIの定めがありません。")
    # Stages are linear: going back to stage 2 removes stage 3's mark.
    assert await stage_of(kbot.services, b.case_id) == (2, {2: None})


async def test_dx_stage_refusals(kbot: ChatBot, clock: FixedClock) -> None:
    b = await book(kbot.services, "2026-11-19 14:00", track="bpr")
    consult = await book(kbot.services, "2026-11-20 14:00", track="soudan")

    (reply,) = await kbot.say("staff1", f"/dx stage {b.case_no} 9")
    assert reply.text.startswith(
        f"「9」というステップはありません。{MODEL}のステップは次のとおりです。"
    )
    assert f"・{STAGE1}\n・{STAGE2}" in reply.text
    (reply,) = await kbot.say("staff1", f"/dx stage {b.case_no} 1 たぶん")
    assert (
        reply.text
        == "KPIの達成は「はい」か「いいえ」で指定してください（「たぶん」は読み取れませんでした）。"
    )
    (reply,) = await kbot.say("staff1", f"/dx stage {b.case_no}")
    assert reply.text.startswith("「/dx stage 案件番号 ステップ番号」の形で指定してください。")
    (reply,) = await kbot.say("staff1", f"/dx stage {consult.case_no} 1")
    assert reply.text == (
        f"{consult.case_no}は伴走支援（取組の記録がある案件）ではないため、ステップは記録できません。"
    )
    (reply,) = await kbot.say("expert1", f"/dx stage {b.case_no} 1")
    assert "権限ではこの操作はできません" in reply.text
    assert await stage_of(kbot.services, b.case_id) == (None, {})


async def test_dx_stage_in_a_program_without_stage_model(bot: ChatBot) -> None:
    b = await book(bot.services, "2026-11-19 14:00")
    (reply,) = await bot.say("staff1", f"/dx stage {b.case_no} 1")
    assert reply.text == (
        "この事業の仕様にはステップ（支援の段階）の定めがないため、ステップは記録できません。"
    )


# --- the goal reminder -------------------------------------------------------------------------------


GOAL_HEAD = "【取組目標の未設定】支援3回目を目途に取組目標を設定することになっていますが"


def goal_pings(bot: ChatBot) -> list[str]:
    return [x for x in texts_to(bot, "staff") if x.startswith(GOAL_HEAD)]


async def test_goal_reminder_once_on_the_next_open_day_after_the_third_session(
    kbot: ChatBot, clock: FixedClock
) -> None:
    # Three sessions of one BPR engagement with no goal; the third on Friday 11/20 13:00–17:00,
    # ending as the office closes. Monday 11/23 is 勤労感謝の日: the first 開庁日 after it is
    # Tuesday 11/24. A cancelled session does not count towards the three.
    first = await book(kbot.services, "2026-11-05 13:00", track="bpr", hours=4)
    await engage(kbot.services, first.case_id)
    cancelled = await book(
        kbot.services, "2026-11-10 13:00", track="bpr", hours=4, case_id=first.case_id
    )
    async with kbot.services.db.transaction() as s:  # type: ignore[attr-defined]
        row = await s.get(SupportSession, cancelled.session_id)
        assert row is not None
        row.status = "cancelled"
    await book(kbot.services, "2026-11-12 13:00", track="bpr", hours=4, case_id=first.case_id)
    # A second engagement whose goal is agreed is never reminded.
    other = await book(kbot.services, "2026-11-05 13:00", track="bpr", hours=4, officer="officer2")
    await engage(kbot.services, other.case_id, goal="申請手続のオンライン化の実現")
    for day in ("2026-11-12", "2026-11-19"):
        await book(kbot.services, f"{day} 13:00", track="bpr", hours=4, case_id=other.case_id)

    await run(kbot, clock, "2026-11-19 10:00")
    assert goal_pings(kbot) == []  # two held sessions so far (the cancelled one not counted)

    await book(kbot.services, "2026-11-20 13:00", track="bpr", hours=4, case_id=first.case_id)
    await run(kbot, clock, "2026-11-20 16:59")
    assert goal_pings(kbot) == []  # the third session has not ended
    await run(kbot, clock, "2026-11-20 17:00")
    assert goal_pings(kbot) == []  # ended, but the office has closed
    await run(kbot, clock, "2026-11-21 10:00")  # Saturday
    await run(kbot, clock, "2026-11-23 10:00")  # 勤労感謝の日
    assert goal_pings(kbot) == []

    await run(kbot, clock, "2026-11-24 09:00")
    (ping,) = goal_pings(kbot)
    assert f"・{first.case_no} 熊本市（3回実施、3回目 2026年11月20日(金)）" in ping
    assert other.case_no not in ping

    await run(kbot, clock, "2026-11-24 09:00")  # the same pass again (a restart, a replica)
    await run(kbot, clock, "2026-11-25 10:00")
    assert len(goal_pings(kbot)) == 1
    async with kbot.services.db.transaction() as s:  # type: ignore[attr-defined]
        keys = (
            await s.scalars(select(ReminderLedger.key).where(ReminderLedger.step == "goal"))
        ).all()
    assert keys == [f"goal:{first.case_id}"]


# --- the matrix ----------------------------------------------------------------------------------


async def _open_case(services: Any, code: str, track: str, now: dt.datetime) -> Case:
    async with services.db.transaction() as s:
        return await case_store.create(
            s,
            program_id=services.profile.id,
            prefix=services.profile.case_prefix,
            year=services.profile.fiscal_year,
            track_id=track,
            municipality_code=code,
            now=now,
            description="窓口業務のBPR",
            status="received",
        )


async def _three_engagements(services: Any, now: dt.datetime) -> tuple[Case, Case, Case]:
    """Hand-counted: 熊本市 at stage 3 (1 met, 2 no KPI, 3 not yet), 八代市 engaged with no
    stage yet, 人吉市 at stage 1 (met); a consultation of 荒尾市 without engagement."""
    a = await _open_case(services, "431001", "bpr", now)
    b = await _open_case(services, "432024", "bpr", now)
    c = await _open_case(services, "432032", "bpr", now)
    await _open_case(services, "432041", "soudan", now)
    for case in (a, b, c):
        await engage(services, case.id, goal="手続のオンライン化の実現")
    async with services.db.transaction() as s:
        for case, marks in ((a, ((1, True), (2, None), (3, False))), (c, ((1, True),))):
            loaded = await s.get(Case, case.id)
            assert loaded is not None
            for stage, met in marks:
                await stage_store.record_stage(
                    s, loaded, stage, met, session_id=None, recorded_by="事務局", now=now
                )
    return a, b, c


async def test_matrix_in_status_and_json(kbot: ChatBot, clock: FixedClock) -> None:
    """The consultation without engagement is not in the matrix."""
    services: Any = kbot.services
    a, _, _ = await _three_engagements(services, clock.now())

    async with services.db.transaction() as s:
        ctx = system_context(services, s)
        data = json.loads(await status_json_text(ctx))
        text = await status_text(ctx)

    stages = data["stages"]
    assert stages["name"] == MODEL and stages["goal_set_by_session"] == 3
    assert [(x["number"], x["reached"], x["kpi_met"]) for x in stages["stages"]] == [
        (1, 2, 2),
        (2, 1, 0),
        (3, 1, 0),
        (4, 0, 0),
        (5, 0, 0),
        (6, 0, 0),
    ]
    assert stages["stages"][1]["kpi"] is None
    rows = {r["municipality_name"]: r for r in stages["matrix"]}
    assert list(rows) == ["熊本市", "八代市", "人吉市"]
    assert rows["熊本市"]["case_id"] == a.case_no and rows["熊本市"]["current_stage"] == 3
    assert [(x["reached"], x["kpi_met"]) for x in rows["熊本市"]["stages"]] == [
        (True, True),
        (True, None),
        (True, False),
        (False, None),
        (False, None),
        (False, None),
    ]
    assert rows["八代市"]["current_stage"] is None
    assert not any(x["reached"] for x in rows["八代市"]["stages"])
    assert [x["kpi_met"] for x in rows["人吉市"]["stages"]][:2] == [True, None]

    assert f"■ {MODEL}（対象3団体）" in text
    assert f"・{STAGE1}: 3団体中 到達2・KPI達成2" in text
    assert f"・{STAGE2}: 3団体中 到達1" in text


def _table_rows(slide: Any) -> list[list[str]]:
    (table,) = [sh.table for sh in slide.shapes if sh.has_table]
    return [[cell.text for cell in row.cells] for row in table.rows]


async def test_the_summary_deck_draws_the_matrix(kbot: ChatBot, clock: FixedClock) -> None:
    services: Any = kbot.services
    await _three_engagements(services, clock.now())
    profile = services.profile
    period = deck.default_period("summary", profile, clock.now().date())
    async with services.db.transaction() as s:
        data = await deck.load_deck_data(
            s, profile, services.calendar, clock.now(), "summary", period
        )
    prs = Presentation(io.BytesIO(deck.build_deck(data)[0]))
    (slide,) = [
        x
        for x in prs.slides
        if x.shapes.title is not None and heading(x) == "支援段階の到達状況（市町村×ステップ）"
    ]
    assert _table_rows(slide) == [
        ["市町村", "現在", *(f"ステップ{n}" for n in range(1, 7))],
        ["熊本市", "ステップ3", "○", "○", "△", "—", "—", "—"],
        ["八代市", "－", "—", "—", "—", "—", "—", "—"],
        ["人吉市", "ステップ1", "○", "—", "—", "—", "—", "—"],
    ]
    texts = [sh.text_frame.text for sh in slide.shapes if sh.has_text_frame]
    assert any("ステップ1: 到達2・KPI達成2" in x for x in texts)
    assert any(x.startswith("○ 到達・KPI達成") for x in texts)


async def test_kumamoto_completion_report_shows_the_stages(db: Any) -> None:
    """熊本 §2.5(3) 事業実施内容: the BPR process table among its slides (no data yet)."""
    from tests.test_completion_outline import _completion, _slides

    slides = _slides(await _completion(db, load_profile("kumamoto-2026")))
    (page,) = [
        x for x in slides if x[0] == "事業実施内容: BPR支援プロセスの到達状況（市町村×ステップ）"
    ]
    assert any(x.endswith("伴走支援の対象市町村はまだ記録されていません。") for x in page)


# --- demo data ------------------------------------------------------------------------------------


@pytest.mark.parametrize("program_id", ["kumamoto-2026", "nagano-2024"])
async def test_demo_engagements_are_at_varied_stages(db_url: str, program_id: str) -> None:
    """`make run`: the matrix has engaged municipalities at several stages, KPIs met and not
    yet; Kumamoto's demo has an engagement without a goal past its 3rd session, and the
    reminder pass tells the staff once (2026-11-16 is a Monday, a 開庁日)."""
    from bot.app import remind_once
    from bot.demo import seed_with_demo
    from tests.test_demo_data import NOW

    settings = Settings(_env_file=None, DATABASE_URL=db_url, DXBOT_PROGRAM=program_id)  # type: ignore[call-arg]
    clock = FixedClock(NOW)
    services: Any = build_services(settings, clock=clock)
    try:
        async with services.db.transaction() as s:
            await seed_with_demo(s, services.profile, NOW)
        async with services.db.transaction() as s:
            data = json.loads(await status_json_text(system_context(services, s)))
        rows = data["stages"]["matrix"]
        current = [r["current_stage"] for r in rows if r["current_stage"] is not None]
        assert len(rows) >= 3 and len(set(current)) >= 2, rows
        # The demo shows both outcomes a prefecture official must tell apart: a KPI met and one
        # not yet met.
        kpi_answers = {c["kpi_met"] for r in rows for c in r["stages"]}
        assert {True, False} <= kpi_answers, rows

        report = await remind_once(services)
        goals = [x for x in report.sent if x.startswith("staff goal")]
        if program_id == "kumamoto-2026":
            assert len(goals) >= 1
            assert not [x for x in (await remind_once(services)).sent if "goal" in x]
        else:
            assert goals == []  # Nagano's seed sets no session for a goal
    finally:
        await services.db.dispose()
