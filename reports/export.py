"""Exports of cases, sessions and session reports as CSV, Excel and JSON.

- CSV opens correctly in Japanese Excel: UTF-8 with a BOM, CRLF line ends, Japanese headers.
- Any text cell a spreadsheet would read as a formula (starting with = + - @, a tab or a
  carriage return) is neutralised: a single quote in front in CSV; in Excel the cell is stored
  as text with Excel's own "quote prefix" flag, which is what typing the quote does, so the
  value itself stays intact.
- The Excel 管理表 (Miyazaki ③) has one row per consultation or session, with the 業務日報
  columns (Kumamoto §2.5(2)), a frozen header row, filters and date formats.
- JSON is a list of objects with English keys; times in ISO 8601 with the JST offset.

Pure over ``store.reporting`` rows; no chat code.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.core.catalog import MESSAGES, t
from reminders.clock import JST
from reports.safe_cells import DANGEROUS_FIRST, neutralise
from store import reporting
from store.cases import STATUSES
from store.db import Session
from store.profiles import ProgramProfile
from store.reporting import CaseRow, SessionRow, count_state, counting_window
from store.scope import EVERYTHING, Scope

Kind = Literal["cases", "sessions", "reports"]
Format = Literal["csv", "xlsx", "json"]
KINDS: tuple[Kind, ...] = ("cases", "sessions", "reports")
FORMATS: tuple[Format, ...] = ("csv", "xlsx", "json")
CellType = Literal["text", "list", "number", "datetime", "date", "bool"]

CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
FONT = "Yu Gothic"
DATETIME_FORMAT = "yyyy/mm/dd hh:mm"
DATE_FORMAT = "yyyy/mm/dd"
REPORT_KEYS = (
    "attendees",
    "summary",
    "response",
    "issues",
    "policy",
    "effect",
    "materials",
    "next_plan",
)


@dataclass(frozen=True)
class Column:
    """One column: ``key`` in JSON; the header is the catalogue message ``ex_col_<key>`` (or
    ``header_key``); ``labels`` is a catalogue prefix that turns codes (online) into words
    (オンライン) in CSV and Excel, while JSON keeps the codes."""

    key: str
    type: CellType = "text"
    width: int = 14
    header_key: str = ""
    labels: str = ""

    @property
    def header(self) -> str:
        return t(self.header_key or f"ex_col_{self.key}")

    def display(self, value: Any) -> Any:
        if self.labels and isinstance(value, str) and f"{self.labels}{value}" in MESSAGES:
            return t(f"{self.labels}{value}")
        return value


@dataclass(frozen=True)
class Table:
    name: str  # catalogue key of the sheet name
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class ExportFile:
    name: str
    content: bytes
    content_type: str
    title: str


# --- columns --------------------------------------------------------------------------------------

CASE_COLUMNS = (
    Column("id", width=16),
    Column("municipality_code", width=10),
    Column("municipality_name", width=12),
    Column("track_id", width=12),
    Column("track_name", width=24),
    Column("status", width=12),
    Column("status_label", width=14),
    Column("domains", "list", 28),
    Column("description", width=40),
    Column("department", width=16),
    Column("requester_name", width=12),
    Column("requester_title", width=10),
    Column("preferred_method", width=10, labels="sv_method_"),
    Column("expert", width=12),
    Column("sessions", "number", 8),
    Column("sessions_held", "number", 8),
    Column("sessions_scheduled", "number", 8),
    Column("hours_held", "number", 8),
    Column("opened_at", "datetime", 17),
    Column("updated_at", "datetime", 17),
    Column("last_session_at", "datetime", 17),
    Column("next_session_at", "datetime", 17),
)

SESSION_COLUMNS = (
    Column("id", "number", 8, header_key="ex_col_session_id"),
    Column("case_id", width=16),
    Column("municipality_codes", "list", 12),
    Column("municipality_names", "list", 16),
    Column("track_id", width=12),
    Column("track_name", width=24),
    Column("starts_at", "datetime", 17),
    Column("ends_at", "datetime", 17),
    Column("hours", "number", 6),
    Column("method", width=10, labels="sv_method_"),
    Column("place", width=18),
    Column("status", width=10, labels="ex_session_status_"),
    Column("count_state", width=10, labels="ex_count_"),
    Column("experts", "list", 16),
    Column("report_due", "date", 12),
    Column("report_submitted_at", "datetime", 17),
    Column("report_state", width=12, labels="ex_state_"),
    Column("satisfaction", "number", 8),
    Column("resolved", width=10, labels="sv_resolved_"),
)

# A session and its report (業務日報), as both the reports export and the 管理表 end their rows.
SESSION_RECORD = (
    Column("starts_at", "datetime", 17),
    Column("method", width=10, labels="sv_method_"),
    Column("place", width=18),
    Column("experts", "list", 16, header_key="ex_col_responders"),
    *(Column(k, width=36) for k in REPORT_KEYS),
    Column("hours", "number", 8, header_key="ex_col_report_hours"),
    Column("report_due", "date", 12),
    Column("report_submitted_at", "datetime", 17),
)

REPORT_COLUMNS = (
    Column("session_id", "number", 8),
    Column("case_id", width=16),
    Column("version", "number", 6),
    Column("municipality_names", "list", 16),
    *SESSION_RECORD,
    Column("on_time", "bool", 8),
)

LEDGER_COLUMNS = (
    Column("case_id", width=16),
    Column("municipality_names", "list", 16),
    Column("track_name", width=24),
    Column("status_label", width=14),
    Column("domains", "list", 28),
    Column("opened_at", "datetime", 17),
    Column("description", width=40),
    *SESSION_RECORD,
)


# --- rows -----------------------------------------------------------------------------------------


def _track_name(profile: ProgramProfile, track_id: str) -> str:
    try:
        return profile.track(track_id).name
    except KeyError:
        return track_id


def case_record(profile: ProgramProfile, c: CaseRow) -> dict[str, Any]:
    return {
        "id": c.case_no,
        "municipality_code": c.municipality_code,
        "municipality_name": c.municipality_name,
        "track_id": c.track_id,
        "track_name": _track_name(profile, c.track_id),
        "status": c.status,
        "status_label": STATUSES.get(c.status, c.status),
        "domains": list(c.domains),
        "description": c.description,
        "department": c.department,
        "requester_name": c.requester_name,
        "requester_title": c.requester_title,
        "preferred_method": c.preferred_method,
        "expert": c.approved_expert,
        "sessions": c.sessions,
        "sessions_held": c.held,
        "sessions_scheduled": c.scheduled,
        "hours_held": c.hours_held,
        "opened_at": c.opened_at,
        "updated_at": c.updated_at,
        "last_session_at": c.last_session_at,
        "next_session_at": c.next_session_at,
    }


def report_state(r: SessionRow, now: dt.datetime) -> str:
    """cancelled | planned | submitted | late (submitted after the due day) | pending | overdue."""
    if r.status == "cancelled":
        return "cancelled"
    if r.report_submitted_at is not None:
        late = r.report_submitted_at.astimezone(JST).date() > r.report_due
        return "late" if late else "submitted"
    if r.ends_at > now:
        return "planned"
    return "overdue" if r.report_due < now.astimezone(JST).date() else "pending"


def session_record(profile: ProgramProfile, r: SessionRow, now: dt.datetime) -> dict[str, Any]:
    """One session; ``count_state`` is how `/status` and the decks count it at ``now``
    (held, scheduled, cancelled, or outside the term: ``store.reporting.counting``)."""
    window = counting_window(profile)
    return {
        "id": r.id,
        "case_id": r.case_no,
        "municipality_codes": [c for c, _ in r.municipalities],
        "municipality_names": r.municipality_names,
        "track_id": r.track_id,
        "track_name": _track_name(profile, r.track_id),
        "starts_at": r.starts_at,
        "ends_at": r.ends_at,
        "hours": r.hours,
        "method": r.method,
        "place": r.place,
        "status": r.status,
        "count_state": count_state(r.status, r.starts_at, r.ends_at, now, window),
        "experts": r.expert_names,
        "report_due": r.report_due,
        "report_submitted_at": r.report_submitted_at,
        "report_state": report_state(r, now),
        "satisfaction": r.satisfaction if r.survey_answered else None,
        "resolved": r.resolved if r.survey_answered else None,
    }


def _report_text(report: dict[str, Any] | None, key: str) -> str:
    value = (report or {}).get(key, "")
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return "" if value is None else str(value)


def _report_hours(r: SessionRow) -> float:
    """Hours spent as the expert reported them, else the session's length."""
    raw = (r.report or {}).get("hours")
    try:
        return float(raw) if raw not in (None, "") else r.hours
    except (TypeError, ValueError):
        return r.hours


