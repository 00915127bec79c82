"""Double-random draws (双随机): a commitment to a seed, the frozen candidate pools and the result."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import ARRAY, CheckConstraint, String, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dudao.db import IdMixin, division_index, enum_column
from school_inspection.db import Base


class DrawStatus(StrEnum):
    COMMITTED = "committed"  # the seed's hash is known, the pools are frozen
    REVEALED = "revealed"  # the seed was revealed and the result computed
    VOID = "void"  # revealed, but no team could be formed without a recused inspector


class Draw(IdMixin, Base):
    __tablename__ = "random_draw"

    division_code: Mapped[str] = mapped_column(String(6))  # whose schools and inspectors are drawn
    purpose: Mapped[str] = mapped_column(String(200))
    school_types: Mapped[list[str] | None] = mapped_column(ARRAY(String(30)))  # None: every type
    school_count: Mapped[int]
    inspector_count: Mapped[int]
    seed_hash: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(32))
    school_pool: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid()))  # sorted
    inspector_pool: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid()))  # sorted
    excluded_pairs: Mapped[list[list[str]]] = mapped_column(JSONB)  # sorted [inspector, school] pairs
    status: Mapped[DrawStatus] = mapped_column(enum_column(DrawStatus, 10))
    seed: Mapped[str | None] = mapped_column(Text)
    drawn_school_ids: Mapped[list[UUID] | None] = mapped_column(ARRAY(Uuid()))
    drawn_inspector_ids: Mapped[list[UUID] | None] = mapped_column(ARRAY(Uuid()))
    void_reason: Mapped[str | None] = mapped_column(Text)
    committed_by: Mapped[str] = mapped_column(String(200))
    committed_at: Mapped[datetime]
    revealed_by: Mapped[str | None] = mapped_column(String(200))
    revealed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("school_count > 0 AND inspector_count > 0", name="counts_positive"),
        CheckConstraint("(status = 'committed') = (seed IS NULL)", name="seed_once_revealed"),
        division_index("random_draw"),
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook
