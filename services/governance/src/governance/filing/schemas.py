"""API shapes of upward filing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dudao.schemas import StrictModel, enum_field
from governance.filing.models import FilingKind, FilingStatus

Title = Annotated[str, Field(min_length=1, max_length=200)]
Content = Annotated[str, Field(min_length=1, max_length=50_000)]
Comments = Annotated[str, Field(min_length=1, max_length=10_000)]


class FilingCreate(StrictModel):
    year: int = Field(ge=2000, le=2100)
    kind: FilingKind = enum_field()
    title: Title
    content: Content


class FilingRevision(StrictModel):
    """A returned filing, filed again with its revised content."""

    title: Title | None = None
    content: Content


class FilingDecision(StrictModel):
    decision: Literal["acknowledged", "returned"]
    comments: Comments | None = Field(default=None, description="Required when returning it")


class FilingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    office_id: UUID
    division_code: str
    superior_division: str
    year: int
    kind: FilingKind
    title: str
    content: str
    status: FilingStatus
    comments: str | None
    filed_at: datetime
    decided_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class FilingPage(BaseModel):
    items: list[FilingRead]
    next_cursor: str | None


OverviewStatus = Literal["missing", "filed", "returned", "acknowledged"]


class KindOverview(BaseModel):
    """``status``: missing (none), returned (one waits to be filed again), filed (one waits for a decision),
    else acknowledged; with the count in each state."""

    status: OverviewStatus
    filed: int = 0
    acknowledged: int = 0
    returned: int = 0


class SubordinateOverview(BaseModel):
    division_code: str
    division_name: str
    office_id: UUID | None  # None: the division's office is not recorded yet
    office_name: str | None
    work_plan: KindOverview
    major_matter: KindOverview
    supervision_results: KindOverview


class FilingOverview(BaseModel):
    division_code: str
    year: int
    work_plan_due_on: date
    subordinates: list[SubordinateOverview]
