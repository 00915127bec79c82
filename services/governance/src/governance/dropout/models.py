"""Dropout control (控辍保学): the county's register of pupils who dropped out or are at risk, the measures
taken, the counties' enrolment and targets, and the assessments of counties against them.

A pupil's name and ID number are minors' personal data: sealed at rest (``dudao.encryption``), the ID
number found through its blind index only.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dudao.db import IdMixin, division_index, enum_column
from governance.db import Base


class DropoutStatus(StrEnum):
    AT_RISK = "at_risk"  # 有辍学风险
    DROPPED_OUT = "dropped_out"  # 辍学
    RETURNED = "returned"  # 复学


class DropoutReason(StrEnum):
    LEARNING_DIFFICULTY = "learning_difficulty"  # 厌学、学习困难
    FAMILY_HARDSHIP = "family_hardship"  # 家庭经济困难
    ILLNESS_OR_DISABILITY = "illness_or_disability"  # 疾病、残疾
    MIGRANT_WORK = "migrant_work"  # 外出务工
    EARLY_MARRIAGE = "early_marriage"  # 早婚早育
    DISTANCE = "distance"  # 上学路远
    OTHER = "other"


class MeasureKind(StrEnum):
    HOME_VISIT = "home_visit"  # 家访劝返
    FINANCIAL_AID = "financial_aid"  # 资助
    HOME_TEACHING = "home_teaching"  # 送教上门
    COUNSELLING = "counselling"  # 心理辅导、学业帮扶
    LEGAL_NOTICE = "legal_notice"  # 依法督促送学
    OTHER = "other"


class DropoutPupil(IdMixin, Base):
    __tablename__ = "dropout_pupil"

    division_code: Mapped[str] = mapped_column(String(6))  # the county that keeps the record
    name_sealed: Mapped[str] = mapped_column(Text)
    id_number_sealed: Mapped[str] = mapped_column(Text)
    id_number_index: Mapped[str] = mapped_column(String(64))
    school_name: Mapped[str] = mapped_column(String(200))
    grade: Mapped[int] = mapped_column(SmallInteger)  # 1–6 primary, 7–9 junior secondary
    reason: Mapped[DropoutReason] = mapped_column(enum_column(DropoutReason, 30))
    status: Mapped[DropoutStatus] = mapped_column(enum_column(DropoutStatus, 20))
    left_on: Mapped[date | None]
    returned_on: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    measures: Mapped[list[DropoutMeasure]] = relationship(
        lazy="raise", order_by="DropoutMeasure.taken_on, DropoutMeasure.id"
    )

    __table_args__ = (
        UniqueConstraint("division_code", "id_number_index"),
        CheckConstraint("grade BETWEEN 1 AND 9", name="grade_compulsory"),
        CheckConstraint("status = 'at_risk' OR left_on IS NOT NULL", name="left_on_known"),
        CheckConstraint("(status = 'returned') = (returned_on IS NOT NULL)", name="returned_on_iff_returned"),
        division_index("dropout_pupil"),
        Index("ix_dropout_pupil_updated_at", "updated_at", "id"),
    )


class DropoutMeasure(IdMixin, Base):
    """A measure taken to keep a pupil in school or bring them back (劝返)."""

    __tablename__ = "dropout_measure"

    pupil_id: Mapped[UUID] = mapped_column(ForeignKey("dropout_pupil.id"), index=True)
    division_code: Mapped[str] = mapped_column(String(6))
    kind: Mapped[MeasureKind] = mapped_column(enum_column(MeasureKind, 20))
    description: Mapped[str] = mapped_column(Text)
    taken_on: Mapped[date]
    taken_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class DropoutTarget(IdMixin, Base):
    """A county's compulsory-education enrolment and dropout-rate target for a year."""

    __tablename__ = "dropout_target"

    division_code: Mapped[str] = mapped_column(String(6))
    year: Mapped[int]
    enrolled_pupils: Mapped[int]
    target_permille: Mapped[float | None]  # None: the deployment's default target
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("division_code", "year"),
        CheckConstraint("enrolled_pupils > 0", name="enrolled_pupils_positive"),
        CheckConstraint("target_permille IS NULL OR target_permille >= 0", name="target_not_negative"),
        division_index("dropout_target"),
        Index("ix_dropout_target_updated_at", "updated_at", "id"),
    )


class DropoutAssessment(IdMixin, Base):
    """A county assessed against its target for a year: once, and a finding when it is behind."""

    __tablename__ = "dropout_assessment"

    division_code: Mapped[str] = mapped_column(String(6))
    year: Mapped[int]
    enrolled_pupils: Mapped[int]
    dropped_out: Mapped[int]
    rate_permille: Mapped[float]
    target_permille: Mapped[float]
    behind: Mapped[bool]
    rectification_id: Mapped[UUID | None]
    assessed_by: Mapped[str] = mapped_column(String(200))
    assessed_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("division_code", "year"), division_index("dropout_assessment"))
