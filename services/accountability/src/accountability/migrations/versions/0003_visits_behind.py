"""visits behind: the schools that fell behind on routine visits, and the steps they trigger

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = ("overdue", "rejected", "manual")


def _reason(*reasons: str, length: int) -> sa.Enum:
    return sa.Enum(*reasons, name="stepreason", native_enum=False, length=length, schema="accountability")


def upgrade() -> None:
    op.create_table(
        "visits_behind_fact",
        sa.Column("fact_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("school_code", sa.String(length=30), nullable=False),
        sa.Column("school_name", sa.String(length=200), nullable=False),
        sa.Column("semester", sa.String(length=20), nullable=False),
        sa.Column("checkpoint", sa.String(length=10), nullable=False),
        sa.Column("checkpoint_date", sa.Date(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("required", sa.Integer(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "checkpoint IN ('midpoint', 'end')", name=op.f("ck_visits_behind_fact_checkpoint")
        ),
        sa.CheckConstraint("visits >= 0 AND required >= 1", name=op.f("ck_visits_behind_fact_counts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits_behind_fact")),
        sa.UniqueConstraint("fact_id", name=op.f("uq_visits_behind_fact_fact_id")),
        schema="accountability",
    )
    op.create_index(
        "ix_visits_behind_fact_division_code",
        "visits_behind_fact",
        ["division_code"],
        unique=False,
        schema="accountability",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_index(
        "ix_visits_behind_fact_school_id",
        "visits_behind_fact",
        ["school_id"],
        unique=False,
        schema="accountability",
    )
    # "visits_behind" is longer than the ten characters the first three reasons needed.
    op.alter_column(
        "escalation_step",
        "reason",
        existing_type=_reason(*REASONS, length=10),
        type_=_reason(*REASONS, "visits_behind", length=20),
        existing_nullable=False,
        schema="accountability",
    )


def downgrade() -> None:
    taken = op.get_bind().execute(
        sa.text("SELECT count(*) FROM accountability.escalation_step WHERE reason = 'visits_behind'")
    )
    if taken.scalar_one():
        raise RuntimeError("steps taken on schools behind on visits exist: revision 0002 cannot hold them")
    op.alter_column(
        "escalation_step",
        "reason",
        existing_type=_reason(*REASONS, "visits_behind", length=20),
        type_=_reason(*REASONS, length=10),
        existing_nullable=False,
        schema="accountability",
    )
    op.drop_index("ix_visits_behind_fact_school_id", table_name="visits_behind_fact", schema="accountability")
    op.drop_index(
        "ix_visits_behind_fact_division_code",
        table_name="visits_behind_fact",
        schema="accountability",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.drop_table("visits_behind_fact", schema="accountability")
