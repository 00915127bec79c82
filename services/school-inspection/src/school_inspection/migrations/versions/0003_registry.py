"""registry: enrolment by stage and principal on schools; plates, complaint channels, principal
evaluations, self-supervision reports

Revision ID: 0003_registry
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_registry"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAGES = ("kindergarten", "primary", "junior", "senior", "vocational")
STAGE_COLUMNS = [f"pupils_{s}" for s in STAGES]


def upgrade() -> None:
    for column in STAGE_COLUMNS:
        op.add_column("school", sa.Column(column, sa.Integer(), nullable=True), schema="inspection")
    op.add_column(
        "school", sa.Column("principal_name", sa.String(length=50), nullable=True), schema="inspection"
    )
    op.add_column(
        "school", sa.Column("principal_phone", sa.String(length=30), nullable=True), schema="inspection"
    )
    all_null = " AND ".join(f"{c} IS NULL" for c in STAGE_COLUMNS)
    totalled = " AND ".join(f"{c} IS NOT NULL AND {c} >= 0" for c in STAGE_COLUMNS)
    totalled += f" AND enrolment = {' + '.join(STAGE_COLUMNS)}"
    op.create_check_constraint(
        op.f("ck_school_enrolment_is_stage_total"),
        "school",
        f"({all_null}) OR ({totalled})",
        schema="inspection",
    )
    op.create_check_constraint(
        op.f("ck_school_principal_named"),
        "school",
        "principal_phone IS NULL OR principal_name IS NOT NULL",
        schema="inspection",
    )
    op.create_table(
        "complaint_channel",
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "phone IS NOT NULL OR url IS NOT NULL", name=op.f("ck_complaint_channel_reachable")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_channel")),
        sa.UniqueConstraint("division_code", name=op.f("uq_complaint_channel_division_code")),
        schema="inspection",
    )
    op.create_table(
        "plate",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("inspector_name", sa.String(length=50), nullable=False),
        sa.Column("photo_url", sa.String(length=500), nullable=False),
        sa.Column("contact_phone", sa.String(length=30), nullable=False),
        sa.Column("items", sa.ARRAY(sa.String(length=30)), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("cardinality(items) > 0", name=op.f("ck_plate_has_items")),
        sa.ForeignKeyConstraint(
            ["school_id"], ["inspection.school.id"], name=op.f("fk_plate_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plate")),
        sa.UniqueConstraint("school_id", name=op.f("uq_plate_school_id")),
        schema="inspection",
    )
    op.create_index(
        "ix_plate_division_code",
        "plate",
        ["division_code"],
        unique=False,
        schema="inspection",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_table(
        "principal_evaluation",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("principal_name", sa.String(length=50), nullable=False),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=False),
        sa.Column("evaluator", sa.String(length=200), nullable=False),
        sa.Column("scores", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "grade",
            sa.Enum(
                "excellent",
                "good",
                "pass",
                "fail",
                name="grade",
                native_enum=False,
                length=10,
                schema="inspection",
            ),
            nullable=False,
        ),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.Column("rectification_id", sa.Uuid(), nullable=True),
        sa.Column("evaluated_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "term_end > term_start", name=op.f("ck_principal_evaluation_term_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["inspection.school.id"], name=op.f("fk_principal_evaluation_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_principal_evaluation")),
        schema="inspection",
    )
    op.create_index(
        "ix_principal_evaluation_school_id",
        "principal_evaluation",
        ["school_id", "id"],
        unique=False,
        schema="inspection",
    )
    op.create_table(
        "self_supervision_report",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("school_code", sa.String(length=10), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("semester", sa.String(length=11), nullable=False),
        sa.Column("items", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["inspection.school.id"], name=op.f("fk_self_supervision_report_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_supervision_report")),
        sa.UniqueConstraint(
            "school_id", "semester", name=op.f("uq_self_supervision_report_school_id_semester")
        ),
        schema="inspection",
    )
    op.create_index(
        "ix_self_supervision_report_division_code",
        "self_supervision_report",
        ["division_code", "semester"],
        unique=False,
        schema="inspection",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_table("self_supervision_report", schema="inspection")
    op.drop_table("principal_evaluation", schema="inspection")
    op.drop_table("plate", schema="inspection")
    op.drop_table("complaint_channel", schema="inspection")
    op.drop_constraint(op.f("ck_school_principal_named"), "school", schema="inspection")
    op.drop_constraint(op.f("ck_school_enrolment_is_stage_total"), "school", schema="inspection")
    for column in ("principal_phone", "principal_name", *reversed(STAGE_COLUMNS)):
        op.drop_column("school", column, schema="inspection")
