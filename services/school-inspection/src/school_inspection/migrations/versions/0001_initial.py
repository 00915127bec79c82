"""initial

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dudao.kit_migrations import create_kit_tables_v1, drop_kit_tables_v1

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "school",
        sa.Column("school_code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "school_type",
            sa.Enum(
                "kindergarten",
                "primary",
                "junior",
                "senior",
                "nine_year",
                "twelve_year",
                "complete_secondary",
                "vocational",
                "special_education",
                name="schooltype",
                native_enum=False,
                length=30,
                schema="inspection",
            ),
            nullable=False,
        ),
        sa.Column(
            "ownership",
            sa.Enum("public", "private", name="ownership", native_enum=False, length=10, schema="inspection"),
            nullable=False,
        ),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("enrolment", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("enrolment >= 0", name=op.f("ck_school_enrolment_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school")),
        sa.UniqueConstraint("school_code", name=op.f("uq_school_school_code")),
        schema="inspection",
    )
    op.create_index(
        "ix_school_division_code",
        "school",
        ["division_code"],
        unique=False,
        schema="inspection",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_index("ix_school_updated_at", "school", ["updated_at", "id"], unique=False, schema="inspection")
    create_kit_tables_v1("inspection")


def downgrade() -> None:
    drop_kit_tables_v1("inspection")
    op.drop_index("ix_school_updated_at", table_name="school", schema="inspection")
    op.drop_index(
        "ix_school_division_code",
        table_name="school",
        schema="inspection",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.drop_table("school", schema="inspection")
