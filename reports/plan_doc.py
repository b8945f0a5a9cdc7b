"""The plan document of an engagement (支援計画書, 実施プラン) as an Excel workbook.

What the seeds ask to be agreed and written down per municipality — Yamagata §3(1)③ (テーマ,
到達目標, 対象範囲, 成果物), Kumamoto §2.5(1) (市町村毎の支援計画書), Saitama §6(4)ア (実施プラン)
— made from the record staff keep with `/dx engage`, with the stage reached and the sessions held
so far, so the document handed to the prefecture is always the current one. Headings are
Japanese; the title is the track's ``plan_title`` or the word for its kind, never a program id.
Every text cell is kept as text and a formula-looking one is quote-prefixed (reports/safe_cells).

Pure over store queries: ``load_plan`` reads, ``plan_file`` writes (CPU only, thread-safe).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from bot.core.catalog import t
from reminders.calendar import format_jp
from reminders.clock import JST
from reports.engagement_view import stage_label
from reports.export import ExportFile
from reports.safe_cells import DANGEROUS_FIRST
from store import engagements, reporting
from store.db import Session
from store.profiles import ProgramProfile, Track

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FONT = "Yu Gothic"
METHODS = ("online", "onsite", "email", "chat", "phone")


@dataclass(frozen=True)
class HeldSession:
    day: dt.date
    method: str
    experts: tuple[str, ...]
    hours: float


@dataclass(frozen=True)
class PlanData:
    """Everything the document shows, read once."""

    title: str
    program_name: str
    prefecture: str
    case_no: str
    municipality: str
    track_name: str
    theme: str
    goal: str
    goal_set_on: dt.date | None
    scope: str
    deliverables: str
    planned_sessions: int | None
    start_on: dt.date | None
    stage: str
    held: tuple[HeldSession, ...]
    made_on: dt.date


def plan_title(track: Track) -> str:
    """The document's title: the profile's word, else the word for the track's kind."""
    if track.plan_title:
        return track.plan_title
    kind = track.kind if track.kind in ("bpr", "accompaniment", "dispatch") else "other"
    return t(f"plan_title_{kind}")


async def load_plan(
    s: Session, profile: ProgramProfile, case_id: int, now: dt.datetime
) -> PlanData | None:
    """The engagement of a case with its held sessions (a withdrawn case's too: its plan is
    still a record); None when it has none."""
    found = await engagements.rows(s, profile.id, case_id=case_id, include_withdrawn=True)
    if not found:
        return None
    e = found[0]
    window = reporting.counting_window(profile)
    detail = await reporting.case_detail(s, profile.id, case_id, now, window)
    held = tuple(
        HeldSession(
            day=r.starts_at.astimezone(JST).date(),
            method=r.method,
            experts=tuple(r.expert_names),
            hours=r.hours,
        )
        for r in (detail.sessions if detail else [])
        if reporting.count_state(r.status, r.starts_at, r.ends_at, now, window) == "held"
    )
    try:
        track = profile.track(e.track_id)
        title, track_name = plan_title(track), track.name
    except KeyError:
        title, track_name = t("plan_title_other"), e.track_id
    return PlanData(
        title=title,
        program_name=profile.name,
        prefecture=profile.prefecture,
        case_no=e.case_no,
        municipality=e.municipality_name,
        track_name=track_name,
        theme=e.theme,
        goal=e.goal,
        goal_set_on=e.goal_set_at.astimezone(JST).date() if e.goal_set_at else None,
        scope=e.scope,
        deliverables=e.deliverables,
        planned_sessions=e.planned_sessions,
        start_on=e.start_on,
        stage=stage_label(profile, e.stage),
        held=held,
        made_on=now.astimezone(JST).date(),
    )


# --- the workbook ---------------------------------------------------------------------------------


def _put(
    ws: Worksheet, row: int, col: int, value: str | int | float, *, bold: bool = False
) -> None:
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str):
        # openpyxl would store "=…" as a formula: text stays text, a dangerous one is flagged
        # with Excel's quote prefix (the single quote a user would type).
        cell.data_type = "s"
        if value.startswith(DANGEROUS_FIRST):
            cell.quotePrefix = True
    cell.alignment = Alignment(vertical="top", wrap_text=True)
    cell.font = Font(name=FONT, bold=bold)


def _method(method: str) -> str:
    return t(f"sv_method_{method}") if method in METHODS else method


def _hours(value: float) -> str:
    return f"{value:g}"


def record_rows(d: PlanData) -> list[tuple[str, str]]:
    """(heading, value) of the record, in the document's order."""
    blank = t("engage_blank")
    goal = d.goal or t("plan_goal_unset")
    if d.goal and d.goal_set_on is not None:
        goal += t("engage_goal_set_on", date=format_jp(d.goal_set_on))
    return [
        (t("plan_h_program"), d.program_name),
        (t("plan_h_municipality"), d.municipality),
        (t("plan_h_track"), d.track_name),
        (t("plan_h_case"), d.case_no),
        (t("plan_h_theme"), d.theme or blank),
        (t("plan_h_goal"), goal),
        (t("plan_h_scope"), d.scope or blank),
        (t("plan_h_deliverables"), d.deliverables or blank),
        (
            t("plan_h_planned"),
            t("engage_sessions", n=d.planned_sessions) if d.planned_sessions else blank,
        ),
        (t("plan_h_start"), format_jp(d.start_on) if d.start_on else blank),
        (t("plan_h_stage"), d.stage),
    ]


def plan_xlsx(d: PlanData) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = t("plan_sheet")
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 18
    ws.column_dimensions["C"].width = 14
    ws.column_dimensions["D"].width = 30
    ws.column_dimensions["E"].width = 10
    _put(ws, 1, 1, t("plan_heading", title=d.title, municipality=d.municipality), bold=True)
    ws.cell(row=1, column=1).font = Font(name=FONT, bold=True, size=14)
    _put(ws, 2, 1, t("plan_made", date=format_jp(d.made_on), prefecture=d.prefecture))
    fill = PatternFill("solid", fgColor="E2EFDA")
    row = 4
    for heading, value in record_rows(d):
        _put(ws, row, 1, heading, bold=True)
        ws.cell(row=row, column=1).fill = fill
        _put(ws, row, 2, value)
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=5)
        row += 1
    row += 1
    _put(ws, row, 1, t("plan_h_sessions"), bold=True)
    row += 1
    heads = (
        "plan_col_no",
        "plan_col_date",
        "plan_col_method",
        "plan_col_experts",
        "plan_col_hours",
    )
    for col, key in enumerate(heads, start=1):
        _put(ws, row, col, t(key), bold=True)
        ws.cell(row=row, column=col).fill = fill
    row += 1
    if not d.held:
        _put(ws, row, 1, t("plan_no_sessions"))
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=5)
        row += 1
    for n, h in enumerate(d.held, start=1):
        values: tuple[str | int | float, ...] = (
            n,
            format_jp(h.day),
            _method(h.method),
            "、".join(h.experts),
            h.hours,
        )
        for col, cell_value in enumerate(values, start=1):
            _put(ws, row, col, cell_value)
        row += 1
    total = sum(h.hours for h in d.held)
    _put(ws, row, 1, t("plan_total", n=len(d.held), hours=_hours(total)), bold=True)
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=5)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def plan_file(d: PlanData) -> ExportFile:
    """The document as a file named after the case (ASCII, safe on every platform)."""
    return ExportFile(
        name=f"{d.case_no}_plan.xlsx",
        content=plan_xlsx(d),
        content_type=XLSX,
        title=t("plan_file_title", title=d.title, municipality=d.municipality),
    )
