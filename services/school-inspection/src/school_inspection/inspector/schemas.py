"""API shapes of inspectors, their ledgers, assignments and the inspection policy."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dudao.calendar.schemas import IsoDate
from dudao.schemas import DivisionCode, StrictModel, Uuid, enum_field
from school_inspection.inspector.models import (
    AppointmentStep,
    ConflictKind,
    Degree,
    Employment,
    InspectorStatus,
    Rating,
    TrainingKind,
)

Name = Annotated[str, Field(min_length=1, max_length=100)]
Actor = Annotated[str, Field(min_length=1, max_length=200, description="The person or body that acted")]
Note = Annotated[str, Field(min_length=1, max_length=5000)]
Phone = Annotated[str, Field(pattern=r"^\+?[0-9][0-9 ()-]{4,38}$", description="Public contact number")]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200)]
PhotoUrl = Annotated[str, Field(pattern=r"^https?://\S+$", max_length=500, description="Shown on the plate")]
WorkYears = Annotated[int, Field(ge=0, le=60, description="Years in education work")]
DocumentNumber = Annotated[str, Field(min_length=1, max_length=100, description="文号")]


class StepInput(StrictModel):
    date: IsoDate = Field(description="When the step was taken (not in the future)")
    acted_by: Actor
    document_number: DocumentNumber | None = None
    note: Note | None = None


class InspectorCreate(StrictModel):
    """A recommendation (推荐): the first appointment step."""

    division_code: DivisionCode = Field(description="The office that appoints")
    name: Name
    employment: Employment = enum_field()
    degree: Degree = enum_field()
    education_work_years: WorkYears
    contact_phone: Phone
    contact_email: Email | None = None
    photo_url: PhotoUrl | None = None
    recommendation: StepInput


class InspectorUpdate(StrictModel):
    name: Name | None = None
    degree: Degree | None = enum_field(default=None)
    education_work_years: WorkYears | None = None
    contact_phone: Phone | None = None
    contact_email: Email | None = None
    photo_url: PhotoUrl | None = None


class StepCreate(StepInput):
    step: AppointmentStep = enum_field()


class TermRenewal(StrictModel):
    starts_on: IsoDate | None = Field(
        default=None, description="Defaults to the day after the last term ends (a consecutive term)"
    )


class TrainingCreate(StrictModel):
    kind: TrainingKind = enum_field()
    title: Annotated[str, Field(min_length=1, max_length=200)]
    provider: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    held_on: IsoDate
    class_hours: int = Field(ge=1, le=500)


class ConflictCreate(StrictModel):
    school_id: Uuid
    kind: ConflictKind = enum_field()
    description: Note


class ReviewCreate(StrictModel):
    year: int = Field(ge=2000, le=2100)
    rating: Rating = enum_field()
    reviewed_on: IsoDate
    comments: Note | None = None


class AssignmentCreate(StrictModel):
    inspector_id: Uuid
    school_id: Uuid
    starts_on: IsoDate | None = Field(default=None, description="Defaults to today")
    ends_on: IsoDate | None = None


class AssignmentEnd(StrictModel):
    ends_on: IsoDate | None = Field(default=None, description="The last day served; defaults to today")


class Thresholds(BaseModel):
    """Every threshold of the inspection rules for a jurisdiction."""

    part_time_term_years: int = Field(ge=1, le=10)
    max_consecutive_terms: int = Field(ge=1, le=10)
    annual_training_hours: int = Field(ge=0, le=1000, description="Collective training class hours a year")
    max_schools_per_inspector: int = Field(ge=1, le=100, description="The ratio, 1:N")
    dedicated_enrolment_threshold: int = Field(
        ge=1, le=1_000_000, description="A school with more pupils needs its own inspector (1:1)"
    )
    max_schools_per_zone: int = Field(ge=1, le=1000)
    min_degree: Degree = enum_field()
    min_education_years: int = Field(ge=0, le=60)


class PolicyWrite(StrictModel, Thresholds):
    pass


class Orm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PolicyRead(Thresholds, Orm):
    division_prefix: str = Field(description="The jurisdiction it applies to; empty: everywhere")
    version: int
    updated_by: str
    updated_at: datetime


class PolicyPage(BaseModel):
    items: list[PolicyRead]
    next_cursor: str | None


class StepRead(Orm):
    step: AppointmentStep
    step_date: date
    acted_by: str
    document_number: str | None
    note: str | None
    recorded_by: str
    recorded_at: datetime


class TermRead(Orm):
    sequence: int
    starts_on: date
    ends_on: date


class InspectorRead(Orm):
    id: UUID
    division_code: str
    name: str
    employment: Employment
    degree: Degree
    education_work_years: int
    contact_phone: str
    contact_email: str | None
    contacts_masked: bool = Field(description="The contacts are masked: only offices see them in full")
    photo_url: str | None
    status: InspectorStatus
    appointed_on: date | None
    ended_on: date | None
    end_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class InspectorDetail(InspectorRead):
    steps: list[StepRead]
    terms: list[TermRead]


class InspectorPage(BaseModel):
    items: list[InspectorRead]
    next_cursor: str | None


class TrainingRead(Orm):
    id: UUID
    inspector_id: UUID
    kind: TrainingKind
    title: str
    provider: str | None
    held_on: date
    class_hours: int
    recorded_by: str
    recorded_at: datetime


class TrainingPage(BaseModel):
    items: list[TrainingRead]
    next_cursor: str | None


class ConflictRead(Orm):
    id: UUID
    inspector_id: UUID
    school_id: UUID
    kind: ConflictKind
    description: str
    recorded_by: str
    recorded_at: datetime


class ConflictPage(BaseModel):
    items: list[ConflictRead]
    next_cursor: str | None


class ReviewRead(Orm):
    id: UUID
    inspector_id: UUID
    year: int
    rating: Rating
    comments: str | None
    reviewed_on: date
    recorded_by: str
    recorded_at: datetime


class ReviewPage(BaseModel):
    items: list[ReviewRead]
    next_cursor: str | None


class AssignmentRead(Orm):
    id: UUID
    inspector_id: UUID
    school_id: UUID
    division_code: str
    starts_on: date
    ends_on: date | None
    end_reason: str | None
    recorded_by: str
    version: int
    created_at: datetime
    updated_at: datetime


class AssignmentPage(BaseModel):
    items: list[AssignmentRead]
    next_cursor: str | None
