"""API shapes of the supervision procedure."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dudao.calendar.schemas import IsoDate
from dudao.evidence.schemas import EvidenceIds
from dudao.rectification.models import Severity, UnitKind
from dudao.rectification.schemas import DeadlineSpec
from dudao.schemas import StrictModel, Uuid, enum_field
from dudao.supervision.models import (
    FeedbackMode,
    HeardGroup,
    SupervisionKind,
    SupervisionStatus,
    TeamRole,
)

Text = Annotated[str, Field(min_length=1, max_length=20_000)]
Short = Annotated[str, Field(min_length=1, max_length=200)]
UnitId = Annotated[str, Field(min_length=1, max_length=100)]
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class ChecklistItem(StrictModel):
    code: Code
    text: Short


class SupervisionCreate(StrictModel):
    """A supervision (督导) of one or more units, with its plan and checklist."""

    kind: SupervisionKind = enum_field()
    title: Short
    topic: str | None = Field(
        default=None, min_length=1, max_length=100, description="A special supervision's topic"
    )
    unit_ids: list[UnitId] = Field(min_length=1, max_length=200)
    plan: Text
    checklist: list[ChecklistItem] = Field(min_length=1, max_length=500)
    starts_on: IsoDate = Field(description="First day of the on-site work")
    ends_on: IsoDate


class SupervisionUpdate(StrictModel):
    """Changes to a supervision that is still planned (If-Match)."""

    title: Short | None = None
    plan: Text | None = None
    checklist: list[ChecklistItem] | None = Field(default=None, min_length=1, max_length=500)
    starts_on: IsoDate | None = None
    ends_on: IsoDate | None = None


class NoticeCreate(StrictModel):
    """The written notice (督导通知) to the units, ahead of the on-site work."""

    text: Text


class TeamMemberIn(StrictModel):
    inspector_id: Uuid
    role: TeamRole = enum_field(default=TeamRole.MEMBER)


class TeamSet(StrictModel):
    members: list[TeamMemberIn] = Field(min_length=1, max_length=50)


class SelfEvaluationCreate(StrictModel):
    text: Text
    evidence_ids: EvidenceIds = Field(default_factory=list)


class RecusalCreate(StrictModel):
    """A tie of an inspector to a unit of the supervision that makes them recuse (回避, RULES.md §4): a near
    relative of the unit's head, or any other conflict of interest."""

    inspector_id: Uuid
    unit_id: UnitId
    kind: Literal["near_relative", "other_conflict"]
    reason: Text


class HearingCreate(StrictModel):
    """Who was heard, as a group and a count, and what they said: no names (pupils are minors)."""

    unit_id: UnitId
    heard_group: HeardGroup = enum_field()
    heard_count: int = Field(ge=1, le=100_000)
    heard_on: IsoDate
    summary: Text


class OpinionItem(StrictModel):
    """A problem found, fed back item by item (逐项反馈)."""

    unit_id: UnitId
    checklist_code: Code | None = None
    text: Text


class PreliminaryOpinionCreate(StrictModel):
    text: Text
    items: list[OpinionItem] = Field(min_length=1, max_length=500)


Invitee = Literal["discipline_inspection", "organisation_department", "performance_office", "other"]
REQUIRED_INVITEES: frozenset[str] = frozenset(
    {"discipline_inspection", "organisation_department", "performance_office"}
)


class Attendee(StrictModel):
    body: Invitee = Field(
        description="纪检监察机关, 党委组织部, 绩效办 are invited to every feedback meeting"
    )
    name: Short
    post: Short
    attended: bool


class FeedbackCreate(StrictModel):
    """Feedback (反馈, 二八) by meeting (with the invitees' attendance) or by written notice."""

    mode: FeedbackMode = enum_field()
    text: Text
    attendance: list[Attendee] = Field(default_factory=list, max_length=100)


class ReplyCreate(StrictModel):
    """The unit's reply (申辩) to the feedback."""

    text: Text


class RequirementCreate(StrictModel):
    """A rectification requirement of the opinion: it becomes a finding of the rectification loop."""

    unit_id: UnitId
    category: str = Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")
    severity: Severity = enum_field()
    description: Text
    requirement: Text
    deadline: DeadlineSpec


class OpinionCreate(StrictModel):
    """The supervision opinion (督导意见书)."""

    text: Text
    requirements: list[RequirementCreate] = Field(default_factory=list, max_length=500)


class ReportDraft(StrictModel):
    """The supervision report (督导报告); its title and text are what the public will read."""

    title: Short
    text: Text


# --- reads -------------------------------------------------------------------------------------------


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class UnitRead(_Read):
    unit_id: str
    unit_kind: UnitKind
    unit_name: str
    competent_department: str | None
    division_code: str
    self_evaluation: str | None
    self_evaluation_evidence_ids: list[UUID]
    self_evaluated_at: datetime | None
    reply: str | None
    replied_at: datetime | None


class TeamMemberRead(_Read):
    inspector_id: UUID
    name: str
    role: TeamRole


class HearingRead(_Read):
    id: UUID
    unit_id: str
    heard_group: HeardGroup
    heard_count: int
    heard_on: date
    summary: str
    recorded_by: str
    recorded_at: datetime


class SupervisionRead(_Read):
    id: UUID
    kind: SupervisionKind
    title: str
    topic: str | None
    ref: str | None
    status: SupervisionStatus
    office_division: str
    division_code: str
    starts_on: date
    ends_on: date
    notified_on: date | None
    on_site_on: date | None
    feedback_mode: FeedbackMode | None
    feedback_on: date | None
    reply_due: date | None
    opinion_number: str | None
    opinion_issued_on: date | None
    published_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class SupervisionDetail(SupervisionRead):
    plan: str
    checklist: list[ChecklistItem]
    notice_text: str | None
    preliminary_opinion: str | None
    preliminary_items: list[OpinionItem]
    feedback_text: str | None
    feedback_attendance: list[Attendee]
    opinion_text: str | None
    report_title: str | None
    report_text: str | None
    report_approved_by: str | None
    report_approved_at: datetime | None
    units: list[UnitRead]
    team: list[TeamMemberRead]
    hearings: list[HearingRead]


class SupervisionPage(BaseModel):
    items: list[SupervisionRead]
    next_cursor: str | None


class PublicReport(BaseModel):
    """A published supervision report as the public reads it: no names of people, no internal notes."""

    id: UUID
    kind: SupervisionKind
    title: str
    report_title: str
    report_text: str
    office_division: str
    division_code: str
    unit_names: list[str]
    opinion_number: str | None
    published_at: datetime


class PublicReportPage(BaseModel):
    items: list[PublicReport]
    next_cursor: str | None
