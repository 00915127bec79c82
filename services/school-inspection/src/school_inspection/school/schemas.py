"""API shapes of schools. Strict: ``false`` is not a number and ``"3"`` is not an enum member."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dudao.schemas import DivisionCode, StrictModel, enum_field
from school_inspection.school.models import Ownership, SchoolType, Stage

_STAGES = [s.value for s in Stage]
SCHOOL_CODE_PATTERN = r"^[0-9]{10}$"
SchoolCode = Annotated[str, Field(pattern=SCHOOL_CODE_PATTERN, description="学校标识码, 10 digits")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Address = Annotated[str, Field(min_length=1, max_length=300)]
Enrolment = Annotated[int, Field(ge=0, le=200_000, description="Pupils enrolled")]
Pupils = Annotated[int, Field(ge=0, le=200_000)]
PersonName = Annotated[str, Field(min_length=1, max_length=50)]
Phone = Annotated[
    str,
    Field(
        pattern=r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?|[0-9]{5})$",
        description="A mobile number, a landline with its area code (0771-5551234), or a 5-digit hotline",
    ),
]


class EnrolmentByStage(StrictModel):
    """Pupils per stage (学段); a stage the school's type does not teach must be 0."""

    kindergarten: Pupils = 0
    primary: Pupils = 0
    junior: Pupils = 0
    senior: Pupils = 0
    vocational: Pupils = 0


class PrincipalContact(StrictModel):
    name: PersonName
    phone: Phone | None = None


class PrincipalRead(BaseModel):
    name: str
    phone: str | None = Field(description="Masked (138****5678) unless you are an office or an inspector")


class SchoolCreate(StrictModel):
    school_code: SchoolCode
    name: Name
    school_type: SchoolType = enum_field()
    ownership: Ownership = enum_field()
    division_code: DivisionCode
    address: Address
    enrolment: Enrolment | None = Field(
        default=None,
        description="The total; with enrolment_by_stage it must equal their sum (or be left out)",
    )
    enrolment_by_stage: EnrolmentByStage | None = Field(
        default=None, description="Left out: a single-stage school's stage is its total; others stay unknown"
    )
    teaching_point: bool = Field(
        default=False, description="A teaching point (教学点), not a complete school"
    )
    principal: PrincipalContact | None = None


class SchoolUpdate(StrictModel):
    name: Name | None = None
    school_type: SchoolType | None = enum_field(default=None)
    ownership: Ownership | None = enum_field(default=None)
    address: Address | None = None
    enrolment: Enrolment | None = None
    enrolment_by_stage: EnrolmentByStage | None = None
    teaching_point: bool | None = None
    principal: PrincipalContact | None = None


class SchoolRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, data: Any) -> Any:
        """A plain row (a page is read without the ORM) has the stage and principal columns of the table."""
        if not isinstance(data, Mapping) or "principal_name" not in data:
            return data
        stages = {stage: data[f"pupils_{stage}"] for stage in _STAGES}
        principal = data["principal_name"]
        return {
            **data,
            "enrolment_by_stage": None if None in stages.values() else stages,
            "principal": None if principal is None else {"name": principal, "phone": data["principal_phone"]},
        }

    id: UUID
    school_code: str
    name: str
    school_type: SchoolType
    ownership: Ownership
    division_code: str
    address: str
    enrolment: int
    enrolment_by_stage: EnrolmentByStage | None
    teaching_point: bool
    principal: PrincipalRead | None
    contacts_masked: bool = Field(
        description="The principal's phone is masked: only offices and inspectors see it in full"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class SchoolPage(BaseModel):
    items: list[SchoolRead]
    next_cursor: str | None


class ImportedRows(BaseModel):
    """What a valid import did, all in one transaction."""

    rows: int
    inserted: int
    updated: int
    unchanged: int
