"""Upward filing (向上级报告, 二二): a lower office files its annual work plan, major matters and supervision
results with the office above, which acknowledges or returns each."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from dudao.db import IdMixin, division_index, enum_column
from governance.db import Base
from governance.office.models import SupervisionOffice


class FilingKind(StrEnum):
    WORK_PLAN = "work_plan"  # 年度工作计划: one a year
    MAJOR_MATTER = "major_matter"  # 重大事项
    SUPERVISION_RESULTS = "supervision_results"  # 督导结果


class FilingStatus(StrEnum):
    FILED = "filed"  # waits for the office above
    ACKNOWLEDGED = "acknowledged"
    RETURNED = "returned"  # with comments; the lower office files it again


class Filing(IdMixin, Base):
    __tablename__ = "filing"

    office_id: Mapped[UUID] = mapped_column(ForeignKey(SupervisionOffice.id))
    division_code: Mapped[str] = mapped_column(String(6))  # the filing office's
    superior_division: Mapped[str] = mapped_column(String(6))  # the office it files with
    year: Mapped[int]
    kind: Mapped[FilingKind] = mapped_column(enum_column(FilingKind, 30))
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[FilingStatus] = mapped_column(enum_column(FilingStatus, 20))
    comments: Mapped[str | None] = mapped_column(Text)  # the office above's, on its last decision
    filed_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        # One work plan an office a year (a returned one is filed again, not twice).
        Index(
            "uq_filing_work_plan",
            "division_code",
            "year",
            unique=True,
            postgresql_where=text("kind = 'work_plan'"),
        ),
        division_index("filing"),
        Index("ix_filing_superior_division_year", "superior_division", "year"),
        Index("ix_filing_updated_at", "updated_at", "id"),
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook


class FilingMissingNoticed(Base):
    """A missing filing noticed once: the claim that lets any number of schedulers emit the fact once."""

    __tablename__ = "filing_missing"

    division_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[FilingKind] = mapped_column(enum_column(FilingKind, 30), primary_key=True)
    superior_division: Mapped[str] = mapped_column(String(6))
    due_on: Mapped[date]
    noticed_at: Mapped[datetime]
