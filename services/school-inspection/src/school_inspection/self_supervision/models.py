"""School self-supervision reports (学校自我督导): one per school per semester."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dudao.db import IdMixin
from school_inspection.db import Base
from school_inspection.school.models import School


class SelfSupervisionReport(IdMixin, Base):
    __tablename__ = "self_supervision_report"

    school_id: Mapped[UUID] = mapped_column(ForeignKey(School.id))
    school_code: Mapped[str] = mapped_column(String(10))
    division_code: Mapped[str] = mapped_column(String(6))  # the school's
    semester: Mapped[str] = mapped_column(String(11))  # 2026-autumn
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)  # [{item, score, notes}]
    summary: Mapped[str] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("school_id", "semester"),
        Index(
            "ix_self_supervision_report_division_code",
            "division_code",
            "semester",
            postgresql_ops={"division_code": "text_pattern_ops"},
        ),
    )
