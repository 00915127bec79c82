"""inspectors: appointment, terms, training, conflicts, reviews, assignments, zones, the inspection policy

Revision ID: 0003_inspectors
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dudao.ids import uuid7

revision: str = "0003_inspectors"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inspection_policy",
        sa.Column("division_prefix", sa.String(length=6), nullable=False),
        sa.Column("part_time_term_years", sa.Integer(), nullable=False),
        sa.Column("max_consecutive_terms", sa.Integer(), nullable=False),
        sa.Column("annual_training_hours", sa.Integer(), nullable=False),
        sa.Column("max_schools_per_inspector", sa.Integer(), nullable=False),
        sa.Column("dedicated_enrolment_threshold", sa.Integer(), nullable=False),
        sa.Column("max_schools_per_zone", sa.Integer(), nullable=False),
        sa.Column(
            "min_degree",
            sa.Enum(
                "secondary",
                "associate",
                "bachelor",
                "master",
                "doctorate",
                name="degree",
                native_enum=False,
                length=20,
                schema="inspection",
            ),
            nullable=False,
        ),
        sa.Column("min_education_years", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "part_time_term_years > 0 AND max_consecutive_terms > 0 AND annual_training_hours >= 0 "
            "AND max_schools_per_inspector > 0 AND dedicated_enrolment_threshold > 0 "
            "AND max_schools_per_zone > 0 AND min_education_years >= 0",
            name=op.f("ck_inspection_policy_thresholds_in_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_policy")),
        sa.UniqueConstraint("division_prefix", name=op.f("uq_inspection_policy_division_prefix")),
        schema="inspection",
    )
    op.create_table(
        "inspection_zone",
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_zone")),
        sa.UniqueConstraint("division_code", "name", name=op.f("uq_inspection_zone_division_code_name")),
        schema="inspection",
    )
    op.create_index(
        "ix_inspection_zone_division_code",
        "inspection_zone",
        ["division_code"],
        unique=False,
        schema="inspection",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_table(
        "inspector",
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "employment",
            sa.Enum(
                "full_time", "part_time", name="employment", native_enum=False, length=10, schema="inspection"
            ),
            nullable=False,
        ),
        sa.Column(
            "degree",
            sa.Enum(
                "secondary",
                "associate",
                "bachelor",
                "master",
                "doctorate",
                name="degree",
                native_enum=False,
                length=20,
                schema="inspection",
            ),
            nullable=False,
        ),
        sa.Column("education_work_years", sa.Integer(), nullable=False),
        sa.Column("contact_phone", sa.String(length=40), nullable=False),
        sa.Column("contact_email", sa.String(length=200), nullable=True),
        sa.Column("photo_url", sa.String(length=500), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "recommended",
                "reviewed",
                "publicised",
                "appointed",
                "ended",
                name="inspectorstatus",
                native_enum=False,
                length=20,
                schema="inspection",
            ),
            nullable=False,
        ),
        sa.Column("appointed_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(length=40), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "education_work_years >= 0", name=op.f("ck_inspector_education_work_years_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspector")),
        schema="inspection",
    )
    op.create_index(
        "ix_inspector_division_code",
        "inspector",
        ["division_code"],
        unique=False,
        schema="inspection",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_table(
        "inspection_zone_school",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("zone_id", sa.Uuid(), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["inspection.school.id"], name=op.f("fk_inspection_zone_school_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["inspection.inspection_zone.id"],
            name=op.f("fk_inspection_zone_school_zone_id_inspection_zone"),
        ),
        sa.PrimaryKeyConstraint("school_id", name=op.f("pk_inspection_zone_school")),
        schema="inspection",
    )
    op.create_index(
        op.f("ix_inspection_zone_school_zone_id"),
        "inspection_zone_school",
        ["zone_id"],
        unique=False,
        schema="inspection",
    )
    op.create_table(
        "inspector_appointment_step",
        sa.Column("inspector_id", sa.Uuid(), nullable=False),
        sa.Column(
            "step",
            sa.Enum(
                "recommendation",
                "review",
                "public_notice",
                "announcement",
                name="appointmentstep",
                native_enum=False,
                length=20,
                schema="inspection",
            ),
            nullable=False,
        ),
        sa.Column("step_date", sa.Date(), nullable=False),
        sa.Column("acted_by", sa.String(length=200), nullable=False),
        sa.Column("document_number", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["inspection.inspector.id"],
            name=op.f("fk_inspector_appointment_step_inspector_id_inspector"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspector_appointment_step")),
        sa.UniqueConstraint(
            "inspector_id", "step", name=op.f("uq_inspector_appointment_step_inspector_id_step")
        ),
        schema="inspection",
    )
    op.create_table(
        "inspector_conflict",
        sa.Column("inspector_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "near_relative",
                "former_employer",
                "other",
                name="conflictkind",
                native_enum=False,
                length=20,
                schema="inspection",
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["inspection.inspector.id"],
            name=op.f("fk_inspector_conflict_inspector_id_inspector"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["inspection.school.id"], name=op.f("fk_inspector_conflict_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspector_conflict")),
        schema="inspection",
    )
    op.create_index(
        "ix_inspector_conflict_inspector_id",
        "inspector_conflict",
        ["inspector_id", "school_id"],
        unique=False,
        schema="inspection",
    )
    op.create_table(
        "inspector_review",
        sa.Column("inspector_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column(
            "rating",
            sa.Enum(
                "excellent",
                "qualified",
                "basically_qualified",
                "unqualified",
                name="rating",
                native_enum=False,
                length=20,
                schema="inspection",
            ),
            nullable=False,
        ),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["inspection.inspector.id"],
            name=op.f("fk_inspector_review_inspector_id_inspector"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspector_review")),
        sa.UniqueConstraint("inspector_id", "year", name=op.f("uq_inspector_review_inspector_id_year")),
        schema="inspection",
    )
    op.create_table(
        "inspector_term",
        sa.Column("inspector_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_inspector_term_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["inspection.inspector.id"],
            name=op.f("fk_inspector_term_inspector_id_inspector"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspector_term")),
        sa.UniqueConstraint("inspector_id", "sequence", name=op.f("uq_inspector_term_inspector_id_sequence")),
        schema="inspection",
    )
    op.create_table(
        "inspector_training",
        sa.Column("inspector_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "pre_service",
                "collective",
                name="trainingkind",
                native_enum=False,
                length=20,
                schema="inspection",
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=200), nullable=True),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("class_hours", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("class_hours >= 0", name=op.f("ck_inspector_training_class_hours_not_negative")),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["inspection.inspector.id"],
            name=op.f("fk_inspector_training_inspector_id_inspector"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspector_training")),
        schema="inspection",
    )
    op.create_index(
        "ix_inspector_training_inspector_id",
        "inspector_training",
        ["inspector_id", "held_on"],
        unique=False,
        schema="inspection",
    )
    op.create_table(
        "responsible_assignment",
        sa.Column("inspector_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(length=40), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on >= starts_on", name=op.f("ck_responsible_assignment_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["inspection.inspector.id"],
            name=op.f("fk_responsible_assignment_inspector_id_inspector"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["inspection.school.id"], name=op.f("fk_responsible_assignment_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responsible_assignment")),
        schema="inspection",
    )
    op.create_index(
        "ix_responsible_assignment_division_code",
        "responsible_assignment",
        ["division_code"],
        unique=False,
        schema="inspection",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_index(
        "ix_responsible_assignment_inspector_id",
        "responsible_assignment",
        ["inspector_id", "starts_on"],
        unique=False,
        schema="inspection",
    )
    op.create_index(
        "ix_responsible_assignment_school_id",
        "responsible_assignment",
        ["school_id", "starts_on"],
        unique=False,
        schema="inspection",
    )
    # The policy everywhere (empty prefix): 3-year part-time terms, at most 3 in a row, 40 class hours a
    # year, bachelor's degree and 10 years in education (督学管理暂行办法); 1:5, 1:1 above 3000 pupils
    # (Guangxi opinions 三(一)); 20 schools a zone (2012 rule). Offices override it for their jurisdiction.
    policy = sa.table(
        "inspection_policy",
        *(
            sa.column(name)
            for name in (
                "id",
                "division_prefix",
                "part_time_term_years",
                "max_consecutive_terms",
                "annual_training_hours",
                "max_schools_per_inspector",
                "dedicated_enrolment_threshold",
                "max_schools_per_zone",
                "min_degree",
                "min_education_years",
                "version",
                "updated_by",
                "updated_at",
            )
        ),
        schema="inspection",
    )
    op.execute(
        policy.insert().values(
            id=uuid7(),
            division_prefix="",
            part_time_term_years=3,
            max_consecutive_terms=3,
            annual_training_hours=40,
            max_schools_per_inspector=5,
            dedicated_enrolment_threshold=3000,
            max_schools_per_zone=20,
            min_degree="bachelor",
            min_education_years=10,
            version=1,
            updated_by="migration",
            updated_at=sa.func.now(),
        )
    )


def downgrade() -> None:
    op.drop_index(
        "ix_responsible_assignment_school_id", table_name="responsible_assignment", schema="inspection"
    )
    op.drop_index(
        "ix_responsible_assignment_inspector_id", table_name="responsible_assignment", schema="inspection"
    )
    op.drop_index(
        "ix_responsible_assignment_division_code",
        table_name="responsible_assignment",
        schema="inspection",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.drop_table("responsible_assignment", schema="inspection")
    op.drop_index("ix_inspector_training_inspector_id", table_name="inspector_training", schema="inspection")
    op.drop_table("inspector_training", schema="inspection")
    op.drop_table("inspector_term", schema="inspection")
    op.drop_table("inspector_review", schema="inspection")
    op.drop_index("ix_inspector_conflict_inspector_id", table_name="inspector_conflict", schema="inspection")
    op.drop_table("inspector_conflict", schema="inspection")
    op.drop_table("inspector_appointment_step", schema="inspection")
    op.drop_index(
        op.f("ix_inspection_zone_school_zone_id"), table_name="inspection_zone_school", schema="inspection"
    )
    op.drop_table("inspection_zone_school", schema="inspection")
    op.drop_index(
        "ix_inspector_division_code",
        table_name="inspector",
        schema="inspection",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.drop_table("inspector", schema="inspection")
    op.drop_index(
        "ix_inspection_zone_division_code",
        table_name="inspection_zone",
        schema="inspection",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.drop_table("inspection_zone", schema="inspection")
    op.drop_table("inspection_policy", schema="inspection")
