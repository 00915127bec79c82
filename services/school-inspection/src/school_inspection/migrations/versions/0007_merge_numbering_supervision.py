"""Join the numbering and supervision branches.

Revision ID: 0007
Revises: 0006_numbering, 0006_supervision
"""

from collections.abc import Sequence

revision: str = "0007"
down_revision: str | Sequence[str] | None = ("0006_numbering", "0006_supervision")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
