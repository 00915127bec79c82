"""Schools (学校) under inspection."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from dudao.db import IdMixin, division_index, enum_column
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


class Stage(StrEnum):
    """The stages pupils are counted by (学段)."""

    KINDERGARTEN = "kindergarten"
    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"
    VOCATIONAL = "vocational"


# The stages a type of school teaches; pupils in any other stage are a data error. Special-education
# schools run preschool, compulsory, senior and vocational classes alike.
STAGES_TAUGHT: dict[SchoolType, frozenset[Stage]] = {
    SchoolType.KINDERGARTEN: frozenset({Stage.KINDERGARTEN}),
    SchoolType.PRIMARY: frozenset({Stage.PRIMARY}),
    SchoolType.JUNIOR: frozenset({Stage.JUNIOR}),
    SchoolType.SENIOR: frozenset({Stage.SENIOR}),
    SchoolType.NINE_YEAR: frozenset({Stage.PRIMARY, Stage.JUNIOR}),
    SchoolType.TWELVE_YEAR: frozenset({Stage.PRIMARY, Stage.JUNIOR, Stage.SENIOR}),
    SchoolType.COMPLETE_SECONDARY: frozenset({Stage.JUNIOR, Stage.SENIOR}),
    SchoolType.VOCATIONAL: frozenset({Stage.VOCATIONAL}),
    SchoolType.SPECIAL_EDUCATION: frozenset(Stage),
}


def _stage_column(stage: Stage) -> str:
    return f"pupils_{stage.value}"


_STAGE_COLUMNS = [_stage_column(s) for s in Stage]
_ALL_NULL = " AND ".join(f"{c} IS NULL" for c in _STAGE_COLUMNS)
_TOTALLED = " AND ".join(f"{c} IS NOT NULL AND {c} >= 0" for c in _STAGE_COLUMNS)
_TOTALLED += f" AND enrolment = {' + '.join(_STAGE_COLUMNS)}"


class School(IdMixin, Base):
    __tablename__ = "school"

    school_code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    school_type: Mapped[SchoolType] = mapped_column(enum_column(SchoolType, 30))
    ownership: Mapped[Ownership] = mapped_column(enum_column(Ownership, 10))
    division_code: Mapped[str] = mapped_column(String(6))
    address: Mapped[str] = mapped_column(String(300))
    # The total; when the stages are known (all five columns set) it is their sum.
    enrolment: Mapped[int] = mapped_column(default=0)
    pupils_kindergarten: Mapped[int | None]
    pupils_primary: Mapped[int | None]
    pupils_junior: Mapped[int | None]
    pupils_senior: Mapped[int | None]
    pupils_vocational: Mapped[int | None]
    # A teaching point (教学点), a small site rather than a complete school: balanced development leaves out
    # those under 50 pupils.
    teaching_point: Mapped[bool] = mapped_column(default=False, server_default=false())
    principal_name: Mapped[str | None] = mapped_column(String(50))
    # Personal data, sealed at rest (``dudao.encryption``).
    principal_phone_sealed: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("enrolment >= 0", name="enrolment_not_negative"),
        CheckConstraint(f"({_ALL_NULL}) OR ({_TOTALLED})", name="enrolment_is_stage_total"),
        CheckConstraint(
            "principal_phone_sealed IS NULL OR principal_name IS NOT NULL", name="principal_named"
        ),
        division_index("school"),
        Index("ix_school_updated_at", "updated_at", "id"),
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook

    @property
    def enrolment_by_stage(self) -> dict[Stage, int] | None:
        """Pupils per stage, or None where only the total is known."""
        counts = {s: getattr(self, _stage_column(s)) for s in Stage}
        if any(v is None for v in counts.values()):
            return None
        return counts

    @enrolment_by_stage.setter
    def enrolment_by_stage(self, counts: dict[Stage, int] | None) -> None:
        for stage in Stage:
            setattr(self, _stage_column(stage), None if counts is None else counts.get(stage, 0))
