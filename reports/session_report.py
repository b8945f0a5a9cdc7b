"""The session report document (支援実施報告書 / 業務日報): one Excel file per session, in
Japanese, with the program's fields in order, that the prefecture can open as it is.

The fields cover Kumamoto's 業務日報 (市町村名, 日時, 対応方法, 場所, 対応者, 市町村職員, 相談概要及び
対応内容, 課題・内容・対応方針, 次回支援予定, 資料) and Saitama's 具体的な支援内容・効果・資料.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from reminders.calendar import format_jp
from reminders.clock import JST
from reports.safe_cells import neutralise
from store.models import Case, SessionReport, SupportSession
from store.profiles import ProgramProfile, ReportRule


@dataclass(frozen=True)
class ReportField:
    key: str
    label: str
    asked: bool  # asked of the expert; the others are known from the session


REPORT_FIELDS: tuple[ReportField, ...] = (
    ReportField("municipalities", "市町村名", False),
    ReportField("datetime", "日時", False),
    ReportField("method", "対応方法", False),
    ReportField("place", "場所", False),
    ReportField("responders", "対応者", False),
    ReportField("attendees", "市町村職員（所属・職・氏名）", True),
    ReportField("summary", "相談概要", True),
    ReportField("response", "対応内容（回答・助言）", True),
    ReportField("issues", "把握された課題・内容", True),
    ReportField("policy", "対応方針", True),
    ReportField("effect", "支援の効果", True),
    ReportField("materials", "使用した資料・ツール", True),
    ReportField("next_plan", "次回支援予定", True),
    ReportField("hours", "支援時間（時間）", True),
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Document:
    name: str
    title: str
    content: bytes
    content_type: str = XLSX


# Asked once per municipality when a track's reports are per municipality (Yamagata §6(4)
# 相談窓口対応市町村ごとに): who attended and what was found and agreed differ by municipality;
# the consultation itself (summary, response, effect, materials, next plan, hours) is shared.
PER_MUNICIPALITY_KEYS = ("attendees", "issues", "policy")
BY_MUNICIPALITY = "by_municipality"
"""Key of a report's per-municipality sections: {code: {"name": …, "attendees": …, …}}."""


def report_rule(profile: ProgramProfile, track_id: str) -> ReportRule:
    """The track's report rule; a session of a track the profile no longer has gets defaults."""
    try:
        return profile.track(track_id).report
    except KeyError:
        return ReportRule()


def municipality_sections(report: SessionReport) -> list[tuple[str, dict[str, str]]]:
    """The report's per-municipality sections, by municipality code; empty when it has none."""
    raw = report.fields.get(BY_MUNICIPALITY)
    if not isinstance(raw, dict):
        return []
    return [
        (str(code), {str(k): str(v) for k, v in section.items()})
        for code, section in sorted(raw.items())
        if isinstance(section, dict)
    ]


def build_report_files(
    profile: ProgramProfile, case: Case, session: SupportSession, report: SessionReport
) -> list[Document]:
    """The report's files: one per municipality where the track's reports are per municipality
    (each with the shared parts and that municipality's own), otherwise one."""
    rule = report_rule(profile, session.track_id)
    sections = municipality_sections(report) if rule.per_municipality else []
    if not sections:
        return [build_report_xlsx(profile, case, session, report, title=rule.title)]
    documents = []
    for _code, section in sections:
        name = section.get("name", "")
        fields = {k: v for k, v in report.fields.items() if k != BY_MUNICIPALITY}
        fields.update({k: v for k, v in section.items() if k != "name"})
        fields["municipalities"] = name
        documents.append(
            build_report_xlsx(
                profile, case, session, report, title=rule.title, fields=fields, suffix=name
            )
        )
    return documents


def build_report_xlsx(
    profile: ProgramProfile,
    case: Case,
    session: SupportSession,
    report: SessionReport,
    *,
    title: str = "支援実施報告書",
    fields: dict[str, Any] | None = None,
    suffix: str = "",
) -> Document:
    values = report.fields if fields is None else fields
    short = title.removesuffix("書")
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = short[:31]
    bold = Font(name="Yu Gothic", bold=True, size=12)
    normal = Font(name="Yu Gothic", size=10.5)
    thin = Side(style="thin", color="999999")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    head = PatternFill("solid", fgColor="DDEBF7")
    ws["A1"] = f"{profile.name} {title}"
    ws["A1"].font = bold
    ws.merge_cells("A1:B1")
    meta = (
        ("案件番号", case.case_no),
        ("報告版", f"第{report.version}版"),
        ("報告期限", format_jp(session.report_due)),
        ("報告日", format_jp(report.created_at.date())),
    )
    row = 3
    for label, value in (*meta, *((f.label, values.get(f.key, "")) for f in REPORT_FIELDS)):
        ws.cell(row=row, column=1, value=label).font = normal
        ws.cell(row=row, column=1).fill = head
        cell = ws.cell(row=row, column=2, value=neutralise(str(value)))
        cell.font = normal
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        for col in (1, 2):
            ws.cell(row=row, column=col).border = box
        row += 1
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 80
    buf = io.BytesIO()
    wb.save(buf)
    day = session.starts_at.astimezone(JST).strftime("%Y%m%d")
    tail = f"_{suffix}" if suffix else ""
    return Document(
        name=f"{short}_{case.case_no}_{day}{tail}_v{report.version}.xlsx",
        title=f"{short} {case.case_no}{' ' + suffix if suffix else ''}",
        content=buf.getvalue(),
    )
