"""agencies, commissions, the keys bound to them, agency reports, quality results and reviews

Revision ID: 0003_agency
Revises: 0002

``commission.system_ids`` names indicator systems of the indicator branch (an array: no foreign key);
``commission_key.key_id`` a key of the kit's ``common.api_key``, kept by another history.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_agency"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "monitoring"
TS = sa.DateTime(timezone=True)


def _enum(name: str, length: int, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=length, schema=SCHEMA)


def _division_index(table: str) -> None:
    op.create_index(
        f"ix_{table}_division_code",
        table,
        ["division_code"],
        unique=False,
        schema=SCHEMA,
        postgresql_ops={"division_code": "text_pattern_ops"},
    )


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{SCHEMA}.{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def _deliverable_kind() -> sa.Enum:
    return _enum("deliverablekind", 20, "data", "report", "quality_results")


def upgrade() -> None:
    op.create_table(
        "agency",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("qualification_kind", sa.String(length=100), nullable=False),
        sa.Column("certificate_number", sa.String(length=100), nullable=False),
        sa.Column("qualification_valid_until", sa.Date(), nullable=False),
        sa.Column("contacts_sealed", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency")),
        sa.UniqueConstraint("division_code", "credit_code", name=op.f("uq_agency_division_code_credit_code")),
        schema=SCHEMA,
    )
    _division_index("agency")
    op.create_index("ix_agency_updated_at", "agency", ["updated_at", "id"], unique=False, schema=SCHEMA)

    op.create_table(
        "commission",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("purchase_reference", sa.String(length=100), nullable=False),
        sa.Column("system_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("divisions", postgresql.ARRAY(sa.String(length=6)), nullable=False),
        sa.Column("unit_ids", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column(
            "status", _enum("commissionstatus", 20, "active", "completed", "terminated"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_commission_period_ordered")),
        sa.CheckConstraint("cardinality(system_ids) > 0", name=op.f("ck_commission_has_systems")),
        sa.CheckConstraint("cardinality(divisions) > 0", name=op.f("ck_commission_has_divisions")),
        _fk("commission", "agency_id", "agency"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission")),
        schema=SCHEMA,
    )
    _division_index("commission")
    op.create_index("ix_commission_agency_id", "commission", ["agency_id"], unique=False, schema=SCHEMA)
    op.create_index(
        "ix_commission_updated_at", "commission", ["updated_at", "id"], unique=False, schema=SCHEMA
    )

    op.create_table(
        "commission_deliverable",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("commission_id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("kind", _deliverable_kind(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            _enum("deliverablestatus", 20, "pending", "submitted", "accepted", "returned"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _fk("commission_deliverable", "commission_id", "commission"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_deliverable")),
        schema=SCHEMA,
    )
    _division_index("commission_deliverable")
    op.create_index(
        "ix_commission_deliverable_commission_id",
        "commission_deliverable",
        ["commission_id"],
        unique=False,
        schema=SCHEMA,
    )

    op.create_table(
        "commission_key",
        sa.Column("key_id", sa.Uuid(), nullable=False),
        sa.Column("commission_id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("display_prefix", sa.String(length=16), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        _fk("commission_key", "commission_id", "commission"),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_commission_key")),
        schema=SCHEMA,
    )
    _division_index("commission_key")
    op.create_index(
        "ix_commission_key_commission_id", "commission_key", ["commission_id"], unique=False, schema=SCHEMA
    )

    op.create_table(
        "agency_report",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deliverable_id", sa.Uuid(), nullable=False),
        sa.Column("commission_id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("evidence_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("system_id", sa.Uuid(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("key_id", sa.String(length=40), nullable=True),
        sa.Column("submitted_at", TS, nullable=False),
        sa.CheckConstraint(
            "(system_id IS NULL) = (year IS NULL)", name=op.f("ck_agency_report_results_year_with_system")
        ),
        _fk("agency_report", "deliverable_id", "commission_deliverable"),
        _fk("agency_report", "commission_id", "commission"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_report")),
        schema=SCHEMA,
    )
    _division_index("agency_report")
    op.create_index(
        "ix_agency_report_deliverable_id", "agency_report", ["deliverable_id"], unique=False, schema=SCHEMA
    )

    op.create_table(
        "quality_result",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("attainment_level", sa.SmallInteger(), nullable=False),
        sa.Column("difference_rate", sa.Numeric(6, 4), nullable=False),
        sa.CheckConstraint("attainment_level BETWEEN 1 AND 4", name=op.f("ck_quality_result_level_in_range")),
        sa.CheckConstraint("difference_rate >= 0", name=op.f("ck_quality_result_rate_not_negative")),
        _fk("quality_result", "report_id", "agency_report"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_result")),
        sa.UniqueConstraint(
            "report_id",
            "county_code",
            "subject",
            name=op.f("uq_quality_result_report_id_county_code_subject"),
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_quality_result_report_id", "quality_result", ["report_id"], unique=False, schema=SCHEMA
    )

    op.create_table(
        "deliverable_review",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deliverable_id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("decision", _enum("reviewdecision", 10, "accept", "return"), nullable=False),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=200), nullable=False),
        sa.Column("reviewed_at", TS, nullable=False),
        sa.CheckConstraint(
            "decision = 'accept' OR comments IS NOT NULL",
            name=op.f("ck_deliverable_review_return_has_comments"),
        ),
        _fk("deliverable_review", "deliverable_id", "commission_deliverable"),
        _fk("deliverable_review", "report_id", "agency_report"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliverable_review")),
        schema=SCHEMA,
    )
    _division_index("deliverable_review")
    op.create_index(
        "ix_deliverable_review_deliverable_id",
        "deliverable_review",
        ["deliverable_id"],
        unique=False,
        schema=SCHEMA,
    )


def downgrade() -> None:
    for table in (
        "deliverable_review",
        "quality_result",
        "agency_report",
        "commission_key",
        "commission_deliverable",
        "commission",
        "agency",
    ):
        op.drop_table(table, schema=SCHEMA)
