"""data collection: tasks, validation rules, submissions, their values and reviews, and THE values

Revision ID: 0003_collection
Revises: 0002

``collection_task.system_id`` (and ``submission.system_id``, ``data_value.system_id``) name the indicator
system of the indicator branch; their foreign keys are added where the branches merge.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_collection"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "monitoring"
AMOUNT = sa.Numeric(18, 4)


def _enum(name: str, length: int, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=length, schema=SCHEMA)


def _unit_kind() -> sa.Enum:
    return _enum("unitkind", 10, "school", "county")


def _division_index(table: str) -> None:
    op.create_index(
        f"ix_{table}_division_code",
        table,
        ["division_code"],
        unique=False,
        schema=SCHEMA,
        postgresql_ops={"division_code": "text_pattern_ops"},
    )


def upgrade() -> None:
    op.create_table(
        "collection_task",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("system_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("unit_kind", _unit_kind(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("scope_prefix", sa.String(length=6), nullable=False),
        sa.Column("unit_ids", postgresql.ARRAY(sa.String(length=64)), nullable=True),
        sa.Column("element_codes", postgresql.ARRAY(sa.String(length=60)), nullable=False),
        sa.Column("form", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("remind_days", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.Column("reminded_days", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.Column("overdue_noticed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_collection_task_year_plausible")),
        sa.CheckConstraint("cardinality(element_codes) > 0", name=op.f("ck_collection_task_has_elements")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_task")),
        schema=SCHEMA,
    )
    _division_index("collection_task")
    op.create_index(
        "ix_collection_task_updated_at", "collection_task", ["updated_at", "id"], unique=False, schema=SCHEMA
    )
    op.create_index(
        "ix_collection_task_due_on",
        "collection_task",
        ["due_on"],
        unique=False,
        schema=SCHEMA,
        postgresql_where=sa.text("overdue_noticed_at IS NULL"),
    )
    op.create_table(
        "validation_rule",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("rulekind", 10, "required", "range", "compare"), nullable=False),
        sa.Column("element_code", sa.String(length=60), nullable=False),
        sa.Column("minimum", AMOUNT, nullable=True),
        sa.Column("maximum", AMOUNT, nullable=True),
        sa.Column("operator", sa.String(length=2), nullable=True),
        sa.Column("right_element", sa.String(length=60), nullable=True),
        sa.Column("right_value", AMOUNT, nullable=True),
        sa.Column("factor", AMOUNT, nullable=True),
        sa.Column("message", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "kind <> 'range' OR minimum IS NOT NULL OR maximum IS NOT NULL",
            name=op.f("ck_validation_rule_range_has_bound"),
        ),
        sa.CheckConstraint(
            "kind <> 'compare' OR (operator IN ('<', '<=', '=', '>=', '>', '!=') "
            "AND (right_element IS NULL) <> (right_value IS NULL))",
            name=op.f("ck_validation_rule_compare_has_sides"),
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            [f"{SCHEMA}.collection_task.id"],
            name=op.f("fk_validation_rule_task_id_collection_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_validation_rule")),
        sa.UniqueConstraint("task_id", "position", name=op.f("uq_validation_rule_task_id_position")),
        schema=SCHEMA,
    )
    op.create_table(
        "submission",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("system_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("unit_kind", _unit_kind(), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("unit_code", sa.String(length=64), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column(
            "status",
            _enum(
                "submissionstatus",
                20,
                "submitted",
                "county_approved",
                "city_approved",
                "approved",
                "returned",
            ),
            nullable=False,
        ),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("values_count", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], [f"{SCHEMA}.collection_task.id"], name=op.f("fk_submission_task_id_collection_task")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission")),
        sa.UniqueConstraint("task_id", "unit_id", name=op.f("uq_submission_task_id_unit_id")),
        schema=SCHEMA,
    )
    _division_index("submission")
    op.create_index(
        "ix_submission_updated_at", "submission", ["updated_at", "id"], unique=False, schema=SCHEMA
    )
    op.create_table(
        "submission_review",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("level", _enum("reviewlevel", 10, "county", "city", "region"), nullable=False),
        sa.Column("decision", _enum("reviewdecision", 10, "approved", "returned"), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("reviewer_division", sa.String(length=6), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            [f"{SCHEMA}.submission.id"],
            name=op.f("fk_submission_review_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_review")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_submission_review_submission_id",
        "submission_review",
        ["submission_id", "created_at"],
        unique=False,
        schema=SCHEMA,
    )
    op.create_table(
        "submitted_value",
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("element_code", sa.String(length=60), nullable=False),
        sa.Column("value", AMOUNT, nullable=True),
        sa.PrimaryKeyConstraint("submission_id", "element_code", name=op.f("pk_submitted_value")),
        schema=SCHEMA,
    )
    op.create_table(
        "data_value",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("system_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("submission_id", sa.Uuid(), nullable=True),
        sa.Column("unit_kind", _unit_kind(), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("element_code", sa.String(length=60), nullable=False),
        sa.Column("value", AMOUNT, nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_value")),
        sa.UniqueConstraint(
            "system_id",
            "unit_kind",
            "unit_id",
            "year",
            "element_code",
            name=op.f("uq_data_value_system_id_unit_kind_unit_id_year_element_code"),
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_data_value_system_id_year_division_code",
        "data_value",
        ["system_id", "year", "division_code"],
        unique=False,
        schema=SCHEMA,
        postgresql_ops={"division_code": "text_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_table("data_value", schema=SCHEMA)
    op.drop_table("submitted_value", schema=SCHEMA)
    op.drop_table("submission_review", schema=SCHEMA)
    op.drop_table("submission", schema=SCHEMA)
    op.drop_table("validation_rule", schema=SCHEMA)
    op.drop_table("collection_task", schema=SCHEMA)
