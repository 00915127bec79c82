"""Data collection (数据采集): tasks with their forms and validation rules, submissions approved level by
level (county → city → region), and THE VALUES every computation of monitoring reads."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dudao.db import IdMixin, division_index, enum_column
from monitoring.db import Base
from monitoring.indicator.models import IndicatorSystem, UnitKind

# Counts, areas (m²) and money (yuan) alike: 14 digits before the point, 4 after.
Amount = Numeric(18, 4)


class SubmissionStatus(StrEnum):
    """submitted → county_approved → city_approved → approved; any level may return it, and the
    resubmission starts again at the first level. A county's own data starts at the city."""

    SUBMITTED = "submitted"
    COUNTY_APPROVED = "county_approved"
    CITY_APPROVED = "city_approved"
    APPROVED = "approved"
    RETURNED = "returned"


class ReviewLevel(StrEnum):
    COUNTY = "county"
    CITY = "city"
    REGION = "region"


class ReviewDecision(StrEnum):
    APPROVED = "approved"
    RETURNED = "returned"


class RuleKind(StrEnum):
    REQUIRED = "required"  # the element must have a value
    RANGE = "range"  # minimum <= value <= maximum (either bound may be left out)
    COMPARE = "compare"  # element <op> right element (or constant) × factor


# The levels a unit's submission passes, in order, and the status each level's approval leaves.
LEVELS: dict[UnitKind, tuple[ReviewLevel, ...]] = {
    UnitKind.SCHOOL: (ReviewLevel.COUNTY, ReviewLevel.CITY, ReviewLevel.REGION),
    UnitKind.COUNTY: (ReviewLevel.CITY, ReviewLevel.REGION),
}
APPROVED_AT = {
    ReviewLevel.COUNTY: SubmissionStatus.COUNTY_APPROVED,
    ReviewLevel.CITY: SubmissionStatus.CITY_APPROVED,
    ReviewLevel.REGION: SubmissionStatus.APPROVED,
}


def awaiting(unit_kind: UnitKind, status: SubmissionStatus) -> ReviewLevel | None:
    """The level whose review a submission awaits, or None (approved, or returned to the unit)."""
    if status in (SubmissionStatus.APPROVED, SubmissionStatus.RETURNED):
        return None
    levels = LEVELS[unit_kind]
    if status == SubmissionStatus.SUBMITTED:
        return levels[0]
    done = next(level for level, s in APPROVED_AT.items() if s == status)
    return levels[levels.index(done) + 1]


class CollectionTask(IdMixin, Base):
    """A collection task (采集任务): which elements of an indicator system, from which units, for which
    year, by when. ``form`` is the form as issued (each element's code, label and unit, in order),
    copied from the indicator system so that a form never changes under the units filling it in."""

    __tablename__ = "collection_task"

    # The indicator system (M1's ``indicator_system.id``; its foreign key joins at the merge).
    system_id: Mapped[UUID] = mapped_column(ForeignKey(IndicatorSystem.id))
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int]
    unit_kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, 10))
    # The units asked: those of ``unit_kind`` under this division, or only ``unit_ids`` among them.
    division_code: Mapped[str] = mapped_column(String(6))
    scope_prefix: Mapped[str] = mapped_column(String(6))  # jurisdiction_prefix(division_code)
    unit_ids: Mapped[list[str] | None] = mapped_column(ARRAY(String(64)))
    element_codes: Mapped[list[str]] = mapped_column(ARRAY(String(60)))
    form: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    due_on: Mapped[date]
    # Days before ``due_on`` on which units that have not submitted are reminded.
    remind_days: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    reminded_days: Mapped[list[int]] = mapped_column(ARRAY(Integer))  # the reminders already sent
    overdue_noticed_at: Mapped[datetime | None]  # when the units that missed it got their findings
    issued_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_plausible"),
        CheckConstraint("cardinality(element_codes) > 0", name="has_elements"),
        division_index("collection_task"),
        Index("ix_collection_task_updated_at", "updated_at", "id"),
        Index("ix_collection_task_due_on", "due_on", postgresql_where=text("overdue_noticed_at IS NULL")),
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook


