"""API shapes of the school roster."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class RosterSchoolRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    school_id: UUID
    school_code: str
    name: str
    school_type: str
    ownership: str
    division_code: str
    synced_at: datetime


class RosterPage(BaseModel):
    items: list[RosterSchoolRead]
    next_cursor: str | None
