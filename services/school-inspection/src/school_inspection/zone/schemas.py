"""API shapes of inspection zones and coverage reports."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dudao.schemas import DivisionCode, StrictModel, Uuid
from school_inspection.school.schemas import SchoolRead


class ZoneCreate(StrictModel):
    division_code: DivisionCode = Field(description="The county the zone lies in")
    name: str = Field(min_length=1, max_length=100)


class ZoneSchoolAdd(StrictModel):
    school_id: Uuid


class Orm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ZoneRead(Orm):
    id: UUID
    division_code: str
    name: str
    version: int
    created_at: datetime
    updated_at: datetime


class ZoneDetail(ZoneRead):
    schools: int = Field(description="Schools in the zone")
    max_schools: int = Field(description="The most the policy allows")


class ZonePage(BaseModel):
    items: list[ZoneRead]
    next_cursor: str | None


class SchoolPage(BaseModel):
    items: list[SchoolRead]
    next_cursor: str | None


class OverloadedInspector(Orm):
    id: UUID
    name: str
    division_code: str
    schools: int = Field(description="Schools the inspector is responsible for today")
    max_schools: int
    holds_dedicated_school: bool = Field(description="One of them needs an inspector of its own (1:1)")


class UntrainedInspector(Orm):
    id: UUID
    name: str
    division_code: str
    pre_service: bool = Field(description="Pre-service training (岗前培训) is on record")
    hours_this_year: int = Field(description="Collective training class hours this year")
    hours_required: int


class OversizedZone(Orm):
    id: UUID
    name: str
    division_code: str
    schools: int
    max_schools: int


class UncoveredSchools(BaseModel):
    total: int
    items: list[SchoolRead]
    next_cursor: str | None


class OverloadedInspectors(BaseModel):
    total: int
    items: list[OverloadedInspector]
    next_cursor: str | None


class UntrainedInspectors(BaseModel):
    total: int
    items: list[UntrainedInspector]
    next_cursor: str | None


class OversizedZones(BaseModel):
    total: int
    items: list[OversizedZone]
    next_cursor: str | None


class CoverageReport(BaseModel):
    """Where a division falls short of listed supervision (挂牌督导全覆盖). Each section carries its total
    and its first page; page on through ``/v1/coverage/<section>``."""

    division: str
    as_of: date
    schools: int
    schools_covered: int
    uncovered_schools: UncoveredSchools
    overloaded_inspectors: OverloadedInspectors
    untrained_inspectors: UntrainedInspectors
    oversized_zones: OversizedZones
