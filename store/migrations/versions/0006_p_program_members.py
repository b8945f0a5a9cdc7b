"""program_members: who works in which program, when one deployment holds several

Revision ID: 0006_p
Revises: 0005_a
Create Date: 2026-12-03

A person registered with `dxbot users add --program ID` is a member of that program; a person
in two programs is asked in the chat which one a message is about, and the answer is kept
(``chosen_at``) until they switch with `/dx program`. A person of no membership row works in the
deployment's configured program, as before this migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_p"
down_revision = "0005_a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "program_members",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_program_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_program_members_program_id_programs"),
        ),
        sa.PrimaryKeyConstraint("user_id", "program_id", name=op.f("pk_program_members")),
    )


def downgrade() -> None:
    op.drop_table("program_members")
