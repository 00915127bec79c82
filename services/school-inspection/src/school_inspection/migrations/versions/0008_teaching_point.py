"""schools say whether they are teaching points (教学点)

Revision ID: 0008_teaching_point
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_teaching_point"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "school",
        sa.Column("teaching_point", sa.Boolean(), server_default=sa.false(), nullable=False),
        schema="inspection",
    )


def downgrade() -> None:
    op.drop_column("school", "teaching_point", schema="inspection")
