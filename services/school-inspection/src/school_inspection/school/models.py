"""Schools (学校) under inspection."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Enum, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dudao.db import IdMixin
from school_inspection.db import Base


class SchoolType(StrEnum):
    KINDERGARTEN = "kindergarten"
    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"
    NINE_YEAR = "nine_year"
    TWELVE_YEAR = "twelve_year"
    COMPLETE_SECONDARY = "complete_secondary"
    VOCATIONAL = "vocational"
    SPECIAL_EDUCATION = "special_education"


class Ownership(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


def _stored_as_value(enum: type[StrEnum], length: int) -> Enum:
    return Enum(enum, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class School(IdMixin, Base):
    __tablename__ = "school"

    school_code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    school_type: Mapped[SchoolType] = mapped_column(_stored_as_value(SchoolType, 30))
    ownership: Mapped[Ownership] = mapped_column(_stored_as_value(Ownership, 10))
    division_code: Mapped[str] = mapped_column(String(6))
    address: Mapped[str] = mapped_column(String(300))
    enrolment: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("enrolment >= 0", name="enrolment_not_negative"),
        Index(
            "ix_school_division_code", "division_code", postgresql_ops={"division_code": "text_pattern_ops"}
        ),
        Index("ix_school_updated_at", "updated_at", "id"),
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook
