"""Duty evaluation of governments (履行教育职责评价): schemes, annual rounds, the evaluation of each unit and
its per-item scores."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dudao.db import IdMixin, division_index, enum_column
from dudao.rectification.models import UnitKind
from governance.db import Base

# Points and scores to two decimals, read as floats (the events carry floats).
Points = Numeric(6, 2, asdecimal=False)


class Grade(StrEnum):
    """The grade bands (等次); a scheme sets the lowest score of each but the last."""

    EXCELLENT = "excellent"  # 优秀
    GOOD = "good"  # 良好
    PASS = "pass"  # noqa: S105 - 合格, a grade and not a password
    FAIL = "fail"  # 不合格


class ScoringMethod(StrEnum):
    PROPORTIONAL = "proportional"  # any points up to the maximum, in steps of ``step``
    ALL_OR_NOTHING = "all_or_nothing"  # the maximum or nothing
    DEDUCTION = "deduction"  # the maximum less ``per_issue`` for each issue found, never below 0


class ItemKind(StrEnum):
    INDICATOR = "indicator"  # 评价指标
    ANNUAL_TARGET = "annual_target"  # 年度目标任务: missing one is a trigger of accountability


class RoundStatus(StrEnum):
    OPEN = "open"
    PUBLISHED = "published"


class EvaluationStatus(StrEnum):
    """awaiting_self_evaluation → self_evaluated → under_review (the supervision procedure) → scored →
    concluded → published (with its round)."""

    AWAITING_SELF_EVALUATION = "awaiting_self_evaluation"
    SELF_EVALUATED = "self_evaluated"
    UNDER_REVIEW = "under_review"
    SCORED = "scored"
    CONCLUDED = "concluded"
    PUBLISHED = "published"


class EvaluationScheme(IdMixin, Base):
    """One edition of a scheme (评价方案), immutable once recorded: a revision is the next edition, so a
    round keeps the edition it was run on. ``areas`` and ``grade_bands`` hold the data as
    ``schemas.SchemeContent`` validates it."""

    __tablename__ = "evaluation_scheme"

    key: Mapped[str] = mapped_column(String(60))
    edition: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    # The office that defined it; it and the offices below it may run rounds on it.
    office_division: Mapped[str] = mapped_column(String(6))
    areas: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    grade_bands: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    max_score: Mapped[float] = mapped_column(Points)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("key", "edition"),
        CheckConstraint("edition > 0", name="edition_positive"),
        CheckConstraint("max_score > 0", name="max_score_positive"),
    )


class EvaluationRound(IdMixin, Base):
    """An office's annual round: the units one level below it and its own level's departments."""

    __tablename__ = "evaluation_round"

    office_division: Mapped[str] = mapped_column(String(6))
    year: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    scheme_id: Mapped[UUID] = mapped_column(ForeignKey(EvaluationScheme.id))
    self_evaluation_due: Mapped[date]
    status: Mapped[RoundStatus] = mapped_column(enum_column(RoundStatus, 20))
    published_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)

    scheme: Mapped[EvaluationScheme] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("office_division", "year"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_in_range"),
        CheckConstraint("(status = 'published') = (published_at IS NOT NULL)", name="published_when_dated"),
        Index(
            "ix_evaluation_round_office_division",
            "office_division",
            postgresql_ops={"office_division": "text_pattern_ops"},
        ),
        Index("ix_evaluation_round_updated_at", "updated_at", "id"),
    )


class DutyEvaluation(IdMixin, Base):
    """The evaluation of one government or department in a round. ``division_code`` is the unit's."""

    __tablename__ = "duty_evaluation"

    round_id: Mapped[UUID] = mapped_column(ForeignKey(EvaluationRound.id))
    year: Mapped[int]
    office_division: Mapped[str] = mapped_column(String(6))
    unit_id: Mapped[str] = mapped_column(String(100))
    unit_kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, 20))
    unit_name: Mapped[str] = mapped_column(String(200))
    competent_department: Mapped[str | None] = mapped_column(String(200))
    division_code: Mapped[str] = mapped_column(String(6))
    status: Mapped[EvaluationStatus] = mapped_column(enum_column(EvaluationStatus, 30))
    # The supervision (督导) that reviews it; its opinion raises the findings.
    supervision_id: Mapped[UUID | None]
    self_score: Mapped[float | None] = mapped_column(Points)
    score: Mapped[float | None] = mapped_column(Points)
    grade: Mapped[Grade | None] = mapped_column(enum_column(Grade, 10))
    targets_missed: Mapped[list[str]] = mapped_column(ARRAY(String(200)))
    feedback: Mapped[str | None] = mapped_column(Text)
    self_evaluated_at: Mapped[datetime | None]
    scored_at: Mapped[datetime | None]
    concluded_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)

    round: Mapped[EvaluationRound] = relationship(lazy="raise")
    items: Mapped[list[DutyEvaluationItem]] = relationship(
        lazy="raise", order_by="DutyEvaluationItem.position"
    )

    __table_args__ = (
        UniqueConstraint("round_id", "unit_id"),
        CheckConstraint("unit_kind IN ('government', 'department')", name="unit_not_a_school"),
        CheckConstraint(
            "status NOT IN ('scored', 'concluded', 'published') OR (score IS NOT NULL AND grade IS NOT NULL)",
            name="scored_has_grade",
        ),
        division_index("duty_evaluation"),
        Index("ix_duty_evaluation_round_id", "round_id"),
        Index("ix_duty_evaluation_updated_at", "updated_at", "id"),
    )


class DutyEvaluationItem(Base):
    """One item of the scheme for one evaluation: the unit's self-assessment with its evidence, and the
    office's points. ``issues`` is what a deduction item was scored by."""

    __tablename__ = "duty_evaluation_item"

    evaluation_id: Mapped[UUID] = mapped_column(ForeignKey(DutyEvaluation.id), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(30), primary_key=True)
    position: Mapped[int]
    self_points: Mapped[float | None] = mapped_column(Points)
    self_issues: Mapped[int | None]
    self_notes: Mapped[str | None] = mapped_column(Text)
    evidence_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid()))
    points: Mapped[float | None] = mapped_column(Points)
    issues: Mapped[int | None]
    review_notes: Mapped[str | None] = mapped_column(Text)
