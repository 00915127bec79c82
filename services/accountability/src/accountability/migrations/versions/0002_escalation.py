"""escalation: ladders, cases, steps, documents with gapless numbers, notifications

Revision ID: 0002
Revises: 0001
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The default ladder of DESIGN.md, for any category anywhere: 督办单 → 约谈 → 通报 → 问责.
DEFAULT_LADDER_ID = uuid.UUID("01960000-0000-7000-8000-000000000001")
DEFAULT_STEPS = [
    {"kind": "urging_order", "new_deadline_days": 15},
    {"kind": "interview", "new_deadline_days": 10},
    {"kind": "circular", "new_deadline_days": 10},
    {"kind": "accountability_decision", "new_deadline_days": None},
]


def upgrade() -> None:
    op.create_table(
        "document_sequence",
        sa.Column("office_division", sa.String(length=6), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "urging_order",
                "interview",
                "circular",
                "accountability_decision",
                name="documentkind",
                native_enum=False,
                length=30,
                schema="accountability",
            ),
            nullable=False,
        ),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_serial", sa.Integer(), nullable=False),
        sa.CheckConstraint("last_serial >= 1", name=op.f("ck_document_sequence_last_serial_positive")),
        sa.PrimaryKeyConstraint("office_division", "kind", "year", name=op.f("pk_document_sequence")),
        schema="accountability",
    )
    op.create_table(
        "escalation_ladder",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("finding_category", sa.String(length=100), nullable=True),
        sa.Column("division_prefix", sa.String(length=6), nullable=True),
        sa.Column("steps", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("jsonb_array_length(steps) >= 1", name=op.f("ck_escalation_ladder_has_steps")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_escalation_ladder_version_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_ladder")),
        sa.UniqueConstraint(
            "finding_category",
            "division_prefix",
            "version",
            name=op.f("uq_escalation_ladder_finding_category_division_prefix_version"),
            postgresql_nulls_not_distinct=True,
        ),
        schema="accountability",
    )
    op.create_table(
        "issuing_office",
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("abbreviation", sa.String(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("division_code", name=op.f("pk_issuing_office")),
        sa.UniqueConstraint("abbreviation", name=op.f("uq_issuing_office_abbreviation")),
        schema="accountability",
    )
    op.create_table(
        "escalation_case",
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("rectification_id", sa.String(length=64), nullable=False),
        sa.Column("finding_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("severity", sa.String(length=30), nullable=False),
        sa.Column("requirement", sa.Text(), nullable=True),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("unit_kind", sa.String(length=30), nullable=False),
        sa.Column("unit_name", sa.String(length=200), nullable=False),
        sa.Column("competent_department", sa.String(length=200), nullable=True),
        sa.Column("office_division", sa.String(length=6), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("ladder_id", sa.Uuid(), nullable=False),
        sa.Column("ladder_version", sa.Integer(), nullable=False),
        sa.Column("ladder_position", sa.Integer(), nullable=False),
        sa.Column("step_count", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open", "closed", name="casestatus", native_enum=False, length=10, schema="accountability"
            ),
            nullable=False,
        ),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "(status = 'closed') = (closed_at IS NOT NULL)",
            name=op.f("ck_escalation_case_closed_when_closed_at"),
        ),
        sa.CheckConstraint(
            "ladder_position >= 0 AND step_count >= ladder_position",
            name=op.f("ck_escalation_case_step_counts"),
        ),
        sa.ForeignKeyConstraint(
            ["ladder_id"],
            ["accountability.escalation_ladder.id"],
            name=op.f("fk_escalation_case_ladder_id_escalation_ladder"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_case")),
        sa.UniqueConstraint(
            "origin", "rectification_id", name=op.f("uq_escalation_case_origin_rectification_id")
        ),
        schema="accountability",
    )
    op.create_index(
        "ix_escalation_case_division_code",
        "escalation_case",
        ["division_code"],
        unique=False,
        schema="accountability",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_index(
        "ix_escalation_case_unit_id", "escalation_case", ["unit_id"], unique=False, schema="accountability"
    )
    op.create_table(
        "document",
        sa.Column(
            "kind",
            sa.Enum(
                "urging_order",
                "interview",
                "circular",
                "accountability_decision",
                name="documentkind",
                native_enum=False,
                length=30,
                schema="accountability",
            ),
            nullable=False,
        ),
        sa.Column("number", sa.String(length=60), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("serial", sa.Integer(), nullable=True),
        sa.Column("office_division", sa.String(length=6), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("unit_kind", sa.String(length=30), nullable=False),
        sa.Column("unit_name", sa.String(length=200), nullable=False),
        sa.Column("competent_department", sa.String(length=200), nullable=True),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "(number IS NULL) = (issued_at IS NULL)", name=op.f("ck_document_numbered_when_issued")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["accountability.escalation_case.id"],
            name=op.f("fk_document_case_id_escalation_case"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
        sa.UniqueConstraint(
            "office_division",
            "kind",
            "year",
            "serial",
            name=op.f("uq_document_office_division_kind_year_serial"),
        ),
        schema="accountability",
    )
    op.create_index("ix_document_case_id", "document", ["case_id"], unique=False, schema="accountability")
    op.create_index(
        "ix_document_division_code",
        "document",
        ["division_code"],
        unique=False,
        schema="accountability",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_table(
        "escalation_case_fact",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("fact_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "noted",
                "step_taken",
                "ladder_exhausted",
                "closed",
                "reopened",
                name="factoutcome",
                native_enum=False,
                length=20,
                schema="accountability",
            ),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["accountability.escalation_case.id"],
            name=op.f("fk_escalation_case_fact_case_id_escalation_case"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_case_fact")),
        sa.UniqueConstraint("fact_id", name=op.f("uq_escalation_case_fact_fact_id")),
        schema="accountability",
    )
    op.create_index(
        "ix_escalation_case_fact_case_id",
        "escalation_case_fact",
        ["case_id"],
        unique=False,
        schema="accountability",
    )
    op.create_table(
        "accountability_decision",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "decided",
                name="decisionstatus",
                native_enum=False,
                length=10,
                schema="accountability",
            ),
            nullable=False,
        ),
        sa.Column(
            "target",
            sa.Enum(
                "body", "person", name="decisiontarget", native_enum=False, length=10, schema="accountability"
            ),
            nullable=True,
        ),
        sa.Column(
            "form",
            sa.Enum(
                "public_criticism",
                "interview",
                "circular",
                "resource_adjustment",
                "administrative_penalty",
                "self_examination",
                "circular_of_criticism",
                "organisational_handling",
                "disciplinary_sanction",
                "transfer_to_organs",
                name="accountabilityform",
                native_enum=False,
                length=40,
                schema="accountability",
            ),
            nullable=True,
        ),
        sa.Column("persons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["accountability.document.id"],
            name=op.f("fk_accountability_decision_document_id_document"),
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_accountability_decision")),
        schema="accountability",
    )
    op.create_table(
        "circular",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("recipients", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("recommendation", sa.Text(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["accountability.document.id"], name=op.f("fk_circular_document_id_document")
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_circular")),
        schema="accountability",
    )
    op.create_table(
        "escalation_step",
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "urging_order",
                "interview",
                "circular",
                "accountability_decision",
                name="documentkind",
                native_enum=False,
                length=30,
                schema="accountability",
            ),
            nullable=False,
        ),
        sa.Column(
            "reason",
            sa.Enum(
                "overdue",
                "rejected",
                "manual",
                name="stepreason",
                native_enum=False,
                length=10,
                schema="accountability",
            ),
            nullable=False,
        ),
        sa.Column("trigger_event_id", sa.Uuid(), nullable=True),
        sa.Column("new_deadline", sa.Date(), nullable=True),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "(reason = 'manual') = (trigger_event_id IS NULL)",
            name=op.f("ck_escalation_step_triggered_unless_manual"),
        ),
        sa.CheckConstraint("index >= 0", name=op.f("ck_escalation_step_index_not_negative")),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["accountability.escalation_case.id"],
            name=op.f("fk_escalation_step_case_id_escalation_case"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["accountability.document.id"],
            name=op.f("fk_escalation_step_document_id_document"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_step")),
        sa.UniqueConstraint("case_id", "index", name=op.f("uq_escalation_step_case_id_index")),
        sa.UniqueConstraint("document_id", name=op.f("uq_escalation_step_document_id")),
        sa.UniqueConstraint("trigger_event_id", name=op.f("uq_escalation_step_trigger_event_id")),
        schema="accountability",
    )
    op.create_index(
        "ix_escalation_step_division_code",
        "escalation_step",
        ["division_code"],
        unique=False,
        schema="accountability",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_table(
        "interview",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("participants", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("responsible_person", sa.String(length=200), nullable=False),
        sa.Column("filed_with", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("record", sa.Text(), nullable=True),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["accountability.document.id"], name=op.f("fk_interview_document_id_document")
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_interview")),
        schema="accountability",
    )
    op.create_table(
        "urging_order",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("addressee", sa.String(length=200), nullable=False),
        sa.Column("copied_to", sa.String(length=200), nullable=True),
        sa.Column("new_deadline", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["accountability.document.id"], name=op.f("fk_urging_order_document_id_document")
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_urging_order")),
        schema="accountability",
    )
    op.create_table(
        "notification",
        sa.Column("recipient_id", sa.String(length=200), nullable=False),
        sa.Column(
            "recipient_kind",
            sa.Enum(
                "unit",
                "competent_department",
                name="recipientkind",
                native_enum=False,
                length=30,
                schema="accountability",
            ),
            nullable=False,
        ),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("step_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_by", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["accountability.escalation_case.id"],
            name=op.f("fk_notification_case_id_escalation_case"),
        ),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["accountability.escalation_step.id"],
            name=op.f("fk_notification_step_id_escalation_step"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        schema="accountability",
    )
    op.create_index(
        "ix_notification_division_code",
        "notification",
        ["division_code"],
        unique=False,
        schema="accountability",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_index(
        "ix_notification_recipient_id",
        "notification",
        ["recipient_id", "id"],
        unique=False,
        schema="accountability",
    )
    ladder = sa.table(
        "escalation_ladder",
        sa.column("id", sa.Uuid()),
        sa.column("version", sa.Integer()),
        sa.column("steps", postgresql.JSONB()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("created_by", sa.String()),
        sa.column("active", sa.Boolean()),
        schema="accountability",
    )
    op.execute(
        ladder.insert().values(
            id=DEFAULT_LADDER_ID,
            version=1,
            steps=DEFAULT_STEPS,
            created_at=sa.func.now(),
            created_by="migration 0002",
            active=True,
        )
    )


def downgrade() -> None:
    op.drop_index("ix_notification_recipient_id", table_name="notification", schema="accountability")
    op.drop_index(
        "ix_notification_division_code",
        table_name="notification",
        schema="accountability",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.drop_table("notification", schema="accountability")
    op.drop_table("urging_order", schema="accountability")
    op.drop_table("interview", schema="accountability")
    op.drop_index(
        "ix_escalation_step_division_code",
        table_name="escalation_step",
        schema="accountability",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.drop_table("escalation_step", schema="accountability")
    op.drop_table("circular", schema="accountability")
    op.drop_table("accountability_decision", schema="accountability")
    op.drop_index(
        "ix_escalation_case_fact_case_id", table_name="escalation_case_fact", schema="accountability"
    )
    op.drop_table("escalation_case_fact", schema="accountability")
    op.drop_index(
        "ix_document_division_code",
        table_name="document",
        schema="accountability",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.drop_index("ix_document_case_id", table_name="document", schema="accountability")
    op.drop_table("document", schema="accountability")
    op.drop_index("ix_escalation_case_unit_id", table_name="escalation_case", schema="accountability")
    op.drop_index(
        "ix_escalation_case_division_code",
        table_name="escalation_case",
        schema="accountability",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.drop_table("escalation_case", schema="accountability")
    op.drop_table("issuing_office", schema="accountability")
    op.drop_table("escalation_ladder", schema="accountability")
    op.drop_table("document_sequence", schema="accountability")
