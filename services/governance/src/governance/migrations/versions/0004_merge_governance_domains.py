"""Join the branches of governance's domains, each written beside the others.

Revision ID: 0004
Revises: 0003_bodies, 0003_evaluation, 0003_numbering, 0003_special, 0003_supervision
"""

from collections.abc import Sequence

revision: str = "0004"
down_revision: str | Sequence[str] | None = (
    "0003_bodies",
    "0003_evaluation",
    "0003_numbering",
    "0003_special",
    "0003_supervision",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
