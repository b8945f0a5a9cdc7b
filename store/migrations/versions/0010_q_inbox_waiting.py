"""the inbox's open rows by person, for the claim (issue 16)

Revision ID: 0010_q
Revises: 0009_w
Create Date: 2026-12-05

The claim leases the oldest free row whose person has no earlier unfinished row. On
PostgreSQL that look went through the unique (platform, delivery_id) index, reading every row
of the platform, so a worker answered more slowly as the inbox grew (1,100 `/status` commands
answered at 18.7, 16.4, then 9.2 per second as the table reached 3,300 rows; with this index
19.0 each time, bench/bench_ack.py's servers, README "Benchmarks"). A partial index over the
unfinished rows only stays as small as the backlog.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_q"
down_revision = "0009_w"
branch_labels = None
depends_on = None


def upgrade() -> None:
    open_rows = sa.text("done_at IS NULL")
    op.create_index(
        "ix_inbox_waiting",
        "inbox",
        ["platform", "person", "id"],
        postgresql_where=open_rows,
        sqlite_where=open_rows,
    )


def downgrade() -> None:
    op.drop_index("ix_inbox_waiting", table_name="inbox")
