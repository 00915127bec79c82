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
        "roster_school",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("school_code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("school_type", sa.String(length=30), nullable=False),
        sa.Column("ownership", sa.String(length=10), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("source_version", sa.Integer(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("school_id", name=op.f("pk_roster_school")),
        schema="monitoring",
    )
    op.create_index(
        "ix_roster_school_division_code",
        "roster_school",
        ["division_code"],
        unique=False,
        schema="monitoring",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    create_kit_tables_v1("monitoring")


def downgrade() -> None:
    drop_kit_tables_v1("monitoring")
    op.drop_index(
        "ix_roster_school_division_code",
        table_name="roster_school",
        schema="monitoring",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.drop_table("roster_school", schema="monitoring")
