"""The rules every reporting view shares: which sessions count (not cancelled) and which
sessions and cases a scope may see.
"""

from __future__ import annotations

from typing import TypeVarTuple

from sqlalchemy import Select, literal_column, or_, select

from store.models import Case, SessionExpert, SessionMunicipality, SupportSession
from store.scope import Scope

# A literal (not a bound parameter), so SQLite and PostgreSQL can match it against the
# predicate of the partial index ``ix_sessions_report_pending``.
NOT_CANCELLED = SupportSession.status != literal_column("'cancelled'")

_Row = TypeVarTuple("_Row")


def scoped_sessions(q: Select[*_Row], scope: Scope) -> Select[*_Row]:
    """Restrict a query over ``sessions`` to the sessions a scope may see."""
    if scope.municipality_code is not None:
        q = q.where(
            SupportSession.id.in_(
                select(SessionMunicipality.session_id).where(
                    SessionMunicipality.municipality_code == scope.municipality_code
                )
            )
        )
    if scope.expert_user_id is not None:
        q = q.where(
            SupportSession.id.in_(
                select(SessionExpert.session_id).where(
                    SessionExpert.user_id == scope.expert_user_id
                )
            )
        )
    return q


def scoped_cases(q: Select[*_Row], scope: Scope) -> Select[*_Row]:
    """Restrict a query over ``cases``: a municipality sees its own cases and the cases whose
    sessions it joined; an expert the cases assigned to them or whose sessions they hold."""
    if scope.municipality_code is not None:
        code = scope.municipality_code
        q = q.where(
            or_(
                Case.municipality_code == code,
                Case.id.in_(
                    select(SupportSession.case_id)
                    .join(SessionMunicipality, SessionMunicipality.session_id == SupportSession.id)
                    .where(SessionMunicipality.municipality_code == code)
                ),
            )
        )
    if scope.expert_user_id is not None:
        uid = scope.expert_user_id
        q = q.where(
            or_(
                Case.approved_expert_user_id == uid,
                Case.id.in_(
                    select(SupportSession.case_id)
                    .join(SessionExpert, SessionExpert.session_id == SupportSession.id)
                    .where(SessionExpert.user_id == uid)
                ),
            )
        )
    return q
