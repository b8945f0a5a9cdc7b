"""The Excel files made from what people type — the session report an expert writes (支援実施報告)
and the 相談事例集 built from officers' consultations and experts' reports — open as text: a
spreadsheet never runs a typed `=HYPERLINK(...)`, `+1`, `-1+2` or `@SUM(A1)` as a formula.

The session report puts a single quote in front of such text; the 相談事例集 stores it as text
with Excel's quote-prefix style (shown without the quote, kept as text when edited).
"""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select, update

from reminders.clock import JST
from reports import casebook
from reports.session_report import build_report_xlsx
from store.db import Database
from store.models import Case, SessionReport, SupportSession
from tests.test_status import NOW, PROFILE, build_world

LINK, PLUS, MINUS, AT = '=HYPERLINK("http://x")', "+1", "-1+2", "@SUM(A1)"


def _sheet(content: bytes) -> Worksheet:
    ws = load_workbook(io.BytesIO(content)).active
    assert isinstance(ws, Worksheet)
    return ws


def _stored(cell: Cell | MergedCell) -> tuple[object, str, bool]:
    """The text, the cell's type ("s" is text, "f" a formula) and Excel's quote-prefix style."""
    return cell.value, cell.data_type, bool(cell.quotePrefix)


def _no_formulas(ws: Worksheet) -> None:
    assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]


# --- the session report (支援実施報告) ---------------------------------------------------------------


def test_session_report_keeps_what_the_expert_typed_as_text() -> None:
    case = Case(case_no="SAI-2026-0007")
    session = SupportSession(
        starts_at=dt.datetime(2026, 11, 19, 14, 0, tzinfo=JST), report_due=dt.date(2026, 11, 27)
    )
    typed = {
        "municipalities": "さいたま市",
        "datetime": "2026年11月19日(木) 14:00〜15:00",
        "method": "オンライン",
        "place": "オンライン（Teams）",
        "responders": "田中 誠",
        "attendees": LINK,
        "summary": PLUS,
        "response": MINUS,
        "issues": AT,
        "policy": "12月中に素案を作成し、庁議に諮る",
        "effect": "論点が整理された",
        "materials": "他団体ガイドライン比較表",
        "next_plan": "1月にオンラインで素案のレビュー",
        "hours": "1",
    }
    report = SessionReport(
        version=1, created_at=dt.datetime(2026, 11, 20, 10, 30, tzinfo=JST), fields=typed
    )
    ws = _sheet(build_report_xlsx(PROFILE, case, session, report).content)
    values = {label: cell for label, cell in ws.iter_rows(min_row=3, max_col=2)}
    stored = {label.value: (cell.value, cell.data_type) for label, cell in values.items()}
    assert stored["市町村職員（所属・職・氏名）"] == ("'" + LINK, "s")
    assert stored["相談概要"] == ("'+1", "s")
    assert stored["対応内容（回答・助言）"] == ("'-1+2", "s")
    assert stored["把握された課題・内容"] == ("'@SUM(A1)", "s")
    # Ordinary text is left exactly as typed.
    assert stored["対応方針"] == ("12月中に素案を作成し、庁議に諮る", "s")
    assert stored["市町村名"] == ("さいたま市", "s")
    _no_formulas(ws)


# --- the 相談事例集 --------------------------------------------------------------------------------


async def _type_into(
    db: Database, case_no: str, description: str, response: str, effect: str
) -> None:
    """The officer's consultation text, and every report of the case as the expert wrote it."""
    async with db.transaction() as s:
        case_id = await s.scalar(select(Case.id).where(Case.case_no == case_no))
        await s.execute(update(Case).where(Case.id == case_id).values(description=description))
        sessions = select(SupportSession.id).where(SupportSession.case_id == case_id)
        await s.execute(
            update(SessionReport)
            .where(SessionReport.session_id.in_(sessions))
            .values(fields={"response": response, "policy": "", "issues": "", "effect": effect})
        )


async def test_casebook_keeps_what_officers_and_experts_typed_as_text(db: Database) -> None:
    async with db.transaction() as s:
        w = await build_world(s)
    reported = [
        no
        for spec, no in zip(w.specs, w.case_nos, strict=True)
        if any(x.submitted for x in spec.sessions if not x.cancelled)
    ]
    first, second = reported[:2]
    await _type_into(db, first, LINK, PLUS, AT)
    await _type_into(db, second, MINUS, "庁内の手順書を示した", "手順が決まった")
    async with db.transaction() as s:
        entries = await casebook.load_casebook(s, PROFILE, NOW, mask_municipalities=True)
    ws = _sheet(casebook.casebook_file(entries, PROFILE, NOW, masked=True).content)
    headers = [c.value for c in ws[4]]
    challenge, advice, effect = (headers.index(h) for h in ("課題", "助言・支援の内容", "効果"))
    rows = {row[challenge].value: row for row in ws.iter_rows(min_row=5)}
    a, b = rows[LINK], rows[MINUS]
    assert _stored(a[challenge]) == (LINK, "s", True)
    assert _stored(a[advice]) == (PLUS, "s", True)
    assert _stored(a[effect]) == (AT, "s", True)
    assert _stored(b[challenge]) == (MINUS, "s", True)
    # Ordinary text is stored as it is, without the quote-prefix style.
    assert _stored(b[advice]) == ("庁内の手順書を示した", "s", False)
    assert _stored(b[effect]) == ("手順が決まった", "s", False)
    assert ws.freeze_panes == "A5"
    _no_formulas(ws)
