"""API shapes of notifications."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from accountability.notifications.models import RecipientKind


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    recipient_id: str
    recipient_kind: RecipientKind
    division_code: str
    title: str
    body: str
    case_id: UUID | None
    step_id: UUID | None
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationRead]
    next_cursor: str | None
