"""Join the registry, inspector and visit branches; visits now reference inspectors.

Revision ID: 0004
Revises: 0003_registry, 0003_inspectors, 0003_visits
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = ("0003_registry", "0003_inspectors", "0003_visits")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_foreign_key(
        op.f("fk_visit_inspector_inspector_id_inspector"),
        "visit_inspector",
        "inspector",
        ["inspector_id"],
        ["id"],
        source_schema="inspection",
        referent_schema="inspection",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_visit_inspector_inspector_id_inspector"),
        "visit_inspector",
        schema="inspection",
        type_="foreignkey",
    )
