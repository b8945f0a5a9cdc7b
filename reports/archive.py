"""The contract-end archive of one program (`dxbot archive`, issue 17), and its check.

One zip a prefecture can open without this software:

- ``csv/<table>.csv`` (UTF-8 with a BOM, CRLF, every text cell formula-safe) and
  ``json/<table>.json`` (a list of objects) for each table: cases, sessions, session reports with
  every version, surveys with their comments, status history, engagements, stage marks, events,
  deliverables, people, the audit trail and the list of attachments;
- ``reports/`` the session report documents (one per report version), ``plans/`` the plan
  document of each engagement, ``attachments/`` the attached files the bot could fetch (the
  others are listed with their links);
- ``profile.yaml`` the program's profile, ``README.txt`` (Japanese: every file and column) and
  ``manifest.json`` (bytes, SHA-256 and row count of every other file).

Pure over store queries: the attachment fetcher is injected (the CLI gives one that reaches the
chat platform with the bot's token), so this module holds no platform code.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from bot.core.catalog import MESSAGES, t
from reminders.clock import JST
from reports import plan_doc
from reports.safe_cells import neutralise
from reports.session_report import REPORT_FIELDS, build_report_files
from store import audit
from store.archive_queries import COLUMNS, Attachment, ProgramData, Row, load_program
from store.db import Session
from store.profiles import ProgramProfile

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
README = "README.txt"
PROFILE = "profile.yaml"
TABLES: tuple[str, ...] = (
    "cases",
    "sessions",
    "session_reports",
    "surveys",
    "status_history",
    "engagements",
    "stage_marks",
    "events",
    "deliverables",
    "people",
    "audit_log",
    "attachments",
)
AUDIT_COLUMNS = (
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "case_no",
    "program_id",
    "detail",
)
ATTACHMENT_COLUMNS = (
    "id",
    "session_id",
    "case_no",
    "filename",
    "content_type",
    "url",
    "archived_as",
)

Fetch = Callable[[str], Awaitable[bytes | None]]
"""Fetches an attachment's bytes by its URL; None when the platform does not let the bot."""


class ArchiveError(Exception):
    """The archive cannot be made (no such program)."""


@dataclass
class Archive:
    content: bytes
    manifest: dict[str, Any]
    rows: dict[str, int] = field(default_factory=dict)
    fetched: int = 0
    linked: int = 0


# --- cells -----------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A JSON value: times in JST ISO 8601, dates ISO, bytes never (they are files)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(JST).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _cell(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return neutralise(text)


