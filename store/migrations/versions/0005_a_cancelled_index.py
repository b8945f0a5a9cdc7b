"""sessions: a partial index on the cancelled sessions of a program, per track

Revision ID: 0005_a
Revises: 0004_d
Create Date: 2026-12-03

The counting module (``store.reporting.counting``) shows each track's cancelled sessions beside
its held and scheduled ones. The tallies of migration 0002 hold non-cancelled sessions only, so
the cancelled ones are counted from the rows: this partial index holds just them, so `/status`
reads a few entries instead of the program's whole year.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_a"
down_revision = "0004_d"
branch_labels = None
depends_on = None

CANCELLED = "status = 'cancelled'"


def upgrade() -> None:
    op.create_index(
        "ix_sessions_program_cancelled",
        "sessions",
        ["program_id", "track_id", "starts_at"],
        unique=False,
        postgresql_where=sa.text(CANCELLED),
        sqlite_where=sa.text(CANCELLED),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_sessions_program_cancelled",
        table_name="sessions",
        postgresql_where=sa.text(CANCELLED),
        sqlite_where=sa.text(CANCELLED),
    )
