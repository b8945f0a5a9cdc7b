"""What becomes of each table at contract end (issue 17): the one list to decide it in.

`dxbot archive` (reports/archive.py over store/archive_queries.py) hands the program's records
over; `dxbot erase` (store/erasure.py) deletes them and the program's people. Both are written
table by table, because each table reaches its program by a different path. This map is where a
new table gets its fate decided: tests/test_data_map.py fails until every table of the schema is
listed here, until the archive's files are exactly the ones named here, and until the erasure
counts every table said to be counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AtErasure = Literal["deleted", "deleted_with_parent", "kept"]


@dataclass(frozen=True)
class Fate:
    archived_as: str | None
    """The archive's table (csv/<name>.csv and json/<name>.json) holding these rows, or None."""
    at_erasure: AtErasure
    """deleted: the program's (or its erased people's) rows go, counted in the erasure record;
    deleted_with_parent: they go with the row they belong to, not counted on their own;
    kept: no personal data of the program (reference data, aggregates, the erasure record).
    Rows of other programs that mention an erased person are redacted (``erasure``), not
    listed here."""
    why: str = ""


TABLES: dict[str, Fate] = {
    "programs": Fate(None, "kept", "the profile and aggregate counts stay (§10(4))"),
    "cases": Fate("cases", "deleted"),
    "sessions": Fate("sessions", "deleted"),
    "session_municipalities": Fate("sessions", "deleted_with_parent", "a session's columns"),
    "session_experts": Fate("sessions", "deleted_with_parent", "a session's columns"),
    "session_reports": Fate("session_reports", "deleted"),
    "report_attachments": Fate("attachments", "deleted"),
    "surveys": Fate("surveys", "deleted"),
    "status_history": Fate("status_history", "deleted"),
    "engagements": Fate("engagements", "deleted"),
    "stage_marks": Fate("stage_marks", "deleted"),
    "program_events": Fate("events", "deleted"),
    "deliverable_items": Fate("deliverables", "deleted"),
    "audit_log": Fate("audit_log", "deleted"),
    "users": Fate("people", "deleted", "people in another program keep their account"),
    "program_members": Fate("people", "deleted", "a person's role in the program"),
    "expert_profiles": Fate("people", "deleted_with_parent", "an expert's account"),
    "conversation_states": Fate(None, "deleted", "unfinished chat input, not a record"),
    "inbox": Fate(None, "deleted", "chat deliveries, not a record"),
    "outbox": Fate(None, "deleted", "messages sent or to send, not a record"),
    "reminder_ledger": Fate(None, "deleted_with_parent", "which reminder went to whom"),
    "web_links": Fate(None, "deleted", "sign-in links (hashes)"),
    "web_sessions": Fate(None, "deleted", "web sign-ins (hashes)"),
    "processed_events": Fate(None, "kept", "platform event ids seen, no content"),
    "session_tallies": Fate(None, "kept", "aggregate counts kept by triggers"),
    "survey_tallies": Fate(None, "kept", "aggregate counts kept by triggers"),
    "municipalities": Fate(None, "kept", "reference data"),
    "domains": Fate(None, "kept", "reference data"),
    "erasure_records": Fate(None, "kept", "the proof of erasure itself"),
}


def archived_tables() -> set[str]:
    """The archive's table names this map expects (reports.archive.TABLES must equal it)."""
    return {f.archived_as for f in TABLES.values() if f.archived_as}


def counted_at_erasure() -> set[str]:
    """The tables whose rows the erasure record counts before and after."""
    return {name for name, f in TABLES.items() if f.at_erasure == "deleted"}
