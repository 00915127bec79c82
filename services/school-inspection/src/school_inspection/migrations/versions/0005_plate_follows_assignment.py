"""plates: the inspector fields become an optional override; without them a plate shows the school's
current responsible inspector

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {
    "inspector_name": sa.String(length=50),
    "photo_url": sa.String(length=500),
    "contact_phone": sa.String(length=30),
}


def upgrade() -> None:
    for column, type_ in COLUMNS.items():
        op.alter_column("plate", column, existing_type=type_, nullable=True, schema="inspection")
    op.create_check_constraint(
        op.f("ck_plate_inspector_whole"),
        "plate",
        "num_nulls(inspector_name, photo_url, contact_phone) IN (0, 3)",
        schema="inspection",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_plate_inspector_whole"), "plate", schema="inspection", type_="check")
    # The older schema cannot hold a plate that follows the assignment.
    op.execute("DELETE FROM inspection.plate WHERE inspector_name IS NULL")
    for column, type_ in COLUMNS.items():
        op.alter_column("plate", column, existing_type=type_, nullable=False, schema="inspection")
