"""reporting: indexes for /status, and tallies of sessions, cases and surveys kept by triggers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

`/status` must stay fast with a million sessions. ``session_tallies`` keeps running totals of
each program's non-cancelled sessions — per track ('track'), per track and municipality
('muni'), per track and expert ('expert'), per track and JST day the session ends ('ends') or
starts ('starts') — and of its cases per track and status ('case'); ``survey_tallies`` counts
surveys. Triggers update them in the same transaction as every insert, update or delete of
sessions, session_municipalities, session_experts, cases and surveys, whatever code makes the
change. The upgrade fills them from the rows already there (existing databases and bulk loads
made before it are counted); ``store.reporting.rebuild_tallies`` recomputes them the same way.
Hand-written: Alembic's autogenerate does not see triggers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ONSITE = "CASE WHEN {r}.method = 'onsite' THEN 1 ELSE 0 END"
ANSWERED = "CASE WHEN {r}.answered_at IS NULL THEN 0 ELSE 1 END"
# The JST calendar day of a stored time: SQLite keeps naive UTC text, PostgreSQL timestamptz.
JST_DAY = {
    "sqlite": "date({r}.{col}, '+9 hours')",
    "postgresql": "to_char({r}.{col} AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD')",
}
TALLY_COLUMNS = "(program_id, track_id, dim, key, sessions, hours, onsite)"
SURVEY_COLUMNS = "(program_id, satisfaction, resolved, answered, n)"
TALLY_UPSERT = (
    " ON CONFLICT (program_id, track_id, dim, key) DO UPDATE SET"
    " sessions = session_tallies.sessions + excluded.sessions,"
    " hours = session_tallies.hours + excluded.hours,"
    " onsite = session_tallies.onsite + excluded.onsite"
)
SURVEY_UPSERT = (
    " ON CONFLICT (program_id, satisfaction, resolved, answered) DO UPDATE SET"
    " n = survey_tallies.n + excluded.n"
)
CHILDREN = (
    # (table, dim, key expression over the child row {r})
    ("session_municipalities", "muni", "{r}.municipality_code"),
    ("session_experts", "expert", "CAST({r}.user_id AS VARCHAR(64))"),
)
PENDING = "report_submitted_at IS NULL AND status <> 'cancelled'"


def session_keys(dialect: str, r: str) -> list[tuple[str, str]]:
    """(dim, key expression) of the rows a session counts in by itself."""
    day = JST_DAY[dialect]
    return [
        ("track", "''"),
        ("ends", day.format(r=r, col="ends_at")),
        ("starts", day.format(r=r, col="starts_at")),
    ]


def backfill(dialect: str) -> list[str]:
    out = []
    for dim, key in session_keys(dialect, "s"):
        by_key = "" if key == "''" else f", {key}"  # PostgreSQL refuses a constant in GROUP BY
        out.append(
            f"INSERT INTO session_tallies {TALLY_COLUMNS}"
            f" SELECT s.program_id, s.track_id, '{dim}', {key}, COUNT(*), COALESCE(SUM(s.hours), 0),"
            f" SUM({ONSITE.format(r='s')}) FROM sessions s WHERE s.status <> 'cancelled'"
            f" GROUP BY s.program_id, s.track_id{by_key}"
        )
    for table, dim, key in CHILDREN:
        k = key.format(r="c")
        out.append(
            f"INSERT INTO session_tallies {TALLY_COLUMNS}"
            f" SELECT s.program_id, s.track_id, '{dim}', {k}, COUNT(*), COALESCE(SUM(s.hours), 0),"
            f" SUM({ONSITE.format(r='s')}) FROM {table} c JOIN sessions s ON s.id = c.session_id"
            f" WHERE s.status <> 'cancelled' GROUP BY s.program_id, s.track_id, {k}"
        )
    out.append(
        f"INSERT INTO session_tallies {TALLY_COLUMNS}"
        " SELECT program_id, track_id, 'case', status, COUNT(*), 0, 0 FROM cases"
        " GROUP BY program_id, track_id, status"
    )
    out.append(
        f"INSERT INTO survey_tallies {SURVEY_COLUMNS}"
        " SELECT s.program_id, COALESCE(v.satisfaction, 0), COALESCE(v.resolved, ''),"
        f" {ANSWERED.format(r='v')}, COUNT(*) FROM surveys v JOIN sessions s ON s.id = v.session_id"
        " GROUP BY s.program_id, COALESCE(v.satisfaction, 0), COALESCE(v.resolved, ''),"
        f" {ANSWERED.format(r='v')}"
    )
    return out


# --- the statements a change runs (shared by both dialects) ----------------------------------------


def session_delta(dialect: str, row: str, sign: int) -> list[str]:
    """Add (+1) or remove (-1) a session row's share: its track and days, its municipalities
    and experts."""
    s = "-" if sign < 0 else ""
    cond = f"{row}.status <> 'cancelled'"
    out = [
        f"INSERT INTO session_tallies {TALLY_COLUMNS}"
        f" SELECT {row}.program_id, {row}.track_id, '{dim}', {key}, {sign}, {s}{row}.hours,"
        f" {s}({ONSITE.format(r=row)}) WHERE {cond}" + TALLY_UPSERT
        for dim, key in session_keys(dialect, row)
    ]
    for table, dim, key in CHILDREN:
        out.append(
            f"INSERT INTO session_tallies {TALLY_COLUMNS}"
            f" SELECT {row}.program_id, {row}.track_id, '{dim}', {key.format(r='c')}, {sign},"
            f" {s}{row}.hours, {s}({ONSITE.format(r=row)})"
            f" FROM {table} c WHERE c.session_id = {row}.id AND {cond}" + TALLY_UPSERT
        )
    return out


def child_delta(dim: str, key: str, row: str, sign: int) -> str:
    """Add or remove one municipality's or expert's share of its (non-cancelled) session."""
    s = "-" if sign < 0 else ""
    return (
        f"INSERT INTO session_tallies {TALLY_COLUMNS}"
        f" SELECT p.program_id, p.track_id, '{dim}', {key.format(r=row)}, {sign}, {s}p.hours,"
        f" {s}({ONSITE.format(r='p')}) FROM sessions p"
        f" WHERE p.id = {row}.session_id AND p.status <> 'cancelled'" + TALLY_UPSERT
    )


def case_delta(row: str, sign: int) -> str:
    return (
        f"INSERT INTO session_tallies {TALLY_COLUMNS}"
        f" SELECT {row}.program_id, {row}.track_id, 'case', {row}.status, {sign}, 0, 0"
        " WHERE 1 = 1" + TALLY_UPSERT
    )


def survey_delta(row: str, sign: int) -> str:
    return (
        f"INSERT INTO survey_tallies {SURVEY_COLUMNS}"
        f" SELECT p.program_id, COALESCE({row}.satisfaction, 0), COALESCE({row}.resolved, ''),"
        f" {ANSWERED.format(r=row)}, {sign} FROM sessions p WHERE p.id = {row}.session_id"
        + SURVEY_UPSERT
    )


def surveys_of_deleted_session() -> str:
    return (
        f"INSERT INTO survey_tallies {SURVEY_COLUMNS}"
        " SELECT OLD.program_id, COALESCE(v.satisfaction, 0), COALESCE(v.resolved, ''),"
        f" {ANSWERED.format(r='v')}, -1 FROM surveys v WHERE v.session_id = OLD.id" + SURVEY_UPSERT
    )


SESSIONS_WATCHED = "program_id, track_id, status, hours, method, starts_at, ends_at"
SURVEYS_WATCHED = "session_id, satisfaction, resolved, answered_at"
CASES_WATCHED = "program_id, track_id, status"


# --- SQLite: triggers with bodies ---------------------------------------------------------------------


def _body(stmts: list[str]) -> str:
    return "BEGIN " + "; ".join(stmts) + "; END"


def sqlite_triggers() -> dict[str, str]:
    """name -> CREATE TRIGGER. A deleted session removes its whole share BEFORE the delete (its
    municipalities, experts and survey still exist then); the cascaded child deletes find no
    session afterwards and change nothing."""
    d = "sqlite"
    out = {
        "trg_sessions_tally_insert": "AFTER INSERT ON sessions FOR EACH ROW "
        + _body(session_delta(d, "NEW", 1)),
        "trg_sessions_tally_update": f"AFTER UPDATE OF {SESSIONS_WATCHED} ON sessions"
        " FOR EACH ROW " + _body([*session_delta(d, "OLD", -1), *session_delta(d, "NEW", 1)]),
        "trg_sessions_tally_delete": "BEFORE DELETE ON sessions FOR EACH ROW "
        + _body([*session_delta(d, "OLD", -1), surveys_of_deleted_session()]),
        "trg_surveys_tally_insert": "AFTER INSERT ON surveys FOR EACH ROW "
        + _body([survey_delta("NEW", 1)]),
        "trg_surveys_tally_update": f"AFTER UPDATE OF {SURVEYS_WATCHED} ON surveys"
        " FOR EACH ROW " + _body([survey_delta("OLD", -1), survey_delta("NEW", 1)]),
        "trg_surveys_tally_delete": "AFTER DELETE ON surveys FOR EACH ROW "
        + _body([survey_delta("OLD", -1)]),
        "trg_cases_tally_insert": "AFTER INSERT ON cases FOR EACH ROW "
        + _body([case_delta("NEW", 1)]),
        "trg_cases_tally_update": f"AFTER UPDATE OF {CASES_WATCHED} ON cases FOR EACH ROW "
        + _body([case_delta("OLD", -1), case_delta("NEW", 1)]),
        "trg_cases_tally_delete": "AFTER DELETE ON cases FOR EACH ROW "
        + _body([case_delta("OLD", -1)]),
    }
    for table, dim, key in CHILDREN:
        out[f"trg_{table}_tally_insert"] = f"AFTER INSERT ON {table} FOR EACH ROW " + _body(
            [child_delta(dim, key, "NEW", 1)]
        )
        out[f"trg_{table}_tally_update"] = f"AFTER UPDATE ON {table} FOR EACH ROW " + _body(
            [child_delta(dim, key, "OLD", -1), child_delta(dim, key, "NEW", 1)]
        )
        out[f"trg_{table}_tally_delete"] = f"AFTER DELETE ON {table} FOR EACH ROW " + _body(
            [child_delta(dim, key, "OLD", -1)]
        )
    return {name: f"CREATE TRIGGER {name} {rest}" for name, rest in out.items()}


# --- PostgreSQL: one function per table --------------------------------------------------------------


def _plpgsql(name: str, body: str) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\nEND\n$$"
    )


def _block(stmts: list[str]) -> str:
    return "\n".join(f"    {st};" for st in stmts)


def _old_new(old: list[str], new: list[str], tail: str = "  RETURN NULL;") -> str:
    return (
        "  IF TG_OP <> 'INSERT' THEN\n" + _block(old) + "\n  END IF;\n"
        "  IF TG_OP <> 'DELETE' THEN\n" + _block(new) + "\n  END IF;\n" + tail
    )


def postgresql_functions() -> dict[str, str]:
    """name -> CREATE FUNCTION. TG_OP picks the old and/or new share."""
    d = "postgresql"
    fns = {
        "dxbot_sessions_tally": _old_new(
            session_delta(d, "OLD", -1),
            session_delta(d, "NEW", 1),
            "  IF TG_OP = 'DELETE' THEN\n"
            + _block([surveys_of_deleted_session()])
            + "\n    RETURN OLD;\n  END IF;\n  RETURN NEW;",
        ),
        "dxbot_surveys_tally": _old_new([survey_delta("OLD", -1)], [survey_delta("NEW", 1)]),
        "dxbot_cases_tally": _old_new([case_delta("OLD", -1)], [case_delta("NEW", 1)]),
    }
    for table, dim, key in CHILDREN:
        fns[f"dxbot_{table}_tally"] = _old_new(
            [child_delta(dim, key, "OLD", -1)], [child_delta(dim, key, "NEW", 1)]
        )
    return {name: _plpgsql(name, body) for name, body in fns.items()}


def postgresql_triggers() -> dict[str, tuple[str, str]]:
    """name -> (table, CREATE TRIGGER)."""
    out = {
        "trg_sessions_tally": (
            "sessions",
            f"AFTER INSERT OR UPDATE OF {SESSIONS_WATCHED} ON sessions"
            " FOR EACH ROW EXECUTE FUNCTION dxbot_sessions_tally()",
        ),
        "trg_sessions_tally_delete": (
            "sessions",
            "BEFORE DELETE ON sessions FOR EACH ROW EXECUTE FUNCTION dxbot_sessions_tally()",
        ),
        "trg_surveys_tally": (
            "surveys",
            f"AFTER INSERT OR DELETE OR UPDATE OF {SURVEYS_WATCHED} ON surveys"
            " FOR EACH ROW EXECUTE FUNCTION dxbot_surveys_tally()",
        ),
        "trg_cases_tally": (
            "cases",
            f"AFTER INSERT OR DELETE OR UPDATE OF {CASES_WATCHED} ON cases"
            " FOR EACH ROW EXECUTE FUNCTION dxbot_cases_tally()",
        ),
    }
    for table, _dim, _key in CHILDREN:
        out[f"trg_{table}_tally"] = (
            table,
            f"AFTER INSERT OR UPDATE OR DELETE ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION dxbot_{table}_tally()",
        )
    return {name: (table, f"CREATE TRIGGER {name} {rest}") for name, (table, rest) in out.items()}


# --- upgrade / downgrade ----------------------------------------------------------------------------


def upgrade() -> None:
    op.create_table(
        "session_tallies",
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("track_id", sa.String(length=40), nullable=False),
        sa.Column("dim", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("onsite", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "program_id", "track_id", "dim", "key", name=op.f("pk_session_tallies")
        ),
    )
    op.create_table(
        "survey_tallies",
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.String(length=16), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "program_id", "satisfaction", "resolved", "answered", name=op.f("pk_survey_tallies")
        ),
    )
    op.create_index(
        "ix_sessions_program_ends",
        "sessions",
        ["program_id", "ends_at", "track_id", "status", "hours", "method"],
        unique=False,
    )
    op.create_index(
        "ix_sessions_program_starts_status",
        "sessions",
        ["program_id", "starts_at", "status"],
        unique=False,
    )
    op.create_index(
        "ix_sessions_program_pending",
        "sessions",
        ["program_id", "report_due", "ends_at"],
        unique=False,
        postgresql_where=sa.text(PENDING),
        sqlite_where=sa.text(PENDING),
    )
    dialect = op.get_bind().dialect.name
    for statement in backfill(dialect):
        op.execute(statement)
    if dialect == "postgresql":
        for ddl in postgresql_functions().values():
            op.execute(ddl)
        for _table, ddl in postgresql_triggers().values():
            op.execute(ddl)
    else:
        for ddl in sqlite_triggers().values():
            op.execute(ddl)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, _ddl) in postgresql_triggers().items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for name in postgresql_functions():
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in sqlite_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index(
        "ix_sessions_program_pending",
        table_name="sessions",
        postgresql_where=sa.text(PENDING),
        sqlite_where=sa.text(PENDING),
    )
    op.drop_index("ix_sessions_program_starts_status", table_name="sessions")
    op.drop_index("ix_sessions_program_ends", table_name="sessions")
    op.drop_table("survey_tallies")
    op.drop_table("session_tallies")
