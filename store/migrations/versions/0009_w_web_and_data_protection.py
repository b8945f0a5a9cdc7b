"""web view sign-in, per-program audit trail, erasure records (issues 17 and 18)

Revision ID: 0009_w
Revises: 0008_i
Create Date: 2026-12-03

The audit log gains the program it belongs to, so staff and the prefecture can read it per
program and the archive and erasure at contract end can take exactly that program's trail.
Web sign-in links and browser sessions store only a SHA-256 of their tokens. An erasure
record keeps counts, never the erased values.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0009_w"
down_revision = "0008_i"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(
            sa.Column("program_id", sa.String(length=40), nullable=False, server_default="")
        )
    op.create_index("ix_audit_log_program_at", "audit_log", ["program_id", "at"])
    op.create_index("ix_audit_log_object", "audit_log", ["object_type", "object_id"])
    for table in ("web_links", "web_sessions"):
        ended = "used_at" if table == "web_links" else "ended_at"
        op.create_table(
            table,
            sa.Column("id", _ID, nullable=False),
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("program_id", sa.String(length=40), nullable=False),
            sa.Column("created_at", store.models.UTCDateTime(timezone=True), nullable=False),
            sa.Column("expires_at", store.models.UTCDateTime(timezone=True), nullable=False),
            sa.Column(ended, store.models.UTCDateTime(timezone=True), nullable=True),
            sa.ForeignKeyConstraint(
                ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users")
            ),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
            sa.UniqueConstraint("token_hash", name=op.f(f"uq_{table}_token_hash")),
        )
        op.create_index(op.f(f"ix_{table}_user_id"), table, ["user_id"])
    op.create_index(op.f("ix_web_sessions_expires_at"), "web_sessions", ["expires_at"])
    op.create_table(
        "erasure_records",
        sa.Column("id", _ID, nullable=False),
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("archive_sha256", sa.String(length=64), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_records")),
    )
    op.create_index(op.f("ix_erasure_records_program_id"), "erasure_records", ["program_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_erasure_records_program_id"), table_name="erasure_records")
    op.drop_table("erasure_records")
    op.drop_index(op.f("ix_web_sessions_expires_at"), table_name="web_sessions")
    for table in ("web_sessions", "web_links"):
        op.drop_index(op.f(f"ix_{table}_user_id"), table_name=table)
        op.drop_table(table)
    op.drop_index("ix_audit_log_object", table_name="audit_log")
    op.drop_index("ix_audit_log_program_at", table_name="audit_log")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("program_id")
