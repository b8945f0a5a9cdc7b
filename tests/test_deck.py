"""Decks: each kind re-opened with python-pptx (16:9, slide count, native charts and their types,
tables, no empty placeholder, Japanese text with a:ea in schema order, figures that match the
rows), the Yamagata completion outline §3(3) ①–⑦, role scoping and the chat round trip, the CLI,
the LLM narrative with its fallback, and (where LibreOffice is installed) conversion to PDF."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE
from pptx.presentation import Presentation as PresentationT

from bot.core.errors import UserError
from bot.demo import seed_demo
from handlers.deck import parse_request
from reports import deck
from reports.status import Period
from store.db import Database
from store.profiles import load_profile
from store.seed import seed_program
from tests.conftest import ChatBot
from tests.test_status import CAL, NOW, PROFILE, build_world, run_cli

A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
AFTER_EA = {f"{A}cs", f"{A}sym", f"{A}hlinkClick", f"{A}hlinkMouseOver", f"{A}rtl", f"{A}extLst"}
BEFORE_LATIN = {
    f"{A}ln",
    f"{A}solidFill",
    f"{A}noFill",
    f"{A}gradFill",
    f"{A}effectLst",
    f"{A}highlight",
}


async def _deck(
    db: Database, kind: deck.DeckKind, period: Period | None = None, profile: Any = PROFILE
) -> tuple[deck.DeckData, PresentationT, bytes]:
    async with db.transaction() as s:
        data = await deck.load_deck_data(
            s, profile, CAL, NOW, kind, period or deck.default_period(kind, profile, NOW.date())
        )
    content, slides = deck.build_deck(data)
    prs = Presentation(io.BytesIO(content))
    assert len(prs.slides) == slides
    return data, prs, content


def _texts(prs: PresentationT) -> list[str]:
    out = []
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                out.append(shape.text_frame.text)
            if shape.has_table:
                out += [c.text for row in shape.table.rows for c in row.cells]
    return out


def heading(slide: Any) -> str:
    """The slide's section heading: the kicker above a title that states the finding, else
    the title itself."""
    kicker = [sh for sh in slide.shapes if sh.name == "Kicker"]
    if kicker:
        return str(kicker[0].text_frame.text)
    return str(slide.shapes.title.text_frame.text)


def _titles(prs: PresentationT) -> list[str]:
    return [heading(slide) for slide in prs.slides if slide.shapes.title is not None]


def _charts(prs: PresentationT) -> list[Any]:
    return [sh.chart for slide in prs.slides for sh in slide.shapes if sh.has_chart]


def _check_ea(elements: Iterable[Any], where: str) -> int:
    """Every text property element names a Japanese face in a:ea, placed after a:latin and
    before a:cs/a:sym/a:hlinkClick (the schema's order)."""
    n = 0
    for rpr in elements:
        tags = [child.tag for child in rpr]
        assert f"{A}ea" in tags, f"{where}: no a:ea in {etree.tostring(rpr)[:200]!r}"
        ea, latin = tags.index(f"{A}ea"), tags.index(f"{A}latin")
        assert latin < ea, where
        assert all(tag not in AFTER_EA for tag in tags[:ea]), where
        assert all(tag not in BEFORE_LATIN for tag in tags[latin + 1 :]), where
        assert rpr.find(f"{A}ea").get("typeface") == deck.FONT
        n += 1
    return n


def check_pptx(prs: PresentationT) -> None:
    assert prs.slide_width * 9 == prs.slide_height * 16  # 16:9
    runs = 0
    for i, slide in enumerate(prs.slides, start=1):
        for ph in slide.placeholders:  # never an empty placeholder ("Click to add text")
            assert ph.has_text_frame and ph.text_frame.text.strip(), f"slide {i}: empty {ph.name}"
        xml = slide._element
        runs += _check_ea(xml.iter(f"{A}rPr"), f"slide {i} run")
        _check_ea(xml.iter(f"{A}endParaRPr"), f"slide {i} paragraph end")
        for sh in slide.shapes:
            if sh.has_chart:
                space = sh.chart._chartSpace
                c = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
                assert space.find(f"{c}txPr") is not None, "chart text properties"
                for tx in space.iter(f"{c}txPr"):
                    _check_ea(tx.iter(f"{A}defRPr"), f"slide {i} chart")
                for axis in [*space.iter(f"{c}catAx"), *space.iter(f"{c}valAx")]:
                    assert axis.find(f"{c}txPr") is not None, "axis text properties"
                for labels in space.iter(f"{c}dLbls"):
                    assert labels.find(f"{c}txPr") is not None, "data label text properties"
    assert runs > 50
    assert any(JAPANESE.search(t) for t in _texts(prs))


CHARTS = Counter(
    {
        XL_CHART_TYPE.BAR_CLUSTERED: 2,  # domains, survey resolution
        XL_CHART_TYPE.COLUMN_STACKED: 1,  # monthly trend
        XL_CHART_TYPE.COLUMN_CLUSTERED: 2,  # KPIs (targets as marks on a line plot), experts
        XL_CHART_TYPE.PIE: 1,  # satisfaction
    }
)


@pytest.mark.parametrize("kind", deck.KINDS)
async def test_each_kind_reopens_with_native_charts_and_japanese_fonts(
    db: Database, kind: deck.DeckKind
) -> None:
    async with db.transaction() as s:
        w = await build_world(s)
    period = Period(dt.date(2026, 10, 1), dt.date(2026, 10, 31)) if kind == "monthly" else None
    data, prs, _ = await _deck(db, kind, period)
    check_pptx(prs)
    expected = Counter(CHARTS)
    start, end = data.period.bounds()
    if not any(start <= opened < end for opened in w.opened):
        expected[XL_CHART_TYPE.BAR_CLUSTERED] -= (
            1  # no case opened in the period: a sentence instead
        )
        assert "対象期間に受け付けた相談はありません" in "\n".join(_texts(prs))
    assert Counter(c.chart_type for c in _charts(prs)) == expected
    titles = _titles(prs)
    assert len(titles) == len(prs.slides)
    body = len(prs.slides) - 1
    assert body >= (11 if kind == "completion" else 10)
    first = prs.slides[0].shapes.title.text_frame.text
    assert (
        first
        == {
            "summary": "実施状況報告",
            "monthly": "月例業務報告（2026年10月）",
            "completion": "完了報告書（中間）",  # the profile's title, before the term end
        }[kind]
    )
    # The appendix lists every live session of the period, and nothing else.
    live = [s for _, s in w.live() if start <= s.starts < end]
    appendix = [
        sh.table
        for slide in prs.slides
        if "付録" in slide.shapes.title.text_frame.text
        for sh in slide.shapes
        if sh.has_table
    ]
    assert sum(len(t.rows) - 1 for t in appendix) == len(live)


async def test_kpi_chart_figures_match_the_rows(db: Database) -> None:
    async with db.transaction() as s:
        w = await build_world(s)
    _, prs, _ = await _deck(db, "summary")
    labels = {tr.label for tr in PROFILE.tracks}
    kpi = next(c for c in _charts(prs) if set(c.plots[0].categories) == labels)
    cats = list(kpi.plots[0].categories)
    held = dict(zip(cats, kpi.plots[0].series[0].values, strict=True))
    # The targets are marks on a line plot over the bars (no line, a dash marker), not bars.
    assert [len(p.series) for p in kpi.plots] == [1, 2]
    assert kpi.plots[1].series[0].format.line.fill.type is not None
    goals = dict(zip(cats, kpi.plots[1].series[0].values, strict=True))
    for track in PROFILE.tracks:
        expected = len([1 for c, s in w.live() if c.track == track.id and s.ends <= NOW])
        label = track.label  # the profile's short label, never a name cut mid-word
        assert held[label] == expected, track.id
        assert goals[label] == track.target
    # Counts on an integer axis titled with its unit.
    assert kpi.value_axis.major_unit == int(kpi.value_axis.major_unit) >= 1
    assert kpi.value_axis.axis_title.text_frame.text == "実施件数（件）"
    trend = next(c for c in _charts(prs) if c.chart_type == XL_CHART_TYPE.COLUMN_STACKED)
    assert sum(sum(s.values) for s in trend.plots[0].series) == len(
        [1 for _, s in w.live() if s.ends <= NOW]
    )
    experts = next(
        c
        for c in _charts(prs)
        if c.chart_type == XL_CHART_TYPE.COLUMN_CLUSTERED and set(c.plots[0].categories) != labels
    )
    end = deck.default_period("summary", PROFILE, NOW.date()).bounds()[1]
    per_expert = Counter({f"expert{i}": 0 for i in range(1, 9)})
    per_expert.update(e for _, s in w.live() if s.starts < end for e in s.experts)
    assert sorted(experts.plots[0].series[0].values) == sorted(per_expert.values())


async def test_yamagata_completion_follows_section_3_3(db: Database) -> None:
    profile = load_profile("yamagata-2026")
    async with db.transaction() as s:
        await seed_program(s, profile, NOW)
        await seed_demo(s, profile, NOW)
    _, prs, _ = await _deck(db, "completion", profile=profile)
    check_pptx(prs)
    assert len(prs.slides) - 1 >= 10
    titles = _titles(prs)
    marks = [next((m for m in "①②③④⑤⑥⑦" if t.startswith(m)), None) for t in titles]
    order = [m for m in marks if m]
    assert sorted(set(order)) == list("①②③④⑤⑥⑦")
    assert order == sorted(order)  # the seed's order
    contents = "\n".join(_texts(prs)[:3])
    assert "① 検証の目的・対象範囲" in "\n".join(_texts(prs))
    assert "事業完了報告書" in contents
    assert len(_charts(prs)) >= 5
    # The outline is the profile's completion_report: each slide's section heading in order
    # (a section over several pages once per page, its pages numbered on the titles).
    paged = [re.sub(r"（\d+/\d+）$", "", x) for x in titles]
    assert [x for i, x in enumerate(paged) if i == 0 or paged[i - 1] != x] == [
        "事業完了報告書（中間）",
        "目次",
        "① 検証の目的・対象範囲",
        "② 支援の実績（定量）: 目標に対する実績",
        "② 支援の実績（定量）: 月別の実施件数",
        "② 支援内容: 相談の分野",
        "② 支援内容: 支援した市町村",
        "② 支援の効果（定性）: 支援実施報告より",
        "② 支援の効果: 市町村アンケート",
        "③ 人材確保・運用（人材プール機能）の仕組み案と課題・改善案",
        "④ 複数市町村での協働取組（共同調達・運用等）の有効性と課題",
        "⑤ 実行可能な推進体制（役割分担・ガバナンス・意思決定・費用負担）",
        "⑥ 推進体制の本格展開に向けたロードマップ",
        "⑦ 県の取組み方針への反映提案",
        "付録: 支援実施一覧",
    ]
    # The titles under those headings state what was found, against the profile's rules
    # (an interim report: the minimum's remainder, the target against the pace to date).
    findings = [s.shapes.title.text_frame.text for s in prs.slides]
    kpi = findings[titles.index("② 支援の実績（定量）: 目標に対する実績")]
    assert "相談窓口は目安" in kpi and "伴走（電子契約）は最低回数" in kpi
    joint = "\n".join(_texts(prs)[: len(_texts(prs))])
    assert "訪問が2回以上に達していません" in joint or "訪問（実施済）: " in joint
    contents_slide = [sh.text_frame.text for sh in prs.slides[1].shapes if sh.has_text_frame]
    assert contents_slide[1].splitlines() == [  # the contents slide: ①–⑦ and the appendix
        "① 検証の目的・対象範囲",
        "② 検証で実施した支援内容とその効果（定量・定性）",
        "③ 人材確保・運用（人材プール機能）の仕組み案と課題・改善案",
        "④ 複数市町村での協働取組（共同調達・運用等）の有効性と課題",
        "⑤ 実行可能な推進体制（役割分担・ガバナンス・意思決定・費用負担）",
        "⑥ 推進体制の本格展開に向けたロードマップ",
        "⑦ 県の取組み方針への反映提案",
        "付録: 支援実施一覧",
    ]
    assert (
        "費用負担の考え方: 共通基盤（相談窓口・人材プール）は県、個別の導入・運用は各団体が負担する案"
        in ("\n".join(_texts(prs)))
    )  # ⑤'s sentence, now the profile's text


async def test_no_data_slides_say_so_instead_of_placeholders(db: Database) -> None:
    async with db.transaction() as s:
        await seed_program(s, PROFILE, NOW)
    _, prs, _ = await _deck(db, "summary")
    check_pptx(prs)
    text = "\n".join(_texts(prs))
    assert "対象期間に実施した支援はありません" in text


# --- narrative -------------------------------------------------------------------------------------


class FakeLLM:
    def __init__(self, answer: deck.Narrative | None) -> None:
        self.enabled = True
        self.answer = answer
        self.calls: list[tuple[str, list[str]]] = []

    async def extract(
        self, instructions: str, text: str, schema: type, names: Iterable[str] = ()
    ) -> Any:
        self.calls.append((text, list(names)))
        return self.answer


async def test_llm_narrative_is_used_and_the_data_is_the_fallback(db: Database) -> None:
    async with db.transaction() as s:
        w = await build_world(s)
    async with db.transaction() as s:
        data = await deck.load_deck_data(
            s, PROFILE, CAL, NOW, "summary", deck.default_period("summary", PROFILE, NOW.date())
        )
    fallback = deck.highlight_lines(data)
    assert any("課題が整理され" in line for line in fallback)
    llm = FakeLLM(deck.Narrative(highlights=["  合同支援で共同調達の方針が固まった  "]))
    data.narrative = await deck.narrate(llm, data, list(w.names.values()))
    assert deck.highlight_lines(data) == ["合同支援で共同調達の方針が固まった"]
    assert deck.issue_lines(data) == deck.issue_lines(
        data.__class__(**{**data.__dict__, "narrative": None})
    )
    text, names = llm.calls[0]
    assert "課題が整理され" in text and w.names["expert1"] in names  # masked by the port
    data.narrative = await deck.narrate(FakeLLM(None), data, [])
    assert deck.highlight_lines(data) == fallback
    off = FakeLLM(deck.Narrative(highlights=["x"]))
    off.enabled = False
    assert await deck.narrate(off, data, []) is None and not off.calls


# --- periods ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kind", "start", "end"),
    [
        ("", "summary", dt.date(2026, 4, 1), dt.date(2026, 11, 16)),
        ("monthly", "monthly", dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        ("monthly 2026-09", "monthly", dt.date(2026, 9, 1), dt.date(2026, 9, 30)),
        ("月例 2026年8月", "monthly", dt.date(2026, 8, 1), dt.date(2026, 8, 31)),
        ("completion", "completion", dt.date(2026, 4, 1), dt.date(2027, 3, 31)),
        ("summary 2026-04-01 2026-09-30", "summary", dt.date(2026, 4, 1), dt.date(2026, 9, 30)),
        ("summary 10月1日", "summary", dt.date(2026, 10, 1), dt.date(2026, 11, 16)),
    ],
)
def test_deck_request_periods(args: str, kind: str, start: dt.date, end: dt.date) -> None:
    assert parse_request(args, PROFILE, NOW.date()) == (kind, Period(start, end))


@pytest.mark.parametrize(
    "args",
    [
        "summary 2026-10-01 2026-09-01",
        "summary 2020-01-01 2026-09-01",
        "summary a b c",
        "summary 明日の朝",
    ],
)
def test_deck_request_refusals(args: str) -> None:
    with pytest.raises(UserError):
        parse_request(args, PROFILE, NOW.date())


# --- through the chat ------------------------------------------------------------------------------


async def test_deck_in_chat_is_acknowledged_then_posted_back(bot: ChatBot) -> None:
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        w = await build_world(s)
    replies = await bot.say("staff1", "/deck monthly 2026-10")
    assert len(replies) == 1 and "作成しています" in replies[0].text and not replies[0].files
    files = [m for _, target, m in bot.sender.sent if target == "staff1" and m.files]
    assert len(files) == 1 and "PowerPoint" in files[0].text
    f = files[0].files[0]
    assert f.name == "saitama-2026_monthly_20261001-20261031.pptx"
    prs = Presentation(io.BytesIO(f.content))
    check_pptx(prs)
    assert prs.slides[0].shapes.title.text_frame.text == "月例業務報告（2026年10月）"
    assert w.case_nos[3] in "\n".join(_texts(prs))


async def test_officer_deck_holds_only_their_municipality(bot: ChatBot) -> None:
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        w = await build_world(s)
    replies = await bot.say("officer1", "/deck")
    assert "（さいたま市）" in replies[0].text
    f = next(m for _, target, m in bot.sender.sent if target == "officer1" and m.files).files[0]
    prs = Presentation(io.BytesIO(f.content))
    check_pptx(prs)
    rows = [
        [c.text for c in row.cells]
        for slide in prs.slides
        if "付録" in slide.shapes.title.text_frame.text
        for sh in slide.shapes
        if sh.has_table
        for row in list(sh.table.rows)[1:]
    ]
    mine = [s for c, s in w.live() if "111007" in (c.muni, *s.extra_munis) and s.day <= NOW.date()]
    assert len(rows) == len(mine)
    assert all("さいたま市" in r[2] for r in rows)
    text = "\n".join(_texts(prs))
    assert "川口市" not in text
    # Their own figures, never the program's targets, minimums or pace (issue 19 item 3).
    goals = [
        text[m.start() - 30 : m.end() + 10]
        for m in re.finditer(r"目標|目安|最低|ペース|遅れ", text)
    ]
    assert [g for g in goals if "目標に対する実績" not in g] == []
    titles = [s.shapes.title.text_frame.text for s in prs.slides]
    assert any(re.search(r"は\d+回", x) for x in titles)  # e.g. よろず相談は2回
    assert not [c for c in _charts(prs) if set(c.plots[0].categories) >= {"よろず相談"}]


async def test_deck_refused_for_experts(bot: ChatBot) -> None:
    assert "権限ではこの操作はできません" in (await bot.say("expert1", "/deck"))[0].text
    assert not [m for _, _, m in bot.sender.sent if m.files]


async def test_failed_build_is_answered_not_silent(
    bot: ChatBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_d: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(deck, "deck_file", broken)
    await bot.say("staff1", "/deck")
    texts = [m.text for _, target, m in bot.sender.sent if target == "staff1"]
    assert any("ファイルを作成できませんでした" in t for t in texts)


# --- the command line and LibreOffice --------------------------------------------------------------


async def test_cli_deck(db: Database, db_url: str, tmp_path: Path) -> None:
    async with db.transaction() as s:
        await build_world(s)
    out = tmp_path / "decks" / "monthly.pptx"
    run = run_cli(
        db_url,
        "deck",
        "--kind",
        "monthly",
        "--from",
        "2026-10-01",
        "--out",
        str(out),
        "--now",
        NOW.isoformat(),
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr.decode()
    prs = Presentation(str(out))
    check_pptx(prs)
    assert prs.slides[0].shapes.title.text_frame.text == "月例業務報告（2026年10月）"
    assert f"Wrote {len(prs.slides)} slides" in run.stdout.decode()
    bad = run_cli(db_url, "deck", "--out", str(tmp_path / "x.pdf"), cwd=tmp_path)
    assert bad.returncode == 2 and b"--out must name a .pptx file" in bad.stderr
    back = run_cli(
        db_url,
        "deck",
        "--from",
        "2026-10-01",
        "--to",
        "2026-09-01",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert back.returncode == 2 and b"--to is before --from" in back.stderr
