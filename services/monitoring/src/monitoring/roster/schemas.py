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
    enrolment: int | None  # None: known only from an event that did not carry it
    pupils_primary: int | None
    pupils_junior: int | None
    pupils_senior: int | None
    teaching_point: bool
    synced_at: datetime


class RosterPage(BaseModel):
    items: list[RosterSchoolRead]
    next_cursor: str | None
