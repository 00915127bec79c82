"""Principal term evaluations (校长任期履职评价)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dudao.db import IdMixin, enum_column
from school_inspection.db import Base
from school_inspection.school.models import School


class Grade(StrEnum):
    EXCELLENT = "excellent"  # 优秀
    GOOD = "good"  # 良好
    PASS = "pass"  # 合格  # noqa: S105 - a grade, not a password
    FAIL = "fail"  # 不合格: a finding to rectify


class PrincipalEvaluation(IdMixin, Base):
    __tablename__ = "principal_evaluation"

    school_id: Mapped[UUID] = mapped_column(ForeignKey(School.id))
    division_code: Mapped[str] = mapped_column(String(6))  # the school's
    principal_name: Mapped[str] = mapped_column(String(50))
    term_start: Mapped[date]
    term_end: Mapped[date]
    evaluator: Mapped[str] = mapped_column(String(200))
    scores: Mapped[dict[str, int]] = mapped_column(JSONB)  # dimension → 0..100
    grade: Mapped[Grade] = mapped_column(enum_column(Grade, 10))
    comments: Mapped[str | None] = mapped_column(Text)
    rectification_id: Mapped[UUID | None]  # the finding a failing grade raised
    evaluated_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("term_end > term_start", name="term_ends_after_start"),
        Index("ix_principal_evaluation_school_id", "school_id", "id"),
    )
