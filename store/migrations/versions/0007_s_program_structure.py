"""engagements, stage marks, program events and deliverable items (issue 14)

Revision ID: 0007_s
Revises: 0006_p
Create Date: 2026-12-03

Each program's own structure: an engagement per case carrying one municipality's long-running
support (theme, 取組目標, scope, agreed deliverables, planned sessions); a stage mark per case and
stage of the profile's stage model (reached, KPI met); meetings and events the program holds;
deliverables due by the profile's rules, one row per item and period so making them twice never
doubles one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models


revision = "0007_s"
down_revision = "0006_p"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "program_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_program_events_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_events")),
    )
    with op.batch_alter_table("program_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_program_events_program_kind", ["program_id", "kind"], unique=False
        )

    op.create_table(
        "deliverable_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("spec_id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("done_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["program_events.id"],
            name=op.f("fk_deliverable_items_event_id_program_events"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_deliverable_items_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliverable_items")),
        sa.UniqueConstraint(
            "program_id", "spec_id", "period", name=op.f("uq_deliverable_items_program_id")
        ),
    )
    with op.batch_alter_table("deliverable_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deliverable_items_program_due", ["program_id", "due_on"], unique=False
        )

    op.create_table(
        "engagements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("track_id", sa.String(length=40), nullable=False),
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("theme", sa.Text(), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("deliverables", sa.Text(), nullable=False),
        sa.Column("planned_sessions", sa.Integer(), nullable=True),
        sa.Column("start_on", sa.Date(), nullable=True),
        sa.Column("goal_set_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_engagements_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"],
            ["municipalities.code"],
            name=op.f("fk_engagements_municipality_code_municipalities"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_engagements_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagements")),
        sa.UniqueConstraint("case_id", name=op.f("uq_engagements_case_id")),
    )
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_engagements_program_id"), ["program_id"], unique=False)

    op.create_table(
        "stage_marks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("kpi_met", sa.Boolean(), nullable=True),
        sa.Column(
            "session_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("recorded_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_stage_marks_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_stage_marks_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_marks")),
        sa.UniqueConstraint("case_id", "stage", name=op.f("uq_stage_marks_case_id")),
    )
    with op.batch_alter_table("stage_marks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stage_marks_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stage_marks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stage_marks_case_id"))

    op.drop_table("stage_marks")
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_engagements_program_id"))

    op.drop_table("engagements")
    with op.batch_alter_table("deliverable_items", schema=None) as batch_op:
        batch_op.drop_index("ix_deliverable_items_program_due")

    op.drop_table("deliverable_items")
    with op.batch_alter_table("program_events", schema=None) as batch_op:
        batch_op.drop_index("ix_program_events_program_kind")

    op.drop_table("program_events")
