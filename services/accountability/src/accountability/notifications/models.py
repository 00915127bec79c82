"""The inbox of every supervised unit and competent department: reminders, overdue facts and steps."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import cast
from uuid import UUID

from sqlalchemy import ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from accountability.db import SCHEMA, Base
from dudao.db import IdMixin, division_index, enum_column


class RecipientKind(StrEnum):
    UNIT = "unit"  # recipient_id is the unit's id
    COMPETENT_DEPARTMENT = "competent_department"  # recipient_id is the department's name


class Notification(IdMixin, Base):
    __tablename__ = "notification"

    recipient_id: Mapped[str] = mapped_column(String(200))
    recipient_kind: Mapped[RecipientKind] = mapped_column(enum_column(RecipientKind, 30))
    division_code: Mapped[str] = mapped_column(String(6))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    case_id: Mapped[UUID | None] = mapped_column(ForeignKey(f"{SCHEMA}.escalation_case.id"))
    step_id: Mapped[UUID | None] = mapped_column(ForeignKey(f"{SCHEMA}.escalation_step.id"))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    read_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        Index("ix_notification_recipient_id", "recipient_id", "id"),
        division_index("notification"),
    )


# The table, for the set-based writes of the unit of work.
NOTIFICATIONS = cast(Table, Notification.__table__)