def report_record(r: SessionRow) -> dict[str, Any]:
    submitted = r.report_submitted_at
    return {
        "session_id": r.id,
        "case_id": r.case_no,
        "version": r.report_version,
        "municipality_names": r.municipality_names,
        **_session_record(r),
        "on_time": submitted is not None and submitted.astimezone(JST).date() <= r.report_due,
    }


def _session_record(r: SessionRow) -> dict[str, Any]:
    """The values of SESSION_RECORD's columns for one session."""
    return {
        "starts_at": r.starts_at,
        "method": r.method,
        "place": r.place,
        "experts": r.expert_names,
        **{k: _report_text(r.report, k) for k in REPORT_KEYS},
        "hours": _report_hours(r),
        "report_due": r.report_due,
        "report_submitted_at": r.report_submitted_at,
    }


def ledger_rows(
    profile: ProgramProfile, cases: list[CaseRow], sessions: list[SessionRow]
) -> list[dict[str, Any]]:
    """管理表: one row per session, and one per consultation that has no session yet."""
    by_case: dict[str, list[SessionRow]] = {}
    for r in sessions:
        by_case.setdefault(r.case_no, []).append(r)
    rows = []
    for c in cases:
        base = {
            "case_id": c.case_no,
            "municipality_names": [c.municipality_name],
            "track_name": _track_name(profile, c.track_id),
            "status_label": STATUSES.get(c.status, c.status),
            "domains": list(c.domains),
            "opened_at": c.opened_at,
            "description": c.description,
        }
        mine = by_case.get(c.case_no, [])
        if not mine:
            rows.append(base)
        for r in mine:
            rows.append(
                base
                | {
                    "municipality_names": r.municipality_names,
                    **_session_record(r),
                }
            )
    return rows


