"""The completion report's outline is profile data (``completion_report``): a profile that
reorders and shortens it gets a deck with exactly its sections, titles and sentences; a section
of a kind the deck cannot draw, or sentences where no slide shows them, are refused in the
loader's words; a profile without an outline gets the generic one."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from pptx import Presentation
from pptx.presentation import Presentation as PresentationT

from reminders.calendar import BusinessCalendar
from reports import deck
from store.db import Database
from store.profiles import ProfileError, ProgramProfile, load_profile, parse_profile
from store.seed import seed_program
from tests.test_deck import heading
from tests.test_status import NOW

YAMAGATA_YAML = (Path(__file__).parents[1] / "store" / "profiles" / "yamagata-2026.yaml").read_text(
    encoding="utf-8"
)


def _yamagata_with(outline: Any) -> ProgramProfile:
    """Yamagata's profile, its completion_report replaced (None: removed), parsed the way the
    loader parses any file."""
    raw = yaml.safe_load(YAMAGATA_YAML)
    if outline is None:
        del raw["completion_report"]
    else:
        raw["completion_report"] = outline
    return parse_profile(yaml.safe_dump(raw, allow_unicode=True), "tmp/yamagata-2026.yaml")


async def _completion(db: Database, profile: ProgramProfile) -> PresentationT:
    async with db.transaction() as s:
        await seed_program(s, profile, NOW)
    cal = BusinessCalendar(profile.closed_days)
    period = deck.default_period("completion", profile, NOW.date())
    async with db.transaction() as s:
        data = await deck.load_deck_data(s, profile, cal, NOW, "completion", period)
    content, _ = deck.build_deck(data)
    return Presentation(io.BytesIO(content))


def _slides(prs: PresentationT) -> list[list[str]]:
    """Each slide's texts, its section heading first (the kicker above a finding title)."""
    return [
        [heading(slide)]
        + [
            sh.text_frame.text
            for sh in slide.shapes
            if sh.has_text_frame and sh.name != "Kicker" and sh != slide.shapes.title
        ]
        for slide in prs.slides
    ]


async def test_a_reordered_shortened_outline_gives_exactly_those_sections(db: Database) -> None:
    profile = _yamagata_with(
        {
            "title": "DX推進体制 検証報告書",
            "sections": [
                {
                    "id": "intro",
                    "title": "はじめに",
                    "content": "text",
                    "text": ["本報告は県と市町村の意見交換会で共有する。", "数値は11月16日時点。"],
                },
                {"id": "proposals", "title": "県への提案", "content": "proposals"},
                {
                    "id": "results",
                    "title": "実績",
                    "slides": [
                        {"content": "kpis", "title": "実績: 目標に対する実績"},
                        {"content": "municipalities"},  # no title: the section's
                    ],
                },
                {"id": "appendix", "title": "付録", "content": "sessions_appendix"},
            ],
        }
    )
    slides = _slides(await _completion(db, profile))
    assert [s[0] for s in slides] == [
        "DX推進体制 検証報告書（中間）",
        "目次",
        "はじめに",
        "県への提案",
        "実績: 目標に対する実績",
        "実績",
        "付録",
    ]
    assert slides[1][1].splitlines() == ["はじめに", "県への提案", "実績", "付録"]
    assert slides[2][1].splitlines() == [  # the profile's sentences, one bullet each
        "・本報告は県と市町村の意見交換会で共有する。",
        "・数値は11月16日時点。",
    ]
    assert slides[5][1] == "・対象期間に実施した支援はありません"  # no sessions: said, no table


async def test_a_profile_without_an_outline_gets_the_generic_one(db: Database) -> None:
    slides = _slides(await _completion(db, _yamagata_with(None)))
    assert [s[0] for s in slides] == [
        "事業完了報告書（中間）",
        "目次",
        "事業概要",
        "目標に対する実績",
        "月別の支援実施件数",
        "相談の分野",
        "支援した市町村",
        "会議・行事と成果物",  # the profile's events and deliverables (reports/deck/events.py)
        "専門人材の稼働と公平性",
        "主な成果（支援実施報告より）",
        "課題と学び",
        "アンケート結果",
        "今後の進め方",
        "付録: 支援実施一覧",
    ]


def test_an_unknown_section_kind_is_refused_naming_the_field_and_the_known_kinds() -> None:
    outline = {"sections": [{"id": "gantt", "title": "工程表", "content": "gantt_chart"}]}
    with pytest.raises(ProfileError) as err:
        _yamagata_with(outline)
    assert str(err.value) == (
        "Profile tmp/yamagata-2026.yaml is invalid: field 'completion_report.sections.0.content':"
        " Input should be 'overview', 'kpis', 'monthly_trend', 'domains', 'municipalities',"
        " 'experts', 'expert_pool', 'highlights', 'issues', 'surveys', 'joint_work', 'structure',"
        " 'roadmap', 'proposals', 'next_steps', 'sessions_appendix',"
        " 'engagements', 'stages', 'events', 'text', 'daily_reports', 'progress_by_municipality',"
        " 'survey_comments' or 'stage_kpis'"
    )


@pytest.mark.parametrize(
    ("outline", "problem"),
    [
        (
            {"sections": [{"id": "a", "title": "概要", "content": "overview", "text": ["文"]}]},
            "field 'completion_report.sections.0': Value error, 'text' is only for content"
            " 'text' or 'structure', not 'overview'",
        ),
        (
            {"sections": [{"id": "a", "title": "はじめに", "content": "text"}]},
            "field 'completion_report.sections.0': Value error, content 'text' needs the"
            " sentences in 'text'",
        ),
        (
            {"sections": [{"id": "a", "title": "概要"}]},
            "field 'completion_report.sections.0': Value error, give either 'content' (one"
            " slide) or 'slides', not both or neither",
        ),
        (
            {
                "sections": [
                    {"id": "a", "title": "概要", "content": "overview"},
                    {"id": "a", "title": "実績", "content": "kpis"},
                ]
            },
            "field 'completion_report': Value error, section ids must be unique, got ['a', 'a']",
        ),
        (
            {"sections": []},
            "field 'completion_report.sections': Tuple should have at least 1 item after"
            " validation, not 0",
        ),
    ],
)
def test_a_malformed_outline_is_refused_in_the_loaders_words(outline: Any, problem: str) -> None:
    with pytest.raises(ProfileError) as err:
        _yamagata_with(outline)
    assert str(err.value) == f"Profile tmp/yamagata-2026.yaml is invalid: {problem}"


async def test_kumamoto_completion_follows_its_jisseki_houkokusho(db: Database) -> None:
    """熊本 §2.5(3) 実績報告書: 事業概要、事業実施体制、事業実施スケジュール、事業実施内容, with
    the 支援計画書 (as the list of engagements) and the 業務日報 attached — declared in its
    profile, not coded."""
    slides = _slides(await _completion(db, load_profile("kumamoto-2026")))
    assert slides[0][0] == "実績報告書（中間）"  # built before the term's end
    assert slides[1][1].splitlines() == [
        "事業概要",
        "事業実施体制",
        "事業実施スケジュール",
        "事業実施内容",
        "添付: 市町村毎の支援計画書（テーマ・取組目標・ステップ）",
        "添付: 業務日報",
        "添付: 支援実施一覧",
    ]
    assert len(slides) - 1 >= 10  # ten body slides or more, even before any session
