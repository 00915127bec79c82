"""API shapes of comprehensive supervision cycles and their coverage."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dudao.schemas import DivisionCode, StrictModel
from school_inspection.cycle.models import CoverageStatus


class CyclePlan(StrictModel):
    division_code: DivisionCode = Field(description="A county: counties supervise each school")
    start_year: int = Field(ge=2000, le=2100)


class YearPlan(BaseModel):
    year: int
    planned: int


class CycleSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    division_code: str
    start_year: int
    end_year: int
    years: int
    created_by: str
    created_at: datetime


class CycleRead(CycleSummary):
    plan: list[YearPlan] = Field(description="Schools planned per year")


class CyclePage(BaseModel):
    items: list[CycleSummary]
    next_cursor: str | None


class SchoolCoverage(BaseModel):
    school_id: UUID
    school_code: str
    name: str
    status: CoverageStatus
    visit_id: UUID | None = Field(description="The comprehensive visit that counts, if any")
    visited_on: date | None


class YearCoverage(BaseModel):
    year: int
    planned: int
    counts: dict[CoverageStatus, int]
    schools: list[SchoolCoverage] = Field(description="By school code")


class CoverageRead(BaseModel):
    cycle_id: UUID
    division_code: str
    start_year: int
    end_year: int
    as_of: date
    counts: dict[CoverageStatus, int]
    years: list[YearCoverage]
    unplanned_school_ids: list[UUID] = Field(description="Schools of the county registered after planning")
