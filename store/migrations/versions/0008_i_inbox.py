"""inbox: chat deliveries stored before they are acknowledged (issue 16)

Revision ID: 0008_i
Revises: 0007_s
Create Date: 2026-12-03

A delivery from Slack or LoGo Chat is written here, deduplicated by the platform's event id,
before the HTTP answer goes back; workers lease the oldest unfinished row of each person, handle
it and mark it done in the handling's own transaction. A process killed at any moment leaves its
rows to be taken over once the lease runs out, so nothing acknowledged is lost.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0008_i"
down_revision = "0007_s"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("delivery_id", sa.String(length=200), nullable=False),
        sa.Column("person", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("platform", "delivery_id", name="uq_inbox_delivery"),
    )
    op.create_index("ix_inbox_open", "inbox", ["done_at", "id"], unique=False)
    op.create_index("ix_inbox_person", "inbox", ["person", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_inbox_person", table_name="inbox")
    op.drop_index("ix_inbox_open", table_name="inbox")
    op.drop_table("inbox")