async def load_tables(
    s: Session,
    profile: ProgramProfile,
    kind: Kind,
    now: dt.datetime,
    scope: Scope = EVERYTHING,
    *,
    ledger: bool = False,
) -> list[Table]:
    """The table(s) of an export: one, or for the Excel cases export the 管理表 and the cases."""
    if kind == "cases":
        cases = await reporting.case_rows(
            s, profile.id, now, scope, window=counting_window(profile)
        )
        tables = [Table("ex_sheet_cases", CASE_COLUMNS, [case_record(profile, c) for c in cases])]
        if ledger:
            sessions = await reporting.sessions_between(
                s, profile.id, None, None, scope, with_reports=True
            )
            rows = ledger_rows(profile, cases, [r for r in sessions if r.status != "cancelled"])
            tables.insert(0, Table("ex_sheet_ledger", LEDGER_COLUMNS, rows))
        return tables
    sessions = await reporting.sessions_between(
        s, profile.id, None, None, scope, include_cancelled=True, with_reports=True
    )
    if kind == "sessions":
        rows = [session_record(profile, r, now) for r in sessions]
        return [Table("ex_sheet_sessions", SESSION_COLUMNS, rows)]
    rows = [report_record(r) for r in sessions if r.report is not None]
    return [Table("ex_sheet_reports", REPORT_COLUMNS, rows)]


# --- formats --------------------------------------------------------------------------------------


def _jst(value: dt.datetime) -> dt.datetime:
    return value.astimezone(JST)


