"""API shapes of findings and rectifications."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dudao.evidence.schemas import EvidenceIds
from dudao.rectification.models import (
    DeadlineKind,
    OriginKind,
    RecheckResult,
    RectificationStatus,
    ReportDecision,
    Severity,
    UnitKind,
)
from dudao.schemas import DivisionCode, StrictModel, enum_field

Text = Annotated[str, Field(min_length=1, max_length=10_000)]
Short = Annotated[str, Field(min_length=1, max_length=200)]
Days = Annotated[int, Field(ge=1, le=366, description="Days to rectify, counted from today")]


class SupervisedUnit(StrictModel):
    id: str = Field(
        min_length=1, max_length=100, description="The unit's id: a school code, a government's id"
    )
    kind: UnitKind = enum_field()
    name: Short
    division_code: DivisionCode
    competent_department: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="主管部门, jointly liable when rectification fails",
    )


class DeadlineSpec(StrictModel):
    days: Days
    kind: DeadlineKind = enum_field(default=DeadlineKind.CALENDAR)


class FindingCreate(StrictModel):
    """A finding (问题) with its rectification requirement (整改要求)."""

    unit: SupervisedUnit
    origin_kind: OriginKind = enum_field()
    origin_ref: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The supervision, visit or evaluation that found it",
    )
    category: str = Field(
        min_length=1,
        max_length=60,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Kind of finding, e.g. safety, fees, curriculum; ladders may differ by it",
    )
    severity: Severity = enum_field()
    description: Text
    evidence_ids: EvidenceIds = Field(default_factory=list)
    requirement: Text
    deadline: DeadlineSpec


class ReportCreate(StrictModel):
    text: Text
    evidence_ids: EvidenceIds = Field(default_factory=list)


class Rejection(StrictModel):
    reasons: Text


class Reply(StrictModel):
    text: Text


class RecheckCreate(StrictModel):
    result: RecheckResult = enum_field()
    notes: Text
    deadline: DeadlineSpec | None = Field(default=None, description="Required when reopening")


class FindingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    origin_kind: OriginKind
    origin_ref: str | None
    category: str
    severity: Severity
    description: str
    evidence_ids: list[UUID]
    unit_id: str
    unit_kind: UnitKind
    unit_name: str
    competent_department: str | None
    division_code: str
    office_division: str
    raised_by: str
    raised_at: datetime


class ReportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    text: str
    evidence_ids: list[UUID]
    submitted_by: str
    submitted_at: datetime
    decision: ReportDecision | None
    decided_by: str | None
    decided_at: datetime | None
    rejection_reasons: str | None
    reply_due: date | None
    reply: str | None
    replied_at: datetime | None


class StepRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    case_id: UUID
    step_index: int
    step_kind: str
    reason: str
    document_number: str | None
    new_deadline: date | None
    taken_at: datetime


class RecheckRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    result: RecheckResult
    notes: str
    checked_by: str
    checked_at: datetime


class RectificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    finding_id: UUID
    requirement: str
    deadline_kind: DeadlineKind
    deadline_days: int
    started_on: date
    deadline: date
    provisional_deadline: bool
    status: RectificationStatus
    overdue: bool = Field(description="The current deadline has passed without an accepted report")
    escalation_level: int
    last_step_kind: str | None
    unit_id: str
    division_code: str
    office_division: str
    closed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class RectificationDetail(RectificationRead):
    finding: FindingRead
    reports: list[ReportRead]
    steps: list[StepRead]
    rechecks: list[RecheckRead]


class RectificationPage(BaseModel):
    items: list[RectificationRead]
    next_cursor: str | None
