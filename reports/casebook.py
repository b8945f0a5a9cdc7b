"""相談事例集: an anonymised collection of cases for sharing among municipalities
(Kumamoto §2.3 相談事例集の展開, Saitama §6(9) 支援事例の共有).

Each entry is a case that has at least one session report: domain, the challenge, what was
advised, the effect. No personal names ever: the requester's name, title and department and the
attendees are left out, and every registered person's name, e-mail address or phone number that
appears in the free text is masked. Municipality names are kept, or (the default: Nagano's seed
asks for the municipality's consent before its case is shared widely) replaced by a neutral label
such as 「A市」 everywhere, free text included.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from bot.core.catalog import t
from reminders.clock import JST
from reports.export import ExportFile
from reports.masking import Masker
from reports.masking import municipality_labels as municipality_labels  # re-exported
from reports.safe_cells import DANGEROUS_FIRST
from store import reporting
from store.db import Session
from store.profiles import ProgramProfile
from store.reporting import CaseRow, SessionRow

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Entry:
    number: int
    municipality: str
    track: str
    domains: list[str]
    challenge: str
    advice: str
    effect: str
    sessions: int
    satisfaction: float | None


def _field(report: dict[str, Any] | None, key: str) -> str:
    value = (report or {}).get(key, "")
    return "" if value is None else str(value).strip()


def _join(parts: list[str]) -> str:
    return "\n".join(dict.fromkeys(p for p in parts if p))


def build_entries(
    cases: list[CaseRow],
    sessions: list[SessionRow],
    masker: Masker,
    profile: ProgramProfile,
) -> list[Entry]:
    """One entry per reported case, in case order: the challenge from the consultation and the
    issues found, the advice from every session's response and policy, the latest effect."""
    by_case: dict[int, list[SessionRow]] = {}
    for r in sessions:
        if r.report is not None and r.status != "cancelled":
            by_case.setdefault(r.case_id, []).append(r)
    entries: list[Entry] = []
    for c in cases:
        reported = by_case.get(c.id)
        if not reported:
            continue
        rated = [r.satisfaction for r in reported if r.survey_answered and r.satisfaction]
        challenge = _join([c.description, *(_field(r.report, "issues") for r in reported)])
        advice = _join(
            [
                x
                for r in reported
                for x in (_field(r.report, "response"), _field(r.report, "policy"))
            ]
        )
        effects = [_field(r.report, "effect") for r in reported]
        try:
            track = profile.track(c.track_id).name
        except KeyError:
            track = c.track_id
        entries.append(
            Entry(
                number=len(entries) + 1,
                municipality=masker.municipality(c.municipality_code, c.municipality_name),
                track=track,
                domains=list(c.domains),
                challenge=masker.text(challenge),
                advice=masker.text(advice),
                effect=masker.text(next((e for e in reversed(effects) if e), "")),
                sessions=len(reported),
                satisfaction=sum(rated) / len(rated) if rated else None,
            )
        )
    return entries


async def load_casebook(
    s: Session, profile: ProgramProfile, now: dt.datetime, *, mask_municipalities: bool
) -> list[Entry]:
    cases = await reporting.case_rows(s, profile.id, now)
    sessions = await reporting.sessions_between(s, profile.id, None, None, with_reports=True)
    masker = Masker(
        await reporting.people_names(s),
        await reporting.municipality_names(s, profile.prefecture_code),
        mask_municipalities,
    )
    return build_entries(cases, sessions, masker, profile)


COLUMNS = (
    ("cb_col_number", 6),
    ("cb_col_municipality", 10),
    ("cb_col_track", 22),
    ("cb_col_domains", 24),
    ("cb_col_challenge", 50),
    ("cb_col_advice", 50),
    ("cb_col_effect", 40),
    ("cb_col_sessions", 8),
    ("cb_col_satisfaction", 10),
)


def casebook_xlsx(entries: list[Entry], profile: ProgramProfile, masked: bool) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = t("cb_sheet")
    ws.cell(row=1, column=1, value=t("cb_heading", program=profile.name)).font = Font(
        name="Yu Gothic", bold=True, size=14
    )
    ws.cell(row=2, column=1, value=t("cb_note_masked" if masked else "cb_note_named"))
    head = 4
    for i, (key, width) in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=head, column=i, value=t(key))
        cell.font = Font(name="Yu Gothic", bold=True)
        cell.fill = PatternFill("solid", fgColor="E2EFDA")
        ws.column_dimensions[get_column_letter(i)].width = width
    wrap = Alignment(vertical="top", wrap_text=True)
    for r, e in enumerate(entries, start=head + 1):
        values = (
            e.number,
            e.municipality,
            e.track,
            "、".join(e.domains),
            e.challenge,
            e.advice,
            e.effect,
            e.sessions,
            round(e.satisfaction, 1) if e.satisfaction is not None else None,
        )
        for i, v in enumerate(values, start=1):
            cell = ws.cell(row=r, column=i, value=v)
            cell.alignment = wrap
            if isinstance(v, str):
                cell.data_type = "s"
                if v.startswith(DANGEROUS_FIRST):
                    cell.quotePrefix = True
    ws.freeze_panes = f"A{head + 1}"
    ws.auto_filter.ref = f"A{head}:{get_column_letter(len(COLUMNS))}{head + max(len(entries), 1)}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def casebook_file(
    entries: list[Entry], profile: ProgramProfile, now: dt.datetime, *, masked: bool
) -> ExportFile:
    """The collection as an Excel file (CPU only: callers may run it in a worker thread)."""
    day = now.astimezone(JST).strftime("%Y%m%d")
    return ExportFile(
        name=f"{profile.id}_casebook_{day}.xlsx",
        content=casebook_xlsx(entries, profile, masked),
        content_type=XLSX,
        title=t("cb_title", program=profile.name),
    )
