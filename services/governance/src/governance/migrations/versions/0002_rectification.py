"""rectification

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_file",
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_file")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_evidence_file_storage_key")),
        schema="governance",
    )
    op.create_table(
        "finding",
        sa.Column(
            "origin_kind",
            sa.Enum(
                "supervision",
                "visit",
                "evaluation",
                name="originkind",
                native_enum=False,
                length=20,
                schema="governance",
            ),
            nullable=False,
        ),
        sa.Column("origin_ref", sa.String(length=100), nullable=True),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "minor",
                "major",
                "serious",
                name="severity",
                native_enum=False,
                length=10,
                schema="governance",
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("evidence_ids", sa.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("unit_id", sa.String(length=100), nullable=False),
        sa.Column(
            "unit_kind",
            sa.Enum(
                "school",
                "government",
                "department",
                name="unitkind",
                native_enum=False,
                length=20,
                schema="governance",
            ),
            nullable=False,
        ),
        sa.Column("unit_name", sa.String(length=200), nullable=False),
        sa.Column("competent_department", sa.String(length=200), nullable=True),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("office_division", sa.String(length=6), nullable=False),
        sa.Column("raised_by", sa.String(length=200), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding")),
        schema="governance",
    )
    op.create_table(
        "rectification",
        sa.Column("finding_id", sa.Uuid(), nullable=False),
        sa.Column("requirement", sa.Text(), nullable=False),
        sa.Column(
            "deadline_kind",
            sa.Enum(
                "calendar", "working", name="deadlinekind", native_enum=False, length=10, schema="governance"
            ),
            nullable=False,
        ),
        sa.Column("deadline_days", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("provisional_deadline", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "submitted",
                "closed",
                name="rectificationstatus",
                native_enum=False,
                length=10,
                schema="governance",
            ),
            nullable=False,
        ),
        sa.Column("overdue_deadline", sa.Date(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("last_step_kind", sa.String(length=40), nullable=True),
        sa.Column("unit_id", sa.String(length=100), nullable=False),
        sa.Column("competent_department", sa.String(length=200), nullable=True),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("office_division", sa.String(length=6), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("deadline_days > 0", name=op.f("ck_rectification_deadline_days_positive")),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["governance.finding.id"], name=op.f("fk_rectification_finding_id_finding")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification")),
        sa.UniqueConstraint("finding_id", name=op.f("uq_rectification_finding_id")),
        schema="governance",
    )
    op.create_index(
        "ix_rectification_division_code",
        "rectification",
        ["division_code"],
        unique=False,
        schema="governance",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_index(
        "ix_rectification_due", "rectification", ["status", "deadline"], unique=False, schema="governance"
    )
    op.create_index(
        "ix_rectification_unit_id", "rectification", ["unit_id"], unique=False, schema="governance"
    )
    op.create_table(
        "rectification_recheck",
        sa.Column("rectification_id", sa.Uuid(), nullable=False),
        sa.Column(
            "result",
            sa.Enum(
                "confirmed",
                "reopened",
                name="recheckresult",
                native_enum=False,
                length=10,
                schema="governance",
            ),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("checked_by", sa.String(length=200), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rectification_id"],
            ["governance.rectification.id"],
            name=op.f("fk_rectification_recheck_rectification_id_rectification"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_recheck")),
        schema="governance",
    )
    op.create_index(
        op.f("ix_rectification_recheck_rectification_id"),
        "rectification_recheck",
        ["rectification_id"],
        unique=False,
        schema="governance",
    )
    op.create_table(
        "rectification_reminder",
        sa.Column("rectification_id", sa.Uuid(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rectification_id"],
            ["governance.rectification.id"],
            name=op.f("fk_rectification_reminder_rectification_id_rectification"),
        ),
        sa.PrimaryKeyConstraint(
            "rectification_id", "deadline", "days_before", name=op.f("pk_rectification_reminder")
        ),
        schema="governance",
    )
    op.create_table(
        "rectification_report",
        sa.Column("rectification_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("evidence_ids", sa.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "decision",
            sa.Enum(
                "accepted",
                "rejected",
                name="reportdecision",
                native_enum=False,
                length=10,
                schema="governance",
            ),
            nullable=True,
        ),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejection_reasons", sa.Text(), nullable=True),
        sa.Column("reply_due", sa.Date(), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rectification_id"],
            ["governance.rectification.id"],
            name=op.f("fk_rectification_report_rectification_id_rectification"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_report")),
        schema="governance",
    )
    op.create_index(
        op.f("ix_rectification_report_rectification_id"),
        "rectification_report",
        ["rectification_id"],
        unique=False,
        schema="governance",
    )
    op.create_table(
        "rectification_step",
        sa.Column("rectification_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("step_id", sa.Uuid(), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("step_kind", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("document_number", sa.String(length=60), nullable=True),
        sa.Column("new_deadline", sa.Date(), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rectification_id"],
            ["governance.rectification.id"],
            name=op.f("fk_rectification_step_rectification_id_rectification"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_step")),
        sa.UniqueConstraint("step_id", name=op.f("uq_rectification_step_step_id")),
        schema="governance",
    )
    op.create_index(
        op.f("ix_rectification_step_rectification_id"),
        "rectification_step",
        ["rectification_id"],
        unique=False,
        schema="governance",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_rectification_step_rectification_id"), table_name="rectification_step", schema="governance"
    )
    op.drop_table("rectification_step", schema="governance")
    op.drop_index(
        op.f("ix_rectification_report_rectification_id"),
        table_name="rectification_report",
        schema="governance",
    )
    op.drop_table("rectification_report", schema="governance")
    op.drop_table("rectification_reminder", schema="governance")
    op.drop_index(
        op.f("ix_rectification_recheck_rectification_id"),
        table_name="rectification_recheck",
        schema="governance",
    )
    op.drop_table("rectification_recheck", schema="governance")
    op.drop_index("ix_rectification_unit_id", table_name="rectification", schema="governance")
    op.drop_index("ix_rectification_due", table_name="rectification", schema="governance")
    op.drop_index(
        "ix_rectification_division_code",
        table_name="rectification",
        schema="governance",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.drop_table("rectification", schema="governance")
    op.drop_table("finding", schema="governance")
    op.drop_table("evidence_file", schema="governance")
