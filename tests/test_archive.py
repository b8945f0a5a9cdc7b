"""`dxbot archive`: everything one program holds, in files a prefecture opens without this software,
and `dxbot archive verify`.

The world of tests/test_erase.py (two programs, every personal value marked) is archived for
Saitama: every Saitama value is in the CSV and JSON files, no Kumamoto value is anywhere in the
zip, the report versions, the plan and the attachment are files of their own, the CSV opens in
Japanese Excel (BOM) and never runs a formula, the README describes every column, and the
manifest's SHA-256 and row counts match. Attachments on Slack are fetched with the bot's token,
which is never sent to any other host.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from aiohttp import web
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli_data import slack_fetcher
from bot.core.config import Settings
from reports import archive
from store import cases, sessions
from store.db import Database
from store.models import Case, SupportSession
from tests.test_erase import ERASED, NOW, OTHER, build, json_forms, run

FORMULA = '=HYPERLINK("http://evil.example/","押して")'


def members(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        return {name: z.read(name) for name in z.namelist()}


async def _formula_case(db: Database) -> None:
    async with db.transaction() as s:
        first = await s.scalar(select(Case).where(Case.program_id == ERASED))
        assert first is not None
        await cases.create(
            s,
            program_id=ERASED,
            prefix="SAI",
            year=2026,
            track_id=first.track_id,
            municipality_code=first.municipality_code,
            now=NOW,
            description=FORMULA,
        )


async def test_the_archive_holds_everything_of_the_program_and_nothing_of_another(
    db: Database,
) -> None:
    world = await build(db)
    await _formula_case(db)
    async with db.transaction() as s:
        made = await archive.build_archive(s, ERASED, NOW)
    files = members(made.content)

    assert archive.verify(made.content) == []
    manifest = json.loads(files["manifest.json"])
    assert {f["path"] for f in manifest["files"]} == set(files) - {"manifest.json"}
    assert manifest["tables"]["cases"] == 2 and manifest["tables"]["session_reports"] == 2
    assert manifest["tables"]["surveys"] == 1 and manifest["tables"]["people"] == 3

    tables = [p for p in files if p.startswith(("csv/", "json/"))]
    text = "\n".join(files[p].decode("utf-8-sig") for p in tables)
    # A half-finished conversation and the delivery queues are working state, not records.
    transient = ("attachment_bytes", "conversation", "inbox", "outbox")
    for key, value in world.erased.items():
        if key in transient:
            continue
        assert any(form in text for form in json_forms(value)), key
    everything = b"".join(files.values())
    for key, value in world.other.items():  # Kumamoto's data stays out of Saitama's archive
        assert not any(form.encode() in everything for form in json_forms(value)), key

    # The attachment, the two report versions and the engagement's plan are files.
    [attached] = [p for p in files if p.startswith("attachments/")]
    assert files[attached] == world.erased["attachment_bytes"].encode()
    reports = sorted(p for p in files if p.startswith("reports/"))
    assert [p.rsplit("_", 1)[1] for p in reports] == ["v1.xlsx", "v2.xlsx"]
    sheet = load_workbook(io.BytesIO(files[reports[1]])).active
    assert sheet is not None
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value]
    assert world.erased["report_v2"] in cells
    assert len([p for p in files if p.startswith("plans/")]) == 1
    assert yaml.safe_load(files["profile.yaml"])["id"] == ERASED

    # CSV: Excel's BOM, Japanese intact, the typed formula kept as text.
    raw = files["csv/cases.csv"]
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert "'" + FORMULA in [r["description"] for r in rows]
    assert FORMULA in [c["description"] for c in json.loads(files["json/cases.json"])]

    # Report fields have columns of their own; a table with no rows still has its header.
    report_rows = list(
        csv.DictReader(io.StringIO(files["csv/session_reports.csv"].decode("utf-8-sig")))
    )
    assert [r["report_summary"] for r in report_rows] == [
        world.erased["report_v1"],
        world.erased["report_v2"],
    ]
    empty = files["csv/stage_marks.csv"].decode("utf-8-sig").splitlines()
    assert empty == ["id,case_id,stage,kpi_met,session_id,recorded_by,recorded_at,case_no"]

    # Every status change and the audit trail, with the amendment and the web sign-in.
    actions = [e["action"] for e in json.loads(files["json/audit_log.json"])]
    for action in ("case_opened", "case_status_changed", "session_scheduled"):
        assert action in actions
    assert {"report_submitted", "report_amended", "web_signed_in"} <= set(actions)
    history = json.loads(files["json/status_history.json"])
    assert [h["to_status"] for h in history if h["reason"]] == ["scheduled"]

    # The README (Japanese) describes every file kind and every column of every table.
    readme = files["README.txt"].decode("utf-8")
    assert "契約終了時の引渡し用アーカイブ" in readme and "SHA-256" in readme
    for path in tables:
        if path.startswith("csv/"):
            header = next(csv.reader(io.StringIO(files[path].decode("utf-8-sig"))))
            for column in header:
                assert f"  - {column}: " in readme, (path, column)
    for folder in ("reports/", "plans/", "attachments/", "profile.yaml", "manifest.json"):
        assert f"・{folder}" in readme


@pytest.fixture
async def files_host() -> AsyncIterator[tuple[str, list[tuple[str, str]]]]:
    """A stand-in for files.slack.com: serves /files/* to the bot's token only; records every
    request (path, Authorization header)."""
    seen: list[tuple[str, str]] = []

    async def serve(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        seen.append((request.path, auth))
        if auth != "Bearer xoxb-archive-test":
            return web.Response(text="<html>sign in</html>", content_type="text/html")
        return web.Response(body=b"%PDF-FETCHED", content_type="application/pdf")

    app = web.Application()
    app.router.add_get("/files/{name}", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


async def test_slack_attachments_are_fetched_with_the_token_sent_to_slack_only(
    db: Database, files_host: tuple[str, list[tuple[str, str]]]
) -> None:
    host, seen = files_host
    port = host.split(":")[1]
    await build(db)
    async with db.transaction() as s:
        session = await s.scalar(select(SupportSession).where(SupportSession.program_id == ERASED))
        assert session is not None
        await sessions.add_attachments(
            s,
            session.id,
            [
                {"name": "議事録.pdf", "content_type": "application/pdf",
                 "url": f"http://{host}/files/minutes.pdf"},
                {"name": "他所.pdf", "content_type": "application/pdf",
                 "url": f"http://localhost:{port}/files/elsewhere.pdf"},
            ],
            NOW,
        )  # fmt: skip
    settings = Settings(
        _env_file=None,
        SLACK_BOT_TOKEN="xoxb-archive-test",
        SLACK_API_URL=f"http://{host}/api/",
    )
    fetch = slack_fetcher(settings)
    assert fetch is not None
    async with db.transaction() as s:
        made = await archive.build_archive(s, ERASED, NOW, fetch=fetch)
    files = members(made.content)
    listed = {a["filename"]: a for a in json.loads(files["json/attachments.json"])}
    assert files[listed["議事録.pdf"]["archived_as"]] == b"%PDF-FETCHED"
    assert listed["他所.pdf"]["archived_as"] == ""  # not Slack's host: listed by its link
    assert listed["他所.pdf"]["url"].endswith("/files/elsewhere.pdf")
    assert (made.fetched, made.linked) == (2, 1)  # the stored one, the fetched one; the link
    assert seen == [("/files/minutes.pdf", "Bearer xoxb-archive-test")]
    assert slack_fetcher(Settings(_env_file=None)) is None


def _rezip(content: bytes, change: dict[str, bytes]) -> bytes:
    files = {**members(content), **change}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, body in files.items():
            z.writestr(name, body)
    return buf.getvalue()


def test_archive_and_verify_on_the_command_line(db_url: str, tmp_path: Path) -> None:
    async def setup() -> None:
        database = Database(db_url)
        try:
            await build(database)
        finally:
            await database.dispose()

    asyncio.run(setup())
    made = run(db_url, "archive", "--program", ERASED, "--out", "out/s.zip", cwd=tmp_path)
    assert made.returncode == 0, made
    assert "Rows: cases 1, sessions 1, session_reports 2, surveys 1" in made.stdout
    assert "Attachments: 1 archived, 0 listed as links only (no SLACK_BOT_TOKEN" in made.stdout
    good = run(db_url, "archive", "verify", "out/s.zip", cwd=tmp_path)
    assert good.returncode == 0 and "verified" in good.stdout, good

    content = (tmp_path / "out/s.zip").read_bytes()
    (tmp_path / "t.zip").write_bytes(_rezip(content, {"csv/cases.csv": b"\xef\xbb\xbfid\r\n"}))
    tampered = run(db_url, "archive", "verify", "t.zip", cwd=tmp_path)
    assert tampered.returncode == 1
    assert "FAIL csv/cases.csv: SHA-256 does not match the manifest" in tampered.stdout
    (tmp_path / "x.zip").write_bytes(_rezip(content, {"extra.txt": b"added later"}))
    extra = run(db_url, "archive", "verify", "x.zip", cwd=tmp_path)
    assert extra.returncode == 1 and "extra.txt: not listed in the manifest" in extra.stdout

    for args, words in (
        (("archive", "verify", "missing.zip"), "Cannot read missing.zip"),
        (("archive", "--program", ERASED), "Give --program ID and --out FILE.zip"),
        (("archive", "--program", ERASED, "--out", "a.txt"), "must name a .zip file"),
        (("archive", "--program", "nowhere-2026", "--out", "n.zip"), "Loaded programs:"),
    ):
        refused = run(db_url, *args, cwd=tmp_path)
        assert refused.returncode == 2 and words in refused.stderr, refused
        assert "Traceback" not in refused.stderr
    assert not (tmp_path / "n.zip").exists()
    other = run(db_url, "archive", "--program", OTHER, "--out", "k.zip", cwd=tmp_path)
    assert other.returncode == 0 and "people 3" in other.stdout


def test_dates_in_the_archive_are_japan_time() -> None:
    moment = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
    assert (
        archive.table_json(["at"], [{"at": moment}])
        == b'[\n {\n  "at": "2026-12-01T10:00:00+09:00"\n }\n]'
    )
