"""The section kinds the programs' own report outlines add (each profile's notes cite the
specification's section):

- ``daily_reports`` — 業務日報 (Kumamoto §2.5(2)): per session held, 日時・場所, 市町村職員,
  相談概要・対応内容, 課題・対応方針, 次回予定, from the session reports;
- ``progress_by_municipality`` — per municipality 進捗状況・課題事項・対策・対応状況 (Miyazaki
  §6(1)イ(イ), the 月次作業報告書);
- ``survey_comments`` — the surveys' free comments, masked as in the 相談事例集 (Saitama
  §6(6)キ: アンケート結果は完了報告書内で報告);
- ``stage_kpis`` — each stage of the stage model with its KPI and how many municipalities
  reached it and met it (Nagano's steps 0–3).

Each is a paged table (reports/deck/tables.py) or, without data, one line saying so.
"""

from __future__ import annotations

from collections import defaultdict

from pptx.slide import Slide

from bot.core.catalog import t
from reminders.calendar import format_jp
from reports.deck.builder import BODY, Box, DeckBuilder
from reports.deck.data import DeckData, in_jst
from reports.engagement_view import stage_label
from store.reporting import SessionRow


def _field(r: SessionRow, *keys: str) -> str:
    values = [" ".join(str((r.report or {}).get(k) or "").split()) for k in keys]
    return "\n".join(v for v in values if v) or "－"


def _reported(d: DeckData) -> list[SessionRow]:
    return sorted((r for r in d.held if r.report), key=lambda r: r.starts_at)


DAILY_LIMIT = 150  # about 25 slides; the rest counted and left to `dxbot export reports`


def slide_daily_reports(b: DeckBuilder, d: DeckData, title: str) -> None:
    every = _reported(d)
    if not every:
        b.text(b.slide(title), [t("deck_none_daily")])
        return
    rows = every[-DAILY_LIMIT:]  # the latest
    table = [
        [
            t(
                "deck_when_cell",
                date=format_jp(in_jst(r.starts_at).date()),
                time=f"{in_jst(r.starts_at):%H:%M}–{in_jst(r.ends_at):%H:%M}",
                place=r.place or t(f"sv_method_{r.method}")
                if r.method in ("online", "onsite")
                else r.place or r.method,
            ),
            "・".join(r.municipality_names),
            _field(r, "attendees"),
            _field(r, "summary", "response"),
            _field(r, "issues", "policy"),
            _field(r, "next_plan"),
        ]
        for r in rows
    ]
    headers = [
        t(k)
        for k in (
            "deck_col_when",
            "deck_col_municipality",
            "deck_col_attendees",
            "deck_col_summary_response",
            "deck_col_issues_policy",
            "deck_col_next_plan",
        )
    ]
    more = len(every) - len(rows)
    box = Box(BODY.left, BODY.top, BODY.width, BODY.height - (0.45 if more else 0))

    def decorate(slide: Slide, n: int, pages: int) -> None:
        if more and n == 1:
            note = t(
                "deck_daily_more",
                n=more,
                shown=len(rows),
                first=format_jp(in_jst(rows[0].starts_at).date()),
            )
            b.text(slide, [note], Box(0.6, 6.5, 12.13, 0.4), size=12, bullet=False)

    b.paged_table(title, headers, table, box, size=9, decorate=decorate)


def slide_progress(b: DeckBuilder, d: DeckData, title: str) -> None:
    by_muni: dict[str, list[SessionRow]] = defaultdict(list)
    names: dict[str, str] = {}
    for r in d.held:
        for code, name in r.municipalities:
            by_muni[code].append(r)
            names[code] = name
    if not by_muni:
        b.text(b.slide(title), [t("deck_none_progress")])
        return
    stages: dict[str, int | None] = {}
    if d.stages is not None:
        for row in d.stages.rows:
            stages.setdefault(row.municipality_code, row.stage)
    today = in_jst(d.now).date()
    table = []
    for code in sorted(by_muni, key=lambda c: (-len(by_muni[c]), c)):
        rows = sorted(by_muni[code], key=lambda r: r.starts_at)
        last = rows[-1]
        stage = stages.get(code)
        stage_text = f"\n{stage_label(d.profile, stage)}" if stage is not None else ""
        if last.report_submitted_at is not None:
            state = t("deck_report_done", date=in_jst(last.report_submitted_at).strftime("%m/%d"))
        else:
            state = t("deck_report_overdue" if last.report_due < today else "deck_report_pending")
        table.append(
            [
                names[code],
                t(
                    "deck_progress_cell",
                    n=len(rows),
                    date=format_jp(in_jst(last.starts_at).date()),
                    stage=stage_text,
                ),
                _field(last, "issues"),
                _field(last, "policy"),
                t("deck_status_cell", state=state, next=_field(last, "next_plan")),
            ]
        )
    headers = [
        t("deck_col_municipality"),
        t("deck_col_progress"),
        t("deck_col_issue_items"),
        t("deck_col_measures"),
        t("deck_col_status_now"),
    ]
    b.paged_table(title, headers, table, BODY, size=10)


def slide_survey_comments(b: DeckBuilder, d: DeckData, title: str) -> None:
    if not d.comments:
        b.text(b.slide(title), [t("deck_none_comments")])
        return
    table = [
        [c.municipality, str(c.satisfaction) if c.satisfaction else "－", c.text]
        for c in d.comments
    ]
    headers = [t("deck_col_municipality"), t("deck_col_satisfaction"), t("deck_col_comment")]
    b.paged_table(title, headers, table, BODY, size=11)


def slide_stage_kpis(b: DeckBuilder, d: DeckData, title: str) -> None:
    m = d.stages
    if m is None or not m.rows:
        b.text(b.slide(title), [t("deck_none_stage_kpis")])
        return
    table = [
        [
            t("stage_label", number=c.stage.number, name=c.stage.name),
            c.stage.kpi or "－",
            str(c.reached),
            str(c.kpi_met),
        ]
        for c in m.counts
    ]
    headers = [
        t("deck_col_stage"),
        t("deck_col_kpi"),
        t("deck_col_reached"),
        t("deck_col_kpi_met"),
    ]
    b.paged_table(title, headers, table, BODY, size=12)
