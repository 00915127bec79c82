"""published decisions: an accountability decision the office made public (item 十四)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "accountability_decision",
        sa.Column("published", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        schema="accountability",
    )
    op.create_check_constraint(
        op.f("ck_accountability_decision_published_when_decided"),
        "accountability_decision",
        "NOT published OR status = 'decided'",
        schema="accountability",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_accountability_decision_published_when_decided"),
        "accountability_decision",
        type_="check",
        schema="accountability",
    )
    op.drop_column("accountability_decision", "published", schema="accountability")
