"""Join the branches of monitoring's domains, each written beside the others, and tie what they record to
the indicator system it belongs to.

Revision ID: 0004
Revises: 0003_agency, 0003_balance, 0003_collection, 0003_indicator, 0003_warning
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = (
    "0003_agency",
    "0003_balance",
    "0003_collection",
    "0003_indicator",
    "0003_warning",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tables of the other branches whose system_id names an indicator system.
OF_A_SYSTEM = (
    "agency_report",
    "balance_verdict",
    "collection_task",
    "submission",
    "data_value",
    "warning_alert",
)


def upgrade() -> None:
    for table in OF_A_SYSTEM:
        op.create_foreign_key(
            op.f(f"fk_{table}_system_id_indicator_system"),
            table,
            "indicator_system",
            ["system_id"],
            ["id"],
            source_schema="monitoring",
            referent_schema="monitoring",
        )


def downgrade() -> None:
    for table in OF_A_SYSTEM:
        op.drop_constraint(
            op.f(f"fk_{table}_system_id_indicator_system"), table, schema="monitoring", type_="foreignkey"
        )
