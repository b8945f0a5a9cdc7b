"""sessions: where the report stands on its way to the receiver the profile names

Revision ID: 0004_d
Revises: 0003_e
Create Date: 2026-12-03

Three columns on ``sessions`` (issue 12, reports follow the profile):

- ``report_stage``: 'open' (not in yet, or being written), 'review' (handed in, waiting for the
  staff's review), 'returned' (sent back to the expert with a reason), 'delivered' (reached the
  receiver the profile names; ``report_submitted_at`` is that moment: the deadline is met then);
- ``report_handed_in_at``: when the expert last handed the report in (review waiting time);
- ``report_review_note``: the reason of the last send-back.

Sessions already reported are 'delivered'. On SQLite the columns are added with a plain
``ALTER TABLE … ADD COLUMN`` (a batch rebuild would copy the table and drop the tally triggers
of migration 0002); the downgrade drops them the same way (SQLite 3.35+).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0004_d"
down_revision = "0003_e"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE sessions ADD COLUMN report_stage VARCHAR(16) NOT NULL DEFAULT 'open'"
        )
        op.execute("ALTER TABLE sessions ADD COLUMN report_handed_in_at DATETIME")
        op.execute("ALTER TABLE sessions ADD COLUMN report_review_note TEXT NOT NULL DEFAULT ''")
    else:
        op.add_column(
            "sessions",
            sa.Column("report_stage", sa.String(16), nullable=False, server_default="open"),
        )
        op.add_column(
            "sessions",
            sa.Column(
                "report_handed_in_at", store.models.UTCDateTime(timezone=True), nullable=True
            ),
        )
        op.add_column(
            "sessions",
            sa.Column("report_review_note", sa.Text(), nullable=False, server_default=""),
        )
    op.execute(
        "UPDATE sessions SET report_stage = 'delivered', report_handed_in_at = report_submitted_at"
        " WHERE report_submitted_at IS NOT NULL"
    )


def downgrade() -> None:
    for column in ("report_review_note", "report_handed_in_at", "report_stage"):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE sessions DROP COLUMN {column}")
        else:
            op.drop_column("sessions", column)
