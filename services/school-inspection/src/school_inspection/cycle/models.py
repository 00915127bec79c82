"""Comprehensive supervision cycles (综合督导): every school of a county once per cycle, planned by year."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dudao.db import IdMixin, division_index
from school_inspection.db import Base
from school_inspection.school.models import School


class CoverageStatus(StrEnum):
    COVERED = "covered"  # a comprehensive visit in the planned year
    COVERED_EARLY = "covered_early"  # visited within the cycle before the planned year
    COVERED_LATE = "covered_late"  # visited after the planned year
    LATE = "late"  # the planned year is over and no comprehensive visit yet
    DUE = "due"  # the planned year is this year, not visited yet
    UPCOMING = "upcoming"  # the planned year is still to come


class Cycle(IdMixin, Base):
    __tablename__ = "comprehensive_cycle"

    division_code: Mapped[str] = mapped_column(String(6))  # a county
    start_year: Mapped[int]
    years: Mapped[int]  # from the visit policy when planned (Guangxi: 5)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]

    schools: Mapped[list[CycleSchool]] = relationship(lazy="raise", order_by="CycleSchool.planned_year")

    @property
    def end_year(self) -> int:
        return self.start_year + self.years - 1

    __table_args__ = (
        UniqueConstraint("division_code", "start_year"),
        CheckConstraint("years > 0", name="years_positive"),
        division_index("comprehensive_cycle"),
    )


class CycleSchool(Base):
    """The year a school's comprehensive supervision is planned in."""

    __tablename__ = "comprehensive_cycle_school"

    cycle_id: Mapped[UUID] = mapped_column(ForeignKey(Cycle.id), primary_key=True)
    school_id: Mapped[UUID] = mapped_column(ForeignKey(School.id), primary_key=True)
    planned_year: Mapped[int]

    __table_args__ = (Index("ix_comprehensive_cycle_school_school_id", "school_id"),)
