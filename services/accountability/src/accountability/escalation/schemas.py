"""API shapes of ladders, cases and steps. Strict: ``false`` is not a number, ``"x"`` no enum member."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from accountability.documents.models import STEP_KINDS, DocumentKind
from accountability.documents.schemas import DocumentRead
from accountability.escalation.models import CaseStatus, FactOutcome, StepReason
from dudao.schemas import DivisionCode, StrictModel, Timestamp, enum_field

DeadlineDays = Annotated[int, Field(ge=1, le=365, description="Calendar days from the day of the step")]


def _a_step(kind: DocumentKind) -> DocumentKind:
    if kind not in STEP_KINDS:
        raise ValueError(f"{kind.value} is not a step; use one of {', '.join(sorted(STEP_KINDS))}")
    return kind


StepKind = Annotated[DocumentKind, AfterValidator(_a_step)]


class LadderStep(StrictModel):
    kind: StepKind = enum_field()
    new_deadline_days: DeadlineDays | None = None


class LadderCreate(StrictModel):
    """A new version of the ladder for a finding category and a division prefix (absent: any, anywhere)."""

    finding_category: str | None = Field(default=None, min_length=1, max_length=100)
    division_prefix: str | None = Field(
        default=None, pattern=r"^[1-9][0-9](?:[0-9]{2}){0,2}$", description="45, 4501 or 450102"
    )
    steps: list[LadderStep] = Field(min_length=1, max_length=12)

    @field_validator("steps")
    @classmethod
    def _decision_last(cls, steps: list[LadderStep]) -> list[LadderStep]:
        kinds = [s.kind for s in steps]
        if DocumentKind.ACCOUNTABILITY_DECISION in kinds[:-1]:
            raise ValueError("an accountability decision can only be the last step")
        if any(s.kind is DocumentKind.ACCOUNTABILITY_DECISION and s.new_deadline_days for s in steps):
            raise ValueError("an accountability decision is taken by a person: it has no automatic deadline")
        return steps


class LadderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    version: int
    finding_category: str | None
    division_prefix: str | None
    steps: list[LadderStep]
    created_at: datetime
    created_by: str
    active: bool


class LadderPage(BaseModel):
    items: list[LadderRead]
    next_cursor: str | None


class UnitRef(StrictModel):
    """The supervised unit a step is ordered against, when there is no case to take it from."""

    id: str = Field(min_length=1, max_length=64)
    kind: str = Field(min_length=1, max_length=30, description="e.g. school, county_government")
    name: str = Field(min_length=1, max_length=200)
    competent_department: str | None = Field(default=None, min_length=1, max_length=200)
    division_code: DivisionCode


class ManualStepCreate(StrictModel):
    """A step ordered by hand: on a case (``case_id``), or against a unit without a rectification."""

    kind: StepKind = enum_field()
    grounds: str = Field(min_length=1, max_length=2000, description="Why, e.g. 你单位拒不接受教育督导")
    case_id: UUID | None = Field(default=None, strict=False)
    unit: UnitRef | None = None
    new_deadline_days: DeadlineDays | None = None
    scheduled_at: Timestamp | None = Field(
        default=None, description="Interviews: default a week ahead, 09:00"
    )
    place: str | None = Field(default=None, min_length=1, max_length=300, description="Interviews")

    @model_validator(mode="after")
    def _consistent(self) -> ManualStepCreate:
        if (self.case_id is None) == (self.unit is None):
            raise ValueError("give either case_id or unit")
        if self.kind is DocumentKind.ACCOUNTABILITY_DECISION and self.new_deadline_days is not None:
            raise ValueError("new_deadline_days: an accountability decision has no automatic deadline")
        if self.kind is not DocumentKind.INTERVIEW and (self.scheduled_at or self.place):
            raise ValueError("scheduled_at and place belong to interviews only")
        return self


class StepRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    case_id: UUID | None
    index: int
    kind: DocumentKind
    reason: StepReason
    trigger_event_id: UUID | None
    new_deadline: date | None
    document_id: UUID
    document_number: str | None
    division_code: str
    grounds: str | None
    created_at: datetime
    created_by: str


class FactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    fact_id: UUID
    kind: str
    deadline: date
    outcome: FactOutcome
    occurred_at: datetime


class CaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    origin: str
    rectification_id: str
    finding_id: str
    category: str
    severity: str
    requirement: str | None
    unit_id: str
    unit_kind: str
    unit_name: str
    competent_department: str | None
    office_division: str
    division_code: str
    ladder_id: UUID
    ladder_version: int
    ladder_position: int
    step_count: int
    status: CaseStatus
    opened_at: datetime
    closed_at: datetime | None


class CaseDetail(CaseRead):
    steps: list[StepRead]
    facts: list[FactRead]
    documents: list[DocumentRead]


class CasePage(BaseModel):
    items: list[CaseRead]
    next_cursor: str | None
