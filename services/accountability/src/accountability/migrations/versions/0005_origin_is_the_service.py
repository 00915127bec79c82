"""origin is the service's name: school-inspection's cases said 'inspection', its schema's name

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE accountability.escalation_case SET origin = 'school-inspection' WHERE origin = 'inspection'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE accountability.escalation_case SET origin = 'inspection' WHERE origin = 'school-inspection'"
    )
