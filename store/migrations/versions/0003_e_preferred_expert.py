"""cases.preferred_expert_user_id: the expert a municipality named at intake

Revision ID: 0003_e
Revises: 0002
Create Date: 2026-12-03

A nullable column referencing users. On SQLite the column is added with a plain
``ALTER TABLE … ADD COLUMN`` (a batch rebuild would copy the table and drop the tally triggers
of migration 0002 that sit on ``cases``); the downgrade drops it the same way (SQLite 3.35+).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_e"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMN = "preferred_expert_user_id"
FK = "fk_cases_preferred_expert_user_id_users"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE cases ADD COLUMN {COLUMN} INTEGER CONSTRAINT {FK} REFERENCES users (id)"
        )
        return
    op.add_column("cases", sa.Column(COLUMN, sa.Integer(), nullable=True))
    op.create_foreign_key(FK, "cases", "users", [COLUMN], ["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE cases DROP COLUMN {COLUMN}")
        return
    op.drop_constraint(FK, "cases", type_="foreignkey")
    op.drop_column("cases", COLUMN)