def _text(value: Any, col: Column) -> str:
    """A cell as text (CSV): lists joined, times in JST, booleans as ○/×."""
    if value is None:
        return ""
    value = col.display(value)
    if col.type == "list":
        return "、".join(str(v) for v in value)
    if col.type == "datetime":
        return _jst(value).strftime("%Y-%m-%d %H:%M")
    if col.type == "date":
        day: dt.date = value
        return day.isoformat()
    if col.type == "bool":
        return t("ex_yes") if value else t("ex_no")
    if col.type == "number":
        return f"{value:g}" if isinstance(value, float) else str(value)
    return str(value)


def to_csv(table: Table) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([c.header for c in table.columns])
    for row in table.rows:
        writer.writerow([neutralise(_text(row.get(c.key), c)) for c in table.columns])
    return buf.getvalue().encode("utf-8-sig")


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _jst(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def to_json(table: Table) -> bytes:
    rows = [{c.key: _json_value(row.get(c.key)) for c in table.columns} for row in table.rows]
    return json.dumps(rows, ensure_ascii=False, indent=2).encode("utf-8")


def _xlsx_value(value: Any, col: Column) -> Any:
    if value is None:
        return None
    value = col.display(value)
    if col.type == "datetime":
        return _jst(value).replace(tzinfo=None)  # Excel has no time zones: JST wall time
    if col.type == "list":
        return "、".join(str(v) for v in value)
    if col.type == "bool":
        return t("ex_yes") if value else t("ex_no")
    return value


def write_sheet(ws: Worksheet, table: Table) -> None:
    """Japanese headers in bold on a tint, frozen; filters over the data; dates formatted."""
    head_font = Font(name=FONT, bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    for i, col in enumerate(table.columns, start=1):
        cell = ws.cell(row=1, column=i, value=col.header)
        cell.font = head_font
        cell.fill = head_fill
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(i)].width = col.width
    wrap = Alignment(vertical="top", wrap_text=True)
    for r, row in enumerate(table.rows, start=2):
        for i, col in enumerate(table.columns, start=1):
            _write_cell(ws, r, i, _xlsx_value(row.get(col.key), col), col, wrap)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{max(len(table.rows), 1) + 1}"


def _write_cell(ws: Worksheet, r: int, i: int, value: Any, col: Column, wrap: Alignment) -> None:
    cell = ws.cell(row=r, column=i)
    cell.value = value
    if isinstance(value, str):
        # openpyxl would store "=…" as a formula: keep every text as text, and flag the
        # dangerous ones with Excel's quote prefix (the single quote a user would type).
        cell.data_type = "s"
        if value.startswith(DANGEROUS_FIRST):
            cell.quotePrefix = True
        if col.width >= 30:
            cell.alignment = wrap
    elif col.type == "datetime":
        cell.number_format = DATETIME_FORMAT
    elif col.type == "date":
        cell.number_format = DATE_FORMAT


def to_xlsx(tables: Sequence[Table]) -> bytes:
    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for table in tables:
        write_sheet(wb.create_sheet(title=t(table.name)), table)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


WRITERS: dict[str, Callable[[Sequence[Table]], bytes]] = {
    "csv": lambda tables: to_csv(tables[-1]),
    "json": lambda tables: to_json(tables[-1]),
    "xlsx": to_xlsx,
}


def export_file(
    profile: ProgramProfile, kind: Kind, fmt: Format, now: dt.datetime, tables: Sequence[Table]
) -> ExportFile:
    """Write loaded tables in a format (CPU only: callers may run it in a worker thread)."""
    day = now.astimezone(JST).strftime("%Y%m%d")
    return ExportFile(
        name=f"{profile.id}_{kind}_{day}.{fmt}",
        content=WRITERS[fmt](tables),
        content_type=CONTENT_TYPES[fmt],
        title=t("ex_title", program=profile.name, what=t(f"ex_kind_{kind}")),
    )


async def export(
    s: Session,
    profile: ProgramProfile,
    kind: Kind,
    fmt: Format,
    now: dt.datetime,
    scope: Scope = EVERYTHING,
) -> ExportFile:
    """One export file. The Excel cases export is the 管理表 workbook (管理表 + 案件一覧)."""
    tables = await load_tables(s, profile, kind, now, scope, ledger=fmt == "xlsx")
    return export_file(profile, kind, fmt, now, tables)
