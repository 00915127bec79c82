"""API shapes of visits and the visit policy. Strict: ``false`` is not a number, ``"22.8"`` not a latitude."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dudao.evidence.schemas import EvidenceIds
from dudao.rectification.models import Severity
from dudao.rectification.schemas import DeadlineSpec, Text
from dudao.schemas import StrictModel, Timestamp, Uuid, enum_field
from school_inspection.visit.models import Checkpoint, Observation, RoutineItem, VisitKind

Notes = Annotated[str, Field(min_length=1, max_length=10_000)]


class Position(StrictModel):
    """Where the mobile app was when the visit started (WGS 84)."""

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000, allow_inf_nan=False)


class VisitFinding(StrictModel):
    """Raise the problem as a finding (问题): it opens a rectification (整改) for the school."""

    category: str = Field(
        min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$", description="e.g. safety, fees"
    )
    severity: Severity = enum_field()
    requirement: Text
    deadline: DeadlineSpec


class ItemObservation(StrictModel):
    item: RoutineItem = enum_field()
    result: Observation = enum_field()
    notes: Notes | None = Field(default=None, description="Required when a problem was found")
    evidence_ids: EvidenceIds = Field(default_factory=list)
    raise_finding: VisitFinding | None = None

    @model_validator(mode="after")
    def _problem_rules(self) -> ItemObservation:
        if self.result == Observation.PROBLEM_FOUND and self.notes is None:
            raise ValueError("describe the problem found in notes")
        if self.raise_finding is not None and self.result != Observation.PROBLEM_FOUND:
            raise ValueError("only a problem found can be raised as a finding")
        return self


class VisitCreate(StrictModel):
    school_id: Uuid
    kind: VisitKind = enum_field()
    comprehensive: bool = Field(
        default=False, description="A comprehensive supervision (综合督导): kind special"
    )
    announced: bool = Field(default=True, description="False for an unannounced visit (暗访)")
    inspector_ids: list[Uuid] = Field(min_length=1, max_length=20, description="The team, by inspector id")
    started_at: Timestamp
    ended_at: Timestamp
    position: Position | None = None
    items: list[ItemObservation] = Field(
        default_factory=list, max_length=len(RoutineItem), description="A routine visit covers all eight"
    )
    summary: Notes | None = None


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    item: RoutineItem
    result: Observation
    notes: str | None
    evidence_ids: list[UUID]
    rectification_id: UUID | None


class VisitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    school_id: UUID
    division_code: str
    kind: VisitKind
    comprehensive: bool
    announced: bool
    inspector_ids: list[UUID]
    started_at: datetime
    ended_at: datetime
    latitude: float | None
    longitude: float | None
    position_accuracy_m: float | None
    items: list[ItemRead]
    summary: str | None
    recorded_by: str
    created_at: datetime
    updated_at: datetime


class VisitPage(BaseModel):
    items: list[VisitRead]
    next_cursor: str | None


class BehindRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    school_id: UUID
    school_code: str
    school_name: str
    division_code: str
    semester: str
    checkpoint: Checkpoint
    semester_start: date
    semester_end: date
    checkpoint_date: date
    visits: int
    required: int
    noticed_at: datetime


class BehindPage(BaseModel):
    items: list[BehindRead]
    next_cursor: str | None


Month = Annotated[int, Field(ge=1, le=12)]
Day = Annotated[int, Field(ge=1, le=31)]


class MonthDay(StrictModel):
    month: Month
    day: Day

    @model_validator(mode="after")
    def _a_real_day(self) -> MonthDay:
        try:
            date(2001, self.month, self.day)  # a common year: 29 February never starts a semester
        except ValueError:
            raise ValueError(f"{self.month}-{self.day} is not a day of every year") from None
        return self


class PolicyWrite(StrictModel):
    routine_visits_per_semester: int = Field(ge=1, le=31)
    spring_starts: MonthDay
    autumn_starts: MonthDay
    comprehensive_cycle_years: int = Field(ge=1, le=10, description="综合督导 cycle; Guangxi: 5")

    @model_validator(mode="after")
    def _spring_first(self) -> PolicyWrite:
        if (self.spring_starts.month, self.spring_starts.day) >= (
            self.autumn_starts.month,
            self.autumn_starts.day,
        ):
            raise ValueError("spring must start before autumn in the calendar year")
        return self


class PolicyRead(BaseModel):
    division_prefix: str = Field(description="The jurisdiction the policy row covers; empty: everywhere")
    routine_visits_per_semester: int
    spring_starts: MonthDay
    autumn_starts: MonthDay
    comprehensive_cycle_years: int
    version: int
    updated_by: str
    updated_at: datetime
