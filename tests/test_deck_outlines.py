"""Each program's own report outline, from its profile, on its demo data (SQLite and
PostgreSQL): Kumamoto's 業務日報 pages from the session reports and its BPR steps, Nagano's steps
0–3 with each step's KPI and no target chart (it has no targets), Miyazaki's monthly report with
the four headings per municipality, Saitama's completion report with the survey comments masked;
an interim report marked 中間 and a final one not; issues grouped by category, not by wording."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

from pptx import Presentation

from bot.demo import seed_demo
from reminders.calendar import BusinessCalendar
from reports import deck
from store import reporting, sessions
from store.db import Database
from store.profiles import ProgramProfile, load_profile
from store.seed import seed_program
from tests.test_deck import heading
from tests.test_deck_render import after_term, mid_term


async def _seeded(db: Database, program: str) -> ProgramProfile:
    profile = load_profile(program)
    async with db.transaction() as s:
        await seed_program(s, profile, mid_term(profile))
        await seed_demo(s, profile, mid_term(profile))
    return profile


async def _build(
    db: Database, profile: ProgramProfile, kind: deck.DeckKind, now: dt.datetime
) -> tuple[deck.DeckData, Any]:
    async with db.transaction() as s:
        data = await deck.load_deck_data(
            s,
            profile,
            BusinessCalendar(profile.closed_days),
            now,
            kind,
            deck.default_period(kind, profile, now.date()),
        )
    return data, Presentation(io.BytesIO(deck.build_deck(data)[0]))


def _tables(prs: Any, heading_text: str) -> list[list[list[str]]]:
    return [
        [[c.text for c in row.cells] for row in sh.table.rows]
        for slide in prs.slides
        if heading(slide) == heading_text
        for sh in slide.shapes
        if sh.has_table
    ]


def _text(prs: Any) -> str:
    out = []
    for slide in prs.slides:
        for sh in slide.shapes:
            if sh.has_text_frame:
                out.append(sh.text_frame.text)
            if sh.has_table:
                out += [c.text for row in sh.table.rows for c in row.cells]
    return "\n".join(out)


async def test_kumamoto_daily_reports_and_steps(db: Database) -> None:
    profile = await _seeded(db, "kumamoto-2026")
    data, prs = await _build(db, profile, "completion", mid_term(profile))
    assert prs.slides[0].shapes.title.text_frame.text == "実績報告書（中間）"
    pages = _tables(prs, "添付: 業務日報")
    assert pages, "the 業務日報 pages"
    assert pages[0][0] == [
        "日時・場所",
        "市町村",
        "市町村職員",
        "相談概要・対応内容",
        "課題・対応方針",
        "次回予定",
    ]
    reported = [r for r in data.held if r.report]
    rows = [row for page in pages for row in page[1:]]
    assert len(rows) == min(len(reported), 150)
    first = sorted(reported, key=lambda r: r.starts_at)[0]
    assert first.report is not None
    assert rows[0][2] == first.report["attendees"]
    assert first.report["next_plan"] in rows[0][5]
    steps = _tables(prs, "事業実施内容: BPR支援プロセス各ステップの到達")[0]
    assert [r[0] for r in steps[1:]] == [
        f"ステップ{st.number} {st.name}"
        for st in profile.stage_model.stages  # type: ignore[union-attr]
    ]
    # Issues by category (the domain taxonomy), never one line per identical wording.
    issues = data.issues
    assert issues and len({g.category for g in issues}) == len(issues)
    assert sum(g.n for g in issues) <= len(reported)


async def test_nagano_steps_kpis_and_no_target_chart(db: Database) -> None:
    profile = await _seeded(db, "nagano-2024")
    _, prs = await _build(db, profile, "completion", after_term(profile))
    assert prs.slides[0].shapes.title.text_frame.text == "業務報告書"  # the term is over
    headings = [heading(s) for s in prs.slides]
    assert "DX全体手順: 市町村×ステップの到達状況" in headings
    kpis = _tables(prs, "DX全体手順: ステップごとのKPI")[0]
    assert kpis[0] == ["ステップ", "KPI", "到達", "KPI達成"]
    model = profile.stage_model
    assert model is not None
    assert [r[1] for r in kpis[1:]] == [st.kpi for st in model.stages]
    # No target, no minimum: no target chart, the figures as sentences.
    charts = [sh.chart for s in prs.slides for sh in s.shapes if sh.has_chart]
    assert not [c for c in charts if list(c.plots[0].categories) == ["人材派遣"]]
    kpi_slide = next(s for s in prs.slides if heading(s) == "支援の実績: 派遣回数")
    assert re.search(r"人材派遣は\d+回", kpi_slide.shapes.title.text_frame.text)


async def test_miyazaki_monthly_four_headings_per_municipality(db: Database) -> None:
    profile = await _seeded(db, "miyazaki-2025")
    now = mid_term(profile)
    data, prs = await _build(db, profile, "monthly", now)
    month = data.period.start
    assert prs.slides[0].shapes.title.text_frame.text == (
        f"月次作業報告書（{month.year}年{month.month}月）"
    )
    pages = _tables(prs, "市町村別: 進捗状況・課題事項・対策・対応状況")
    assert pages[0][0] == ["市町村", "進捗状況", "課題事項", "対策", "対応状況"]
    munis = {name for r in data.held for _, name in r.municipalities}
    assert {row[0] for page in pages for row in page[1:]} == munis


async def test_saitama_completion_shows_the_survey_comments_masked(db: Database) -> None:
    profile = await _seeded(db, "saitama-2026")
    now = mid_term(profile)
    async with db.transaction() as s:
        rows = await reporting.sessions_between(s, profile.id, None, None, with_reports=True)
        target = next(r for r in rows if r.report and not r.survey_answered and r.expert_names)
        name = target.expert_names[0]
        await sessions.add_survey(
            s,
            target.id,
            respondent_user_id=None,
            satisfaction=5,
            resolved="resolved",
            comment=f"{name}さんの説明が分かりやすかった。連絡は taro@example.jp まで",
            requested_at=now - dt.timedelta(days=3),
            answered_at=now - dt.timedelta(days=2),
        )
    data, prs = await _build(db, profile, "completion", now)
    pages = _tables(prs, "市町村アンケート: 自由記述")
    assert pages and pages[0][0] == ["市町村", "満足度", "自由記述"]
    comments = [row[2] for page in pages for row in page[1:]]
    assert len(comments) == len(data.comments) >= 1
    mine = next(c for c in comments if "説明が分かりやすかった" in c)
    assert name not in mine and "taro@example.jp" not in mine
