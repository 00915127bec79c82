"""Special supervision topics (专项督导) with their checklists as data, and emergency supervisions of major
incidents (重大教育突发事件) with their first report's deadline."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ARRAY, CheckConstraint, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dudao.db import IdMixin, division_index
from governance.db import Base


class SpecialTopic(IdMixin, Base):
    """A topic of special supervision. Seeded topics (the hot topics of 二(三)) have no division and serve
    every office; an office's own topic serves it and the offices below it."""

    __tablename__ = "special_topic"

    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    # [{"code": "W1", "text": "…"}]: the checklist a special supervision on the topic opens with.
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    division_code: Mapped[str | None] = mapped_column(String(6))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("division_code", "code", postgresql_nulls_not_distinct=True),
        division_index("special_topic"),
        Index("ix_special_topic_updated_at", "updated_at", "id"),
    )


class EmergencySupervision(IdMixin, Base):
    """The emergency supervision of an incident: the supervision (kind emergency) and its first report,
    due ``report_due_at``; ``overdue_noticed_at`` marks the one overdue fact."""

    __tablename__ = "emergency_supervision"

    supervision_id: Mapped[UUID] = mapped_column(Uuid(), unique=True)
    division_code: Mapped[str] = mapped_column(String(6))  # where the incident happened
    office_division: Mapped[str] = mapped_column(String(6))
    incident: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime]
    opened_at: Mapped[datetime]
    report_due_at: Mapped[datetime]
    first_report: Mapped[str | None] = mapped_column(Text)
    first_report_evidence_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid()))
    first_reported_by: Mapped[str | None] = mapped_column(String(200))
    first_reported_at: Mapped[datetime | None]
    overdue_noticed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(
            "(first_report IS NULL) = (first_reported_at IS NULL)", name="first_report_with_time"
        ),
        CheckConstraint("report_due_at > opened_at", name="report_due_after_opening"),
        division_index("emergency_supervision"),
        Index("ix_emergency_supervision_updated_at", "updated_at", "id"),
        # The scheduler's claim: reports still due whose lateness has not been noticed.
        Index(
            "ix_emergency_supervision_report_due_at",
            "report_due_at",
            postgresql_where="first_reported_at IS NULL AND overdue_noticed_at IS NULL",
        ),
    )
