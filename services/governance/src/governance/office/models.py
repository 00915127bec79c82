"""Supervision offices (督导机构 · 教育督导委员会办公室): one per division."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dudao.db import IdMixin, division_index
from governance.db import Base


class SupervisionOffice(IdMixin, Base):
    __tablename__ = "supervision_office"

    division_code: Mapped[str] = mapped_column(String(6), unique=True)
    # The division of the office it files with (the parent division); none for the region's.
    superior_division: Mapped[str | None] = mapped_column(String(6))
    name: Mapped[str] = mapped_column(String(200))
    # 机关代字 of its document numbers (桂教督, 邕教督): the one source of them, unique across offices.
    abbreviation: Mapped[str] = mapped_column(String(20), unique=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        division_index("supervision_office"),
        Index("ix_supervision_office_superior_division", "superior_division"),
        Index("ix_supervision_office_updated_at", "updated_at", "id"),
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook
