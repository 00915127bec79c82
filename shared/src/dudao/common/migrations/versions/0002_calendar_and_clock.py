"""calendar and clock: the holiday calendar, provisional deadline allowances, the suite's clock offset

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
        "calendar_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_day")),
        schema="common",
    )
    op.create_table(
        "calendar_year",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "source IN ('chinese-calendar', 'administrator')", name=op.f("ck_calendar_year_source")
        ),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_calendar_year_year_range")),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_year")),
        schema="common",
    )
    op.create_table(
        "clock_offset",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("offset_seconds", sa.Double(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_clock_offset_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clock_offset")),
        schema="common",
    )
    op.create_table(
        "provisional_deadline_allowance",
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("allowed_by", sa.String(length=200), nullable=False),
        sa.Column("allowed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "year BETWEEN 2000 AND 2100", name=op.f("ck_provisional_deadline_allowance_year_range")
        ),
        sa.PrimaryKeyConstraint("division_code", "year", name=op.f("pk_provisional_deadline_allowance")),
        schema="common",
    )


def downgrade() -> None:
    op.drop_table("provisional_deadline_allowance", schema="common")
    op.drop_table("clock_offset", schema="common")
    op.drop_table("calendar_year", schema="common")
    op.drop_table("calendar_day", schema="common")
