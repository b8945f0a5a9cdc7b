"""Exports and the case collection: CSV for Japanese Excel (BOM, formula neutralisation), the Excel
管理表 re-opened with openpyxl, JSON for machines, role scoping in the chat, and the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from reminders.clock import JST
from reports import casebook, export
from store.db import Database
from store.models import Case
from tests.conftest import ChatBot
from tests.test_status import NOW, PROFILE, SAITAMA, World, build_world, run_cli

HOSTILE = ('=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR")


async def _world(db: Database) -> World:
    async with db.transaction() as s:
        w = await build_world(s)
        # Six cases carry text a spreadsheet would run as a formula.
        for case_no, text in zip(w.case_nos, HOSTILE, strict=False):
            await s.execute(update(Case).where(Case.case_no == case_no).values(description=text))
    return w


async def _export(db: Database, kind: export.Kind, fmt: export.Format) -> export.ExportFile:
    async with db.transaction() as s:
        return await export.export(s, PROFILE, kind, fmt, NOW)


def _csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for Japanese Excel"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


# --- CSV -------------------------------------------------------------------------------------------


async def test_cases_csv_has_bom_japanese_headers_and_no_formulas(db: Database) -> None:
    w = await _world(db)
    f = await _export(db, "cases", "csv")
    assert f.name.endswith(".csv") and f.content_type.startswith("text/csv")
    assert b"\r\n" in f.content  # Excel's line ends
    rows = _csv_rows(f.content)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["案件番号", "団体コード", "市町村名"]
    assert [r[0] for r in body] == w.case_nos
    desc = header.index("相談内容")
    for text, row in zip(HOSTILE, body, strict=False):
        assert row[desc] == "'" + text  # neutralised, and otherwise intact
    for row in body[len(HOSTILE) :]:
        assert not row[desc].startswith(("=", "+", "-", "@", "\t", "\r", "'"))
    name = header.index("市町村名")
    assert body[0][name] == "さいたま市"  # no mojibake after the round trip


async def test_sessions_csv_counts_every_session_once(db: Database) -> None:
    w = await _world(db)
    rows = _csv_rows((await _export(db, "sessions", "csv")).content)
    header, body = rows[0], rows[1:]
    assert len(body) == len(w.all_sessions())  # cancelled included, with its state
    state = header.index("報告の状況")
    assert sorted(r[state] for r in body).count("中止") == len(
        [1 for _, s in w.all_sessions() if s.cancelled]
    )
    joint = [r for r in body if "、" in r[header.index("市町村名")]]
    assert len(joint) == 1 and joint[0][header.index("市町村名")] == "熊谷市、さいたま市、川越市"


# --- Excel -----------------------------------------------------------------------------------------


async def test_ledger_xlsx_reopens_with_frozen_header_filters_and_dates(db: Database) -> None:
    w = await _world(db)
    f = await _export(db, "cases", "xlsx")
    wb = load_workbook(io.BytesIO(f.content))
    assert wb.sheetnames == ["管理表", "案件一覧"]
    ws = wb["管理表"]
    headers = [c.value for c in ws[1]]
    for column in (
        "案件番号",
        "市町村名",
        "日時",
        "対応方法",
        "場所",
        "対応者",
        "市町村職員（所属・職・氏名）",
        "相談概要",
        "対応内容",
        "把握された課題・内容",
        "対応方針",
        "支援の効果",
        "次回支援予定",
    ):
        assert column in headers, column
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(headers)).column_letter}{ws.max_row}"
    # One row per session (cancelled ones left out) and one per consultation without sessions.
    live = len(w.live())
    without = len([c for c in w.specs if not [s for s in c.sessions if not s.cancelled]])
    assert ws.max_row - 1 == live + without
    when = headers.index("日時") + 1
    dated = [
        ws.cell(r, when) for r in range(2, ws.max_row + 1) if ws.cell(r, when).value is not None
    ]
    assert len(dated) == live
    assert all(
        isinstance(c.value, dt.datetime) and c.number_format == "yyyy/mm/dd hh:mm" for c in dated
    )
    first = min(c.value for c in dated)
    assert first == min(s.starts for _, s in w.live()).astimezone(JST).replace(tzinfo=None)
    desc = headers.index("相談内容") + 1
    cells = [ws.cell(r, desc) for r in range(2, ws.max_row + 1)]
    hostile = [c for c in cells if c.value in HOSTILE]
    assert hostile and all(c.data_type == "s" and c.quotePrefix for c in hostile)
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)


async def test_reports_xlsx_has_the_daily_report_columns(db: Database) -> None:
    w = await _world(db)
    wb = load_workbook(io.BytesIO((await _export(db, "reports", "xlsx")).content))
    ws = wb["業務日報"]
    headers = [c.value for c in ws[1]]
    reported = [s for _, s in w.live() if s.submitted is not None]
    assert ws.max_row - 1 == len(reported)
    on_time = headers.index("期限内提出") + 1
    expected_on_time = len([s for s in reported if s.submitted.date() <= s.due])  # type: ignore[union-attr]
    assert [ws.cell(r, on_time).value for r in range(2, ws.max_row + 1)].count(
        "○"
    ) == expected_on_time
    effect = headers.index("支援の効果") + 1
    assert "課題が整理され、導入スケジュール案ができた" in [
        ws.cell(r, effect).value for r in range(2, ws.max_row + 1)
    ]


# --- JSON ------------------------------------------------------------------------------------------


async def test_cases_json_is_a_list_of_objects_with_the_contract_keys(db: Database) -> None:
    w = await _world(db)
    data = json.loads((await _export(db, "cases", "json")).content)
    assert isinstance(data, list) and len(data) == len(w.specs)
    for obj, spec, case_no in zip(data, w.specs, w.case_nos, strict=True):
        assert {
            "id",
            "municipality_code",
            "municipality_name",
            "status",
            "domains",
            "opened_at",
        } <= set(obj)
        assert obj["id"] == case_no
        assert obj["municipality_code"] == spec.muni
        assert obj["status"] == spec.status
        assert obj["domains"] == list(spec.domains)
        assert dt.datetime.fromisoformat(obj["opened_at"]).utcoffset() == dt.timedelta(hours=9)
    assert data[0]["description"] == HOSTILE[0]  # JSON keeps the text as it is


async def test_sessions_json_keeps_codes_and_report_states(db: Database) -> None:
    w = await _world(db)
    data = json.loads((await _export(db, "sessions", "json")).content)
    states = {o["report_state"] for o in data}
    assert states <= {"cancelled", "planned", "submitted", "late", "pending", "overdue"}
    late = [s for _, s in w.live() if s.submitted and s.submitted.date() > s.due]
    assert [o["report_state"] for o in data].count("late") == len(late)
    assert {o["method"] for o in data} == {"online", "onsite"}


# --- the case collection ---------------------------------------------------------------------------


async def test_casebook_has_no_personal_names_and_masks_municipalities(db: Database) -> None:
    w = await _world(db)
    async with db.transaction() as s:
        await s.execute(
            update(Case)
            .where(Case.case_no == w.case_nos[2])
            .values(
                description="川越市の山田 花子さん（yamada@example.jp, 049-224-8811）から窓口BPRの相談"
            )
        )
    async with db.transaction() as s:
        masked = await casebook.load_casebook(s, PROFILE, NOW, mask_municipalities=True)
        named = await casebook.load_casebook(s, PROFILE, NOW, mask_municipalities=False)
    reported_cases = [c for c in w.specs if any(s.submitted for s in c.sessions if not s.cancelled)]
    assert len(masked) == len(named) == len(reported_cases)
    text = "\n".join(f"{e.municipality}{e.challenge}{e.advice}{e.effect}" for e in masked)
    for name in [*w.names.values(), "山田", "yamada@example.jp", "049-224-8811", "相談 太郎"]:
        if name:
            assert name not in text, name
    for real in ("さいたま市", "川越市", "熊谷市", "川口市", "所沢市"):
        assert real not in text
    assert {e.municipality[-1] for e in masked} <= {"市", "町", "村"}
    assert any(e.municipality == "川越市" for e in named)
    named_text = "\n".join(e.challenge for e in named)
    assert "山田" not in named_text and "川越市" in named_text
    kawagoe = next(e for e in masked if "窓口BPR" in e.challenge)
    assert kawagoe.domains == ["BPRの取組の徹底", "自治体フロントヤード改革"]
    content = casebook.casebook_file(masked, PROFILE, NOW, masked=True).content
    wb = load_workbook(io.BytesIO(content))
    ws = wb["相談事例集"]
    assert [c.value for c in ws[4]][:4] == ["No.", "市町村", "支援の区分", "分野"]
    assert ws.max_row == 4 + len(masked)


def test_municipality_labels_keep_the_kind() -> None:
    labels = casebook.municipality_labels(
        {"111007": "さいたま市", "113433": "毛呂山町", "113697": "東秩父村"}
    )
    assert labels == {"111007": "A市", "113433": "B町", "113697": "C村"}


# --- through the chat ------------------------------------------------------------------------------


async def test_export_in_chat_is_acknowledged_then_posted_back(bot: ChatBot) -> None:
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        w = await build_world(s)
    replies = await bot.say("staff1", "/dx export cases csv")
    assert "作成しています" in replies[0].text and not replies[0].files
    sent = [m for _, target, m in bot.sender.sent if target == "staff1" and m.files]
    assert len(sent) == 1
    f = sent[0].files[0]
    assert f.name.endswith(".csv")
    assert [r[0] for r in _csv_rows(f.content)[1:]] == w.case_nos
    await bot.say("pref1", "/dx export sessions xlsx")
    pref = [m for _, target, m in bot.sender.sent if target == "pref1" and m.files]
    assert load_workbook(io.BytesIO(pref[0].files[0].content)).sheetnames == ["支援一覧"]


@pytest.mark.parametrize("user", ["officer1", "expert1"])
async def test_export_refused_for_officers_and_experts(bot: ChatBot, user: str) -> None:
    replies = await bot.say(user, "/dx export cases")
    assert "権限ではこの操作はできません" in replies[0].text
    assert not [m for _, _, m in bot.sender.sent if m.files]
    assert "権限ではこの操作はできません" in (await bot.say(user, "/dx casebook"))[0].text


async def test_export_usage_and_casebook_in_chat(bot: ChatBot) -> None:
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        await build_world(s)
    assert (
        "/dx export cases|sessions|reports"
        in (await bot.say("staff1", "/dx export everything"))[0].text
    )
    assert (
        "/dx export cases|sessions|reports"
        in (await bot.say("staff1", "/dx export cases pdf"))[0].text
    )
    await bot.say("staff1", "/dx casebook")
    files = [m for _, target, m in bot.sender.sent if target == "staff1" and m.files]
    assert files and "記号に置き換え" in files[-1].text
    assert files[-1].files[0].name.endswith(".xlsx")


# --- the command line ------------------------------------------------------------------------------


async def test_cli_export_formats(db: Database, db_url: str, tmp_path: Path) -> None:
    w = await _world(db)
    csv_run = run_cli(db_url, "export", "cases", "--format", "csv", cwd=tmp_path)
    assert csv_run.returncode == 0, csv_run.stderr.decode()
    assert [r[0] for r in _csv_rows(csv_run.stdout)[1:]] == w.case_nos
    js = run_cli(db_url, "export", "sessions", "--format", "json", cwd=tmp_path)
    assert len(json.loads(js.stdout)) == len(w.all_sessions())
    raw = run_cli(db_url, "export", "reports", "--format", "xlsx", cwd=tmp_path)
    assert raw.stdout.startswith(b"PK")  # the workbook's bytes on standard output
    out = tmp_path / "out" / "ledger.xlsx"
    run = run_cli(db_url, "export", "cases", "--format", "xlsx", "--out", str(out), cwd=tmp_path)
    assert run.returncode == 0 and run.stdout == b""
    assert load_workbook(out).sheetnames == ["管理表", "案件一覧"]
    bad = run_cli(db_url, "export", "cases", "--format", "pdf", cwd=tmp_path)
    assert bad.returncode == 2 and b"invalid choice" in bad.stderr
    assert SAITAMA in csv_run.stdout.decode("utf-8-sig")