class ValidationRule(IdMixin, Base):
    """A validation rule of a task's form (校验规则), kept as data and evaluated over a whole set of values
    at once."""

    __tablename__ = "validation_rule"

    task_id: Mapped[UUID] = mapped_column(ForeignKey("collection_task.id", ondelete="CASCADE"))
    position: Mapped[int]
    kind: Mapped[RuleKind] = mapped_column(enum_column(RuleKind, 10))
    element_code: Mapped[str] = mapped_column(String(60))
    minimum: Mapped[Decimal | None] = mapped_column(Amount)
    maximum: Mapped[Decimal | None] = mapped_column(Amount)
    operator: Mapped[str | None] = mapped_column(String(2))
    right_element: Mapped[str | None] = mapped_column(String(60))
    right_value: Mapped[Decimal | None] = mapped_column(Amount)
    factor: Mapped[Decimal | None] = mapped_column(Amount)
    message: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("task_id", "position"),
        CheckConstraint(
            "kind <> 'range' OR minimum IS NOT NULL OR maximum IS NOT NULL", name="range_has_bound"
        ),
        CheckConstraint(
            "kind <> 'compare' OR (operator IN ('<', '<=', '=', '>=', '>', '!=') "
            "AND (right_element IS NULL) <> (right_value IS NULL))",
            name="compare_has_sides",
        ),
    )


class Submission(IdMixin, Base):
    """One unit's data for one task (填报), and where its approval stands."""

    __tablename__ = "submission"

    task_id: Mapped[UUID] = mapped_column(ForeignKey("collection_task.id"))
    system_id: Mapped[UUID] = mapped_column(ForeignKey(IndicatorSystem.id))
    year: Mapped[int]
    unit_kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, 10))
    unit_id: Mapped[str] = mapped_column(String(64))
    # The unit as its people's principals name it (``org``): the school code, or the county code.
    unit_code: Mapped[str] = mapped_column(String(64))
    division_code: Mapped[str] = mapped_column(String(6))  # the school's county, or the county
    status: Mapped[SubmissionStatus] = mapped_column(enum_column(SubmissionStatus, 20))
    submitted_by: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str | None] = mapped_column(String(64))  # the API key that submitted it, if any
    comment: Mapped[str | None] = mapped_column(Text)  # the last return's comments
    values_count: Mapped[int]
    submitted_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("task_id", "unit_id"),
        division_index("submission"),
        Index("ix_submission_updated_at", "updated_at", "id"),
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook

    @property
    def awaiting(self) -> ReviewLevel | None:
        return awaiting(self.unit_kind, self.status)


class SubmissionReview(IdMixin, Base):
    """One level's decision on a submission (审核), kept as its history."""

    __tablename__ = "submission_review"

    submission_id: Mapped[UUID] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    level: Mapped[ReviewLevel] = mapped_column(enum_column(ReviewLevel, 10))
    decision: Mapped[ReviewDecision] = mapped_column(enum_column(ReviewDecision, 10))
    comment: Mapped[str | None] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(200))
    reviewer_division: Mapped[str] = mapped_column(String(6))
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_submission_review_submission_id", "submission_id", "created_at"),)


class SubmittedValue(Base):
    """A value as its submission holds it (NULL where the form was left blank): the submission's content,
    kept as submitted; its approval at the last level copies it into the values."""

    __tablename__ = "submitted_value"

    # No foreign key: the values are written with their submission, in its statement, and never without
    # it; checking each of 100,000 values against it would cost a bulk submission a tenth of its time.
    submission_id: Mapped[UUID] = mapped_column(primary_key=True)
    element_code: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[Decimal | None] = mapped_column(Amount)


class DataValue(IdMixin, Base):
    """THE values (数据): the approved value of one element of one unit for one year, in one indicator
    system; every computation reads them. Written by the last level's approval of a submission, or by an
    agency's results approved by their office (``write_approved``)."""

    __tablename__ = "data_value"

    system_id: Mapped[UUID] = mapped_column(ForeignKey(IndicatorSystem.id))
    task_id: Mapped[UUID | None]
    submission_id: Mapped[UUID | None]
    unit_kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, 10))
    unit_id: Mapped[str] = mapped_column(String(64))
    division_code: Mapped[str] = mapped_column(String(6))
    year: Mapped[int]
    element_code: Mapped[str] = mapped_column(String(60))
    value: Mapped[Decimal] = mapped_column(Amount)
    submitted_by: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("system_id", "unit_kind", "unit_id", "year", "element_code"),
        # What computations read: a system's values of a year under a division prefix.
        Index(
            "ix_data_value_system_id_year_division_code",
            "system_id",
            "year",
            "division_code",
            postgresql_ops={"division_code": "text_pattern_ops"},
        ),
    )
