"""API shapes of special-supervision topics and emergency supervisions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dudao.calendar.schemas import IsoDate
from dudao.evidence.schemas import EvidenceIds
from dudao.schemas import StrictModel, Timestamp
from dudao.supervision.schemas import ChecklistItem, SupervisionDetail, TeamSet

Short = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(min_length=1, max_length=20_000)]
TopicCode = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]
UnitIds = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=100)]], Field(min_length=1, max_length=200)
]
Checklist = Annotated[list[ChecklistItem], Field(min_length=1, max_length=500)]


class TopicCreate(StrictModel):
    """A topic of your office's own, for it and the offices below it."""

    code: TopicCode
    name: Short
    description: Text
    checklist: Checklist


class TopicUpdate(StrictModel):
    name: Short | None = None
    description: Text | None = None
    checklist: Checklist | None = None


class TopicRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    code: str
    name: str
    description: str
    checklist: list[ChecklistItem]
    division_code: str | None = Field(description="The office that defined it; null: seeded, for everyone")
    version: int
    created_at: datetime
    updated_at: datetime


class TopicPage(BaseModel):
    items: list[TopicRead]
    next_cursor: str | None


class SpecialSupervisionCreate(StrictModel):
    """A special supervision on the topic, of these units; it opens with the topic's checklist."""

    title: Short
    unit_ids: UnitIds
    plan: Text
    starts_on: IsoDate
    ends_on: IsoDate


class EmergencyCreate(StrictModel):
    """A major incident: the supervision opens at once, with no advance notice. Given a team, the team is
    set and on site in the same step."""

    incident: Short
    description: Text
    occurred_at: Timestamp
    unit_ids: UnitIds
    plan: Text
    checklist: Checklist | None = Field(
        default=None, description="Left out: the standard emergency checklist"
    )
    ends_on: IsoDate | None = Field(default=None, description="Left out: 14 days from today")
    team: TeamSet | None = None


class FirstReportCreate(StrictModel):
    text: Text
    evidence_ids: EvidenceIds = Field(default_factory=list)


class EmergencyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    supervision_id: UUID
    division_code: str
    office_division: str
    incident: str
    description: str
    occurred_at: datetime
    opened_at: datetime
    report_due_at: datetime
    first_report: str | None
    first_report_evidence_ids: list[UUID]
    first_reported_by: str | None
    first_reported_at: datetime | None
    overdue_noticed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class EmergencyOpened(EmergencyRead):
    supervision: SupervisionDetail


class EmergencyPage(BaseModel):
    items: list[EmergencyRead]
    next_cursor: str | None
