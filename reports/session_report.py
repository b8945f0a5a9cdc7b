"""The session report document (支援実施報告書 / 業務日報): one Excel file per session, in
Japanese, with the program's fields in order, that the prefecture can open as it is.

The fields cover Kumamoto's 業務日報 (市町村名, 日時, 対応方法, 場所, 対応者, 市町村職員, 相談概要及び
対応内容, 課題・内容・対応方針, 次回支援予定, 資料) and Saitama's 具体的な支援内容・効果・資料.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from reminders.calendar import format_jp
from reminders.clock import JST
from reports.safe_cells import neutralise
from store.models import Case, SessionReport, SupportSession
from store.profiles import ProgramProfile


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


def build_report_xlsx(
    profile: ProgramProfile, case: Case, session: SupportSession, report: SessionReport
) -> Document:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "支援実施報告"
    bold = Font(name="Yu Gothic", bold=True, size=12)
    normal = Font(name="Yu Gothic", size=10.5)
    thin = Side(style="thin", color="999999")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    head = PatternFill("solid", fgColor="DDEBF7")
    ws["A1"] = f"{profile.name} 支援実施報告書"
    ws["A1"].font = bold
    ws.merge_cells("A1:B1")
    meta = (
        ("案件番号", case.case_no),
        ("報告版", f"第{report.version}版"),
        ("報告期限", format_jp(session.report_due)),
        ("報告日", format_jp(report.created_at.date())),
    )
    row = 3
    for label, value in (*meta, *((f.label, report.fields.get(f.key, "")) for f in REPORT_FIELDS)):
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
    return Document(
        name=f"支援実施報告_{case.case_no}_{day}_v{report.version}.xlsx",
        title=f"支援実施報告 {case.case_no}",
        content=buf.getvalue(),
    )
