"""API shapes of balanced development. A verdict reads as it was computed: every school's stages with the
seven indicators in the order of ``resources`` (each with its standards per stage), every indicator's CV
per stage with its limit, and every criterion."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dudao.calendar.schemas import Year
from dudao.schemas import DivisionCode, StrictModel, enum_field
from monitoring.balance.compute import Status
from monitoring.indicator.models import UnitKind

SystemKey = Annotated[str, Field(min_length=1, max_length=60, description="The indicator system's key")]
ElementCode = Annotated[str, Field(min_length=1, max_length=60)]


class EvaluationRequest(StrictModel):
    year: Year
    division_code: DivisionCode = Field(description="A county, or a city or the region: each county under it")
    system_key: SystemKey = "balanced-2017"
    edition: int | None = Field(default=None, ge=1, description="Left out: the system's latest edition")


class ValueChange(StrictModel):
    unit_kind: UnitKind = enum_field()
    unit_id: str = Field(min_length=1, max_length=64, description="A school's id, or the county's code")
    element_code: ElementCode
    value: float = Field(allow_inf_nan=False)


class WhatIfRequest(StrictModel):
    year: Year
    system_key: SystemKey = "balanced-2017"
    edition: int | None = Field(default=None, ge=1)
    changes: list[ValueChange] = Field(max_length=10_000, description="Values as they would be instead")


class ResourceRead(BaseModel):
    code: str
    base: str
    factor: float
    standards: dict[str, float]  # by stage


class StageRead(BaseModel):
    stage: str
    pupils: float
    values: list[float | None]
    ratios: list[float | None]  # value / standard
    indicators_met: int
    status: Status


class SchoolRead(BaseModel):
    school_id: str
    name: str
    school_type: str
    teaching_point: bool
    excluded: str | None
    stages: list[StageRead]


class DispersionRead(BaseModel):
    stage: str
    resource: str
    schools: int
    pupils: float
    mean: float | None
    deviation: float | None
    cv: float | None
    limit: float
    status: Status


class CriterionRead(BaseModel):
    code: str
    group: str
    status: Status
    detail: str


class Figures(BaseModel):
    resources: list[ResourceRead]
    thresholds: dict[str, float]
    schools: list[SchoolRead]
    dispersion: list[DispersionRead]
    criteria: list[CriterionRead]


class WhatIfRead(BaseModel):
    """The verdict the changed values would give; nothing was written."""

    division_code: str
    year: int
    status: Status
    failed: list[str]
    figures: Figures


class VerdictSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    system_id: UUID
    division_code: str
    year: int
    status: Status
    failed: list[str]
    version: int
    updated_at: datetime


class VerdictRead(VerdictSummary):
    figures: Figures
    computed_by: str
    created_at: datetime


class VerdictPage(BaseModel):
    items: list[VerdictSummary]
    next_cursor: str | None


class Evaluated(BaseModel):
    """The verdicts an evaluation gave, and how many findings it raised (a criterion failed again raises
    none: its finding is open already)."""

    verdicts: list[VerdictSummary]
    findings_raised: int
