"""bodies: supervised units (governments, departments), supervision offices, committees with member units
and liaisons, upward filing

Revision ID: 0003_bodies
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_bodies"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "governance"


def _division_index(table: str) -> None:
    op.create_index(
        f"ix_{table}_division_code",
        table,
        ["division_code"],
        unique=False,
        schema=SCHEMA,
        postgresql_ops={"division_code": "text_pattern_ops"},
    )


def _updated_index(table: str) -> None:
    op.create_index(f"ix_{table}_updated_at", table, ["updated_at", "id"], unique=False, schema=SCHEMA)


def _kind(name: str, values: Sequence[str], length: int) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=length, schema=SCHEMA)


def upgrade() -> None:
    op.create_table(
        "supervised_unit",
        sa.Column("kind", _kind("supervisedunitkind", ("government", "department"), 20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("competent_department_id", sa.Uuid(), nullable=True),
        sa.Column(
            "responsible_people",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["competent_department_id"],
            [f"{SCHEMA}.supervised_unit.id"],
            name=op.f("fk_supervised_unit_competent_department_id_supervised_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervised_unit")),
        sa.UniqueConstraint("division_code", "name", name=op.f("uq_supervised_unit_division_code_name")),
        schema=SCHEMA,
    )
    op.create_index(
        "uq_supervised_unit_government",
        "supervised_unit",
        ["division_code"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("kind = 'government'"),
    )
    _division_index("supervised_unit")
    _updated_index("supervised_unit")

    op.create_table(
        "supervision_office",
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("superior_division", sa.String(length=6), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("abbreviation", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_office")),
        sa.UniqueConstraint("abbreviation", name=op.f("uq_supervision_office_abbreviation")),
        sa.UniqueConstraint("division_code", name=op.f("uq_supervision_office_division_code")),
        schema=SCHEMA,
    )
    _division_index("supervision_office")
    op.create_index(
        "ix_supervision_office_superior_division",
        "supervision_office",
        ["superior_division"],
        unique=False,
        schema=SCHEMA,
    )
    _updated_index("supervision_office")

    op.create_table(
        "committee",
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("chair", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("vice_chairs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("chief_inspector", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("deputy_chief_inspectors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"],
            [f"{SCHEMA}.supervision_office.id"],
            name=op.f("fk_committee_office_id_supervision_office"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committee")),
        sa.UniqueConstraint("division_code", name=op.f("uq_committee_division_code")),
        schema=SCHEMA,
    )
    _division_index("committee")
    _updated_index("committee")
    op.create_table(
        "committee_member",
        sa.Column("committee_id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("duties", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["committee_id"],
            [f"{SCHEMA}.committee.id"],
            name=op.f("fk_committee_member_committee_id_committee"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committee_member")),
        sa.UniqueConstraint("committee_id", "name", name=op.f("uq_committee_member_committee_id_name")),
        schema=SCHEMA,
    )
    _division_index("committee_member")
    op.create_table(
        "liaison",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("committee_id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("post", sa.String(length=100), nullable=False),
        sa.Column("phone_sealed", sa.Text(), nullable=False),
        sa.Column("email_sealed", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["committee_id"], [f"{SCHEMA}.committee.id"], name=op.f("fk_liaison_committee_id_committee")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            [f"{SCHEMA}.committee_member.id"],
            name=op.f("fk_liaison_member_id_committee_member"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_liaison")),
        schema=SCHEMA,
    )
    op.create_index("ix_liaison_committee_id", "liaison", ["committee_id"], unique=False, schema=SCHEMA)
    op.create_index("ix_liaison_member_id", "liaison", ["member_id"], unique=False, schema=SCHEMA)

    filing_kind = ("work_plan", "major_matter", "supervision_results")
    op.create_table(
        "filing",
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("superior_division", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", _kind("filingkind", filing_kind, 30), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("status", _kind("filingstatus", ("filed", "acknowledged", "returned"), 20), nullable=False),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"],
            [f"{SCHEMA}.supervision_office.id"],
            name=op.f("fk_filing_office_id_supervision_office"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing")),
        schema=SCHEMA,
    )
    op.create_index(
        "uq_filing_work_plan",
        "filing",
        ["division_code", "year"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("kind = 'work_plan'"),
    )
    _division_index("filing")
    op.create_index(
        "ix_filing_superior_division_year",
        "filing",
        ["superior_division", "year"],
        unique=False,
        schema=SCHEMA,
    )
    _updated_index("filing")
    op.create_table(
        "filing_missing",
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", _kind("filingkind", filing_kind, 30), nullable=False),
        sa.Column("superior_division", sa.String(length=6), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("noticed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("division_code", "year", "kind", name=op.f("pk_filing_missing")),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("filing_missing", schema=SCHEMA)
    op.drop_table("filing", schema=SCHEMA)
    op.drop_table("liaison", schema=SCHEMA)
    op.drop_table("committee_member", schema=SCHEMA)
    op.drop_table("committee", schema=SCHEMA)
    op.drop_table("supervision_office", schema=SCHEMA)
    op.drop_table("supervised_unit", schema=SCHEMA)
