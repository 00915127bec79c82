"""numbering moves to the kit; governance's facts and the duty-evaluation ladder

The issuing offices become the kit's projection of governance's office records (governance is the one
source of the abbreviations): altered in place, the abbreviations accountability kept so far stay, as
version 0, which any record of governance replaces. The sequences already have the kit's shape: every
serial issued stays as it is.

Revision ID: 0006
Revises: 0005
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A failed duty evaluation (RULES.md §5): its responsible person is interviewed, then the unit circulated,
# then a person decides on accountability.
DUTY_EVALUATION_LADDER_ID = uuid.UUID("01960000-0000-7000-8000-000000000002")
DUTY_EVALUATION_STEPS = [
    {"kind": "interview", "new_deadline_days": 30},
    {"kind": "circular", "new_deadline_days": 30},
    {"kind": "accountability_decision", "new_deadline_days": None},
]
SCHEMA = "accountability"


def upgrade() -> None:
    op.drop_constraint("uq_issuing_office_abbreviation", "issuing_office", schema=SCHEMA, type_="unique")
    op.drop_column("issuing_office", "updated_by", schema=SCHEMA)
    op.add_column("issuing_office", sa.Column("name", sa.String(length=200), nullable=True), schema=SCHEMA)
    op.add_column(
        "issuing_office",
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        schema=SCHEMA,
    )
    op.alter_column("issuing_office", "version", server_default=None, schema=SCHEMA)
    op.create_check_constraint(
        op.f("ck_issuing_office_version_not_negative"), "issuing_office", "version >= 0", schema=SCHEMA
    )
    op.create_table(
        "governance_fact",
        sa.Column("fact_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "duty_evaluation_concluded",
                "evaluation_round_published",
                "filing_missing",
                "emergency_report_overdue",
                name="governancefactkind",
                native_enum=False,
                length=30,
                schema=SCHEMA,
            ),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_fact")),
        sa.UniqueConstraint("fact_id", name=op.f("uq_governance_fact_fact_id")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_governance_fact_division_code",
        "governance_fact",
        ["division_code"],
        unique=False,
        schema=SCHEMA,
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    ladders = sa.table(
        "escalation_ladder",
        sa.column("id", sa.Uuid()),
        sa.column("version", sa.Integer()),
        sa.column("finding_category", sa.String()),
        sa.column("steps", postgresql.JSONB()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("created_by", sa.String()),
        sa.column("active", sa.Boolean()),
        schema=SCHEMA,
    )
    op.execute(
        ladders.insert().values(
            id=DUTY_EVALUATION_LADDER_ID,
            version=1,
            finding_category="duty_evaluation",
            steps=DUTY_EVALUATION_STEPS,
            created_at=sa.func.now(),
            created_by="migration 0006",
            active=True,
        )
    )


def downgrade() -> None:
    op.execute(
        sa.text("DELETE FROM accountability.escalation_ladder WHERE id = :id").bindparams(
            id=DUTY_EVALUATION_LADDER_ID
        )
    )
    op.drop_index(
        "ix_governance_fact_division_code",
        table_name="governance_fact",
        schema=SCHEMA,
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.drop_table("governance_fact", schema=SCHEMA)
    op.drop_constraint(
        "ck_issuing_office_version_not_negative", "issuing_office", schema=SCHEMA, type_="check"
    )
    op.drop_column("issuing_office", "version", schema=SCHEMA)
    op.drop_column("issuing_office", "name", schema=SCHEMA)
    op.add_column(
        "issuing_office",
        sa.Column("updated_by", sa.String(length=200), nullable=False, server_default="migration 0006"),
        schema=SCHEMA,
    )
    op.alter_column("issuing_office", "updated_by", server_default=None, schema=SCHEMA)
    op.create_unique_constraint(
        "uq_issuing_office_abbreviation", "issuing_office", ["abbreviation"], schema=SCHEMA
    )