def table_csv(columns: Sequence[str], rows: Sequence[Row]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def table_json(columns: Sequence[str], rows: Sequence[Row]) -> bytes:
    out = [{c: _plain(r.get(c)) for c in columns} for r in rows]
    return json.dumps(out, ensure_ascii=False, indent=1).encode("utf-8")


_UNSAFE = re.compile(r"[^0-9A-Za-z._\-\u3040-\u30ff\u3400-\u9fff]+")


def safe_name(name: str) -> str:
    """A file name safe inside a zip on every platform (no folders, no odd characters)."""
    cleaned = _UNSAFE.sub("_", name.replace("/", "_").replace("\\", "_")).strip("._")
    return cleaned[:120] or "file"


# --- building -------------------------------------------------------------------------------------


def _audit_rows(trail: Sequence[audit.AuditRow]) -> list[Row]:
    return [
        {
            "at": r.at,
            "actor": r.actor,
            "action": r.action,
            "object_type": r.object_type,
            "object_id": r.object_id,
            "case_no": r.case_no,
            "program_id": r.program_id,
            "detail": r.detail,
        }
        for r in trail
    ]


async def _attachments(
    items: Sequence[Attachment], fetch: Fetch | None
) -> tuple[list[Row], dict[str, bytes]]:
    rows: list[Row] = []
    files: dict[str, bytes] = {}
    for a in items:
        content = a.data
        if content is None and fetch is not None and a.url:
            content = await fetch(a.url)
        path = ""
        if content is not None:
            path = f"attachments/{a.id}_{safe_name(a.filename)}"
            files[path] = content
        rows.append(
            {
                "id": a.id,
                "session_id": a.session_id,
                "case_no": a.case_no,
                "filename": a.filename,
                "content_type": a.content_type,
                "url": a.url,
                "archived_as": path,
            }
        )
    return rows, files


async def build_archive(
    s: Session, program_id: str, now: dt.datetime, *, fetch: Fetch | None = None
) -> Archive:
    """Read everything ``program_id`` holds and pack it (see the module docstring)."""
    data = await load_program(s, program_id)
    if data is None:
        raise ArchiveError(program_id)
    profile = ProgramProfile.model_validate(data.program.profile)
    tables: dict[str, tuple[list[str], list[Row]]] = {
        name: (list(COLUMNS[name]), rows) for name, rows in data.tables.items()
    }
    tables["session_reports"] = _with_report_fields(data.tables["session_reports"])
    trail = await audit.trail(s, program_id=program_id)
    tables["audit_log"] = (list(AUDIT_COLUMNS), _audit_rows(trail))
    attachment_rows, attachment_files = await _attachments(data.attachments, fetch)
    tables["attachments"] = (list(ATTACHMENT_COLUMNS), attachment_rows)
    files: dict[str, bytes] = {}
    rows: dict[str, int] = {}
    for name in TABLES:
        columns, table = tables[name]
        files[f"csv/{name}.csv"] = table_csv(columns, table)
        files[f"json/{name}.json"] = table_json(columns, table)
        rows[f"csv/{name}.csv"] = rows[f"json/{name}.json"] = len(table)
    files.update(_report_files(profile, data))
    for case_id in data.engagement_case_ids:
        plan = await plan_doc.load_plan(s, profile, case_id, now)
        if plan is not None:
            f = plan_doc.plan_file(plan)
            files[f"plans/{safe_name(f.name)}"] = f.content
    files.update(attachment_files)
    files[PROFILE] = yaml.safe_dump(
        data.program.profile, allow_unicode=True, sort_keys=False
    ).encode("utf-8")
    columns_of = {name: tables[name][0] for name in TABLES}
    files[README] = readme(profile, now, sorted(files), columns_of).encode("utf-8")
    manifest = {
        "format": FORMAT_VERSION,
        "program_id": profile.id,
        "program_name": profile.name,
        "created_at": now.astimezone(JST).isoformat(),
        "tables": {name: rows[f"csv/{name}.csv"] for name in TABLES},
        "files": [
            {
                "path": path,
                "bytes": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
                **({"rows": rows[path]} if path in rows else {}),
            }
            for path, content in sorted(files.items())
        ],
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path, content in sorted(files.items()):
            z.writestr(path, content)
        z.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
    return Archive(
        content=buf.getvalue(),
        manifest=manifest,
        rows={name: rows[f"csv/{name}.csv"] for name in TABLES},
        fetched=sum(1 for r in attachment_rows if r["archived_as"]),
        linked=sum(1 for r in attachment_rows if not r["archived_as"]),
    )


def _with_report_fields(rows: list[Row]) -> tuple[list[str], list[Row]]:
    """Report versions with each asked field in a column of its own (``report_summary`` …)
    beside the whole ``fields`` object, so a spreadsheet reads them without parsing JSON."""
    keys = [f"report_{f.key}" for f in REPORT_FIELDS if f.asked]
    out = []
    for r in rows:
        fields = r.get("fields") or {}
        out.append({**r, **{k: fields.get(k.removeprefix("report_"), "") for k in keys}})
    return [*COLUMNS["session_reports"], *keys], out


def _report_files(profile: ProgramProfile, data: ProgramData) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for v in data.reports:
        for doc in build_report_files(profile, v.case, v.session, v.report):
            stem = safe_name(f"S{v.session.id}_{doc.name.removesuffix('.xlsx')}")
            path = f"reports/{stem}.xlsx"
            n = 2
            while path in files:
                path = f"reports/{stem}_{n}.xlsx"
                n += 1
            files[path] = doc.content
    return files


# --- the README -------------------------------------------------------------------------------------


def column_text(table: str, column: str) -> str:
    """The Japanese description of a column; KeyError when the catalogue has none."""
    labels = {f"report_{f.key}": f.label for f in REPORT_FIELDS}
    if table == "session_reports" and column in labels:
        return t("arc_col_session_reports_report_field", label=labels[column])
    for key in (f"arc_col_{table}_{column}", f"arc_col_{column}"):
        if key in MESSAGES:
            return t(key)
    raise KeyError(f"no description of column {table}.{column}")


def _file_text(path: str) -> str:
    if path == README:
        return t("arc_file_readme")
    if path == PROFILE:
        return t("arc_file_profile")
    if path.startswith(("csv/", "json/")):
        name = path.split("/", 1)[1].rsplit(".", 1)[0]
        return t("arc_file_table", text=t(f"arc_table_{name}"))
    folder = path.split("/", 1)[0]
    return t(f"arc_file_{folder}")


def readme(
    profile: ProgramProfile,
    now: dt.datetime,
    paths: Sequence[str],
    columns: Mapping[str, Sequence[str]],
) -> str:
    lines = [
        t("arc_readme_title", program=profile.name, program_id=profile.id),
        "",
        t("arc_readme_intro", created_at=now.astimezone(JST).strftime("%Y-%m-%d %H:%M")),
        "",
        t("arc_readme_files"),
        t("arc_readme_file_line", path=MANIFEST, text=t("arc_file_manifest")),
    ]
    shown_folders: set[str] = set()
    for path in sorted({*paths, README}):
        folder = path.split("/", 1)[0] if "/" in path else ""
        if folder in ("reports", "plans", "attachments"):
            if folder in shown_folders:
                continue
            shown_folders.add(folder)
            lines.append(t("arc_readme_file_line", path=folder + "/", text=_file_text(path)))
            continue
        lines.append(t("arc_readme_file_line", path=path, text=_file_text(path)))
    for name in TABLES:
        lines += ["", t("arc_readme_columns", file=f"csv/{name}.csv, json/{name}.json")]
        for column in columns[name]:
            lines.append(t("arc_readme_column_line", column=column, text=column_text(name, column)))
    return "\r\n".join(lines) + "\r\n"


# --- verification -----------------------------------------------------------------------------------


def verify(content: bytes) -> list[str]:
    """What is wrong with an archive (English, one line each); empty when every file is present
    with its recorded size, SHA-256 and row count and nothing unlisted was added."""
    try:
        z = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        return ["not a zip file"]
    with z:
        names = set(z.namelist())
        if MANIFEST not in names:
            return [f"no {MANIFEST} in the archive"]
        try:
            manifest = json.loads(z.read(MANIFEST))
            listed = {f["path"]: f for f in manifest["files"]}
        except (ValueError, KeyError, TypeError):
            return [f"{MANIFEST} is not a valid manifest"]
        problems: list[str] = []
        for path, entry in sorted(listed.items()):
            if path not in names:
                problems.append(f"{path}: listed in the manifest but missing")
                continue
            body = z.read(path)
            if hashlib.sha256(body).hexdigest() != entry.get("sha256"):
                problems.append(f"{path}: SHA-256 does not match the manifest")
            elif len(body) != entry.get("bytes"):
                problems.append(f"{path}: size does not match the manifest")
            elif "rows" in entry and path.startswith("json/"):
                if len(json.loads(body)) != entry["rows"]:
                    problems.append(f"{path}: row count does not match the manifest")
        for path in sorted(names - set(listed) - {MANIFEST}):
            problems.append(f"{path}: not listed in the manifest")
        return problems


def manifest_of(content: bytes) -> dict[str, Any]:
    """The manifest of an archive that ``verify`` found sound."""
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        manifest: dict[str, Any] = json.loads(z.read(MANIFEST))
    return manifest
