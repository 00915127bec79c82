"""API shapes of dropout control. A pupil's name and ID number are shown in full only to the county office
that keeps the record; ``masked`` says which a reader got."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dudao.calendar.schemas import IsoDate, Year
from dudao.schemas import DivisionCode, StrictModel, enum_field
from governance.dropout.models import DropoutReason, DropoutStatus, MeasureKind

PupilName = Annotated[str, Field(min_length=1, max_length=50)]
IdNumber = Annotated[
    str, Field(pattern=r"^[1-9][0-9]{16}[0-9Xx]$", description="居民身份证号码, 18 characters")
]
Grade = Annotated[int, Field(ge=1, le=9, description="1–6 primary, 7–9 junior secondary")]
SchoolName = Annotated[str, Field(min_length=1, max_length=200)]
Permille = Annotated[float, Field(ge=0, le=1000, strict=False, description="‰ of enrolled pupils")]


class PupilCreate(StrictModel):
    name: PupilName
    id_number: IdNumber
    school_name: SchoolName
    grade: Grade
    reason: DropoutReason = enum_field()
    status: DropoutStatus = enum_field(description="at_risk or dropped_out; a return is recorded by /return")
    left_on: IsoDate | None = Field(default=None, description="When the pupil left school; needed once out")


class PupilUpdate(StrictModel):
    school_name: SchoolName | None = None
    grade: Grade | None = None
    reason: DropoutReason | None = enum_field(default=None)
    status: DropoutStatus | None = enum_field(default=None, description="at_risk or dropped_out")
    left_on: IsoDate | None = None


class PupilReturn(StrictModel):
    returned_on: IsoDate
    school_name: SchoolName = Field(description="The school the pupil returned to (复学)")


class PupilLookup(StrictModel):
    """Sent in a body, not a query string, so the ID number stays out of access logs."""

    id_number: IdNumber


class MeasureCreate(StrictModel):
    kind: MeasureKind = enum_field()
    description: str = Field(min_length=1, max_length=4000, description="What was done (no personal data)")
    taken_on: IsoDate


class MeasureRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    kind: MeasureKind
    description: str
    taken_on: date
    taken_by: str
    created_at: datetime


class PupilRead(BaseModel):
    id: UUID
    division_code: str
    name: str
    id_number: str
    masked: bool
    school_name: str
    grade: int
    reason: DropoutReason
    status: DropoutStatus
    left_on: date | None
    returned_on: date | None
    version: int
    created_at: datetime
    updated_at: datetime


class PupilDetail(PupilRead):
    measures: list[MeasureRead]


class PupilPage(BaseModel):
    items: list[PupilRead]
    next_cursor: str | None


class TargetCreate(StrictModel):
    division_code: DivisionCode
    year: Year
    enrolled_pupils: int = Field(ge=1, le=10_000_000, description="义务教育在校生")
    target_permille: Permille | None = Field(default=None, description="Left out: the default target")


class TargetUpdate(StrictModel):
    enrolled_pupils: int | None = Field(default=None, ge=1, le=10_000_000)
    target_permille: Permille | None = None


class TargetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    division_code: str
    year: int
    enrolled_pupils: int
    target_permille: float | None
    version: int
    created_at: datetime
    updated_at: datetime


class TargetPage(BaseModel):
    items: list[TargetRead]
    next_cursor: str | None


class CountyRate(BaseModel):
    division_code: str
    year: int
    enrolled_pupils: int
    at_risk: int
    dropped_out: int
    returned: int
    rate_permille: float
    target_permille: float
    behind: bool


class CountyRates(BaseModel):
    year: int
    items: list[CountyRate]


class AssessmentCreate(StrictModel):
    year: Year
    within: str | None = Field(
        default=None, pattern=r"^[1-9][0-9]{1,5}$", description="Only counties under this division prefix"
    )


class AssessmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    division_code: str
    year: int
    enrolled_pupils: int
    dropped_out: int
    rate_permille: float
    target_permille: float
    behind: bool
    rectification_id: UUID | None
    assessed_by: str
    assessed_at: datetime


class AssessmentPage(BaseModel):
    items: list[AssessmentRead]
    next_cursor: str | None


class Assessed(BaseModel):
    """What an assessment run did: the counties it assessed now, and those assessed before for the year."""

    assessed: list[AssessmentRead]
    already_assessed: list[str]
    without_target: list[str]
