"""balanced development: verdicts and the findings they raised; the roster's enrolment and teaching points

Revision ID: 0003_balance
Revises: 0002

``balance_verdict.system_id`` names the indicator system of the indicator branch; its foreign key is added
where the branches merge.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_balance"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "monitoring"
ROSTER_COUNTS = ("enrolment", "pupils_primary", "pupils_junior", "pupils_senior")


def upgrade() -> None:
    for column in ROSTER_COUNTS:
        op.add_column("roster_school", sa.Column(column, sa.Integer(), nullable=True), schema=SCHEMA)
    op.add_column(
        "roster_school",
        sa.Column("teaching_point", sa.Boolean(), server_default=sa.false(), nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "balance_verdict",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("system_id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("met", "not_met", "missing", name="status", native_enum=False, length=10, schema=SCHEMA),
            nullable=False,
        ),
        sa.Column("failed", postgresql.ARRAY(sa.String(length=60)), nullable=False),
        sa.Column("figures", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("computed_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_balance_verdict_year_plausible")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balance_verdict")),
        sa.UniqueConstraint(
            "system_id", "division_code", "year", name=op.f("uq_balance_verdict_system_id_division_code_year")
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_balance_verdict_division_code",
        "balance_verdict",
        ["division_code"],
        unique=False,
        schema=SCHEMA,
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_index(
        "ix_balance_verdict_updated_at", "balance_verdict", ["updated_at", "id"], unique=False, schema=SCHEMA
    )
    op.create_table(
        "balance_finding",
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.String(length=60), nullable=False),
        sa.Column("verdict_id", sa.Uuid(), nullable=False),
        sa.Column("rectification_id", sa.Uuid(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("division_code", "year", "criterion", name=op.f("pk_balance_finding")),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("balance_finding", schema=SCHEMA)
    op.drop_index("ix_balance_verdict_updated_at", table_name="balance_verdict", schema=SCHEMA)
    op.drop_index(
        "ix_balance_verdict_division_code",
        table_name="balance_verdict",
        schema=SCHEMA,
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.drop_table("balance_verdict", schema=SCHEMA)
    op.drop_column("roster_school", "teaching_point", schema=SCHEMA)
    for column in reversed(ROSTER_COUNTS):
        op.drop_column("roster_school", column, schema=SCHEMA)
