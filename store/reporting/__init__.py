"""The queries behind `/status`, the exports and the decks: the only SQL of the reporting views.

Every view is a handful of set-based statements (GROUP BY in the database, people and
municipalities of many sessions fetched in one statement each), never one query per row, so
the cost of `/status` does not grow with the number of rows it lists.

Counting rules, shared by every view so the chat, the exports and the decks agree, live in
``counting`` (held / scheduled / cancelled / outside the term, and every figure derived from
them). A joint session for several municipalities is one row in ``sessions``, so it counts once
toward its track's total (Kumamoto §2.4), and once toward each participating municipality's
count (the same rule as the per-municipality cap in ``store.matching``).
- A report is *pending* for a held session with no report yet; it is *overdue* once its due
  day has passed.
- Survey averages use the answered surveys only.

Rows are returned as plain dataclasses (never ORM objects), so nothing can lazy-load later.

The views live in one module per concern, re-exported here (``from store import reporting``):
``counting`` (the figures), ``counts`` (case statuses), ``surveys``, ``tallies`` (their
rebuild and check), ``session_rows`` (lists of
sessions, pending reports), ``case_rows`` (the 管理表/export rows, one case's detail) and
``names``; ``scoping`` holds the rules they share.
"""

from __future__ import annotations

from store.reference import municipality_name, municipality_names
from store.reporting.case_rows import CaseDetail, CaseRow, HistoryRow, case_detail, case_rows
from store.reporting.counting import (
    COUNT_STATES,
    CountingWindow,
    CountState,
    ExpertFigures,
    Figures,
    MunicipalityFigures,
    OnsiteRuleFigures,
    TrackFigures,
    count_figures,
    count_state,
    counting_window,
    direct_figures,
    onsite_rules,
    track_figures,
)
from store.reporting.counts import case_status_counts
from store.reporting.names import people_names, user_role_counts
from store.reporting.scoping import NOT_CANCELLED
from store.reporting.session_rows import (
    PendingReports,
    SessionRow,
    attach_people,
    first_sessions,
    pending_reports,
    sessions_between,
)
from store.reporting.surveys import SurveySummary, survey_summary
from store.reporting.tallies import rebuild_tallies, tally_rows

__all__ = [
    "COUNT_STATES",
    "NOT_CANCELLED",
    "CaseDetail",
    "CaseRow",
    "CountState",
    "CountingWindow",
    "ExpertFigures",
    "Figures",
    "HistoryRow",
    "MunicipalityFigures",
    "OnsiteRuleFigures",
    "PendingReports",
    "SessionRow",
    "SurveySummary",
    "TrackFigures",
    "attach_people",
    "case_detail",
    "case_rows",
    "case_status_counts",
    "count_figures",
    "count_state",
    "counting_window",
    "direct_figures",
    "first_sessions",
    "municipality_name",
    "municipality_names",
    "onsite_rules",
    "pending_reports",
    "people_names",
    "rebuild_tallies",
    "sessions_between",
    "survey_summary",
    "tally_rows",
    "track_figures",
    "user_role_counts",
]
