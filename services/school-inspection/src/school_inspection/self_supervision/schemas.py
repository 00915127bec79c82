"""API shapes of self-supervision reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from dudao.schemas import StrictModel, enum_field
from school_inspection.visit.models import RoutineItem

SEMESTER_PATTERN = r"^20[0-9]{2}-(spring|autumn)$"
Semester = Annotated[str, Field(pattern=SEMESTER_PATTERN, description="e.g. 2026-autumn (秋季学期)")]


class ItemAssessment(StrictModel):
    item: RoutineItem = enum_field(description="One of the eight routine supervision items")
    score: int = Field(ge=0, le=100, description="The school's own score, 0–100")
    notes: str | None = Field(default=None, min_length=1, max_length=2_000)


def _one_per_item(items: list[ItemAssessment]) -> list[ItemAssessment]:
    if len({i.item for i in items}) != len(items):
        raise ValueError("an item is assessed twice")
    return items


class ReportCreate(StrictModel):
    semester: Semester
    items: Annotated[
        list[ItemAssessment], Field(min_length=1, max_length=len(RoutineItem)), AfterValidator(_one_per_item)
    ]
    summary: str = Field(min_length=1, max_length=20_000, description="The self-supervision report itself")


class ItemAssessmentRead(BaseModel):
    item: RoutineItem
    score: int
    notes: str | None


class ReportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    school_id: UUID
    school_code: str
    division_code: str
    semester: str
    items: list[ItemAssessmentRead]
    summary: str
    submitted_by: str
    submitted_at: datetime


class ReportPage(BaseModel):
    items: list[ReportRead]
    next_cursor: str | None
