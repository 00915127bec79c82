"""API shapes of agencies, commissions, their keys, reports and quality monitoring results. Strict."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from dudao.calendar.schemas import IsoDate, Year
from dudao.schemas import DivisionCode, StrictModel, Timestamp, Uuid, enum_field
from monitoring.agency.models import (
    CommissionStatus,
    DeliverableKind,
    DeliverableStatus,
    ReviewDecision,
)

Text200 = Annotated[str, Field(min_length=1, max_length=200)]
# 统一社会信用代码: 18 characters of digits and capitals without I, O, S, V, Z.
CreditCode = Annotated[str, Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$")]
Phone = Annotated[str, Field(pattern=r"^\+?[0-9][0-9-]{6,19}$")]
Email = Annotated[str, Field(pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$", max_length=254)]
UnitId = Annotated[
    str, Field(min_length=6, max_length=64, description="A school's roster id, or a county code")
]


def _number_only(value: Any) -> Any:
    # A JSON number only: a bool is not a rate, and a numeric string is a typo waiting to happen.
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("must be a number")
    return value


Rate = Annotated[
    Decimal,
    BeforeValidator(_number_only),
    Field(strict=False, allow_inf_nan=False, ge=0, le=1, decimal_places=4),
]


# --- agencies ---------------------------------------------------------------------------------------


class Contact(StrictModel):
    name: Annotated[str, Field(min_length=1, max_length=50)]
    phone: Phone | None = None
    email: Email | None = None


class ContactRead(BaseModel):
    name: str
    phone: str | None = None
    email: str | None = None


class AgencyCreate(StrictModel):
    name: Text200
    credit_code: CreditCode = Field(description="统一社会信用代码")
    qualification_kind: Annotated[str, Field(min_length=1, max_length=100)]
    certificate_number: Annotated[str, Field(min_length=1, max_length=100)]
    qualification_valid_until: IsoDate
    contacts: list[Contact] = Field(min_length=1, max_length=10, description="Sealed at rest")


class AgencyUpdate(StrictModel):
    name: Text200 | None = None
    qualification_kind: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    certificate_number: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    qualification_valid_until: IsoDate | None = None
    contacts: list[Contact] | None = Field(default=None, min_length=1, max_length=10)


class AgencyRead(BaseModel):
    id: UUID
    division_code: str
    name: str
    credit_code: str
    qualification_kind: str
    certificate_number: str
    qualification_valid_until: date
    contacts: list[ContactRead]
    contacts_masked: bool = Field(description="Contacts in full only for offices and the agency itself")
    version: int
    created_at: datetime
    updated_at: datetime


class AgencyPage(BaseModel):
    items: list[AgencyRead]
    next_cursor: str | None


# --- commissions -----------------------------------------------------------------------------------


class DeliverableCreate(StrictModel):
    kind: DeliverableKind = enum_field()
    title: Text200
    due_on: IsoDate


class CommissionCreate(StrictModel):
    agency_id: Uuid
    title: Text200
    purchase_reference: Annotated[str, Field(min_length=1, max_length=100)] = Field(
        description="The government purchase contract (政府购买服务合同) number"
    )
    system_ids: list[Uuid] = Field(min_length=1, max_length=10, description="The indicator systems assessed")
    divisions: list[DivisionCode] = Field(min_length=1, max_length=50, description="Counties or cities")
    unit_ids: list[UnitId] = Field(
        default_factory=list, max_length=5000, description="Only these schools or counties; empty: all"
    )
    starts_on: IsoDate
    ends_on: IsoDate
    deliverables: list[DeliverableCreate] = Field(min_length=1, max_length=50)


class CommissionUpdate(StrictModel):
    title: Text200 | None = None
    ends_on: IsoDate | None = None
    status: Literal["completed", "terminated"] | None = Field(default=None, description="Close it")


class DeliverableRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    commission_id: UUID
    kind: DeliverableKind
    title: str
    due_on: date
    status: DeliverableStatus
    version: int
    updated_at: datetime


class CommissionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    division_code: str = Field(description="The commissioning office's division")
    agency_id: UUID
    title: str
    purchase_reference: str
    system_ids: list[UUID]
    divisions: list[str]
    unit_ids: list[str]
    starts_on: date
    ends_on: date
    status: CommissionStatus
    version: int
    created_at: datetime
    updated_at: datetime


class CommissionDetail(CommissionRead):
    deliverables: list[DeliverableRead]


class CommissionPage(BaseModel):
    items: list[CommissionRead]
    next_cursor: str | None


# --- keys -------------------------------------------------------------------------------------------


Operation = Literal["read", "write"]


def _read_and_write() -> list[Operation]:
    return ["read", "write"]


class CommissionKeyCreate(StrictModel):
    operations: list[Operation] = Field(default_factory=_read_and_write, min_length=1, max_length=2)
    expires_at: Timestamp | None = Field(default=None, description="No later than the commission's end")


class CommissionKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key_id: UUID
    commission_id: UUID
    display_prefix: str
    expires_at: datetime
    issued_by: str
    issued_at: datetime


class CommissionKeyIssued(CommissionKeyRead):
    key: str = Field(description="The key itself. It is shown only now: store it safely")
    scope_divisions: list[str]
    scope_operations: list[str]


class CommissionKeyList(BaseModel):
    items: list[CommissionKeyRead]


# --- reports, results and reviews ----------------------------------------------------------------------


class QualityResultIn(StrictModel):
    county_code: DivisionCode
    subject: Annotated[str, Field(min_length=1, max_length=40, description="e.g. 数学, 语文, 科学")]
    attainment_level: Annotated[int, Field(ge=1, le=4, description="学业水平 I–IV as 1–4")]
    difference_rate: Rate


class QualityResults(StrictModel):
    system_id: Uuid = Field(description="The indicator system whose item 3.9 the results feed")
    year: Year
    results: list[QualityResultIn] = Field(min_length=1, max_length=2000)


class ReportCreate(StrictModel):
    text: Annotated[str, Field(min_length=1, max_length=100_000)]
    evidence_ids: list[Uuid] = Field(default_factory=list, max_length=50)
    quality: QualityResults | None = Field(default=None, description="For a quality_results deliverable")


class QualityResultRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    county_code: str
    subject: str
    attainment_level: int
    difference_rate: Decimal


class ReportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    deliverable_id: UUID
    commission_id: UUID
    text: str
    evidence_ids: list[UUID]
    system_id: UUID | None
    year: int | None
    submitted_by: str
    key_id: str | None
    submitted_at: datetime
    results: list[QualityResultRead]


class ReviewCreate(StrictModel):
    decision: ReviewDecision = enum_field()
    comments: Annotated[str, Field(min_length=1, max_length=10_000)] | None = None


class ReviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    deliverable_id: UUID
    report_id: UUID
    decision: ReviewDecision
    comments: str | None
    reviewed_by: str
    reviewed_at: datetime


class CountyQuality(BaseModel):
    county_code: str
    met: bool = Field(description="Item 3.9: every subject at level III or above, difference rate below 0.15")


class Reviewed(BaseModel):
    review: ReviewRead
    deliverable: DeliverableRead
    quality_written: list[CountyQuality] = Field(description="quality.3_9 values written on acceptance")


class DeliverableDetail(DeliverableRead):
    reports: list[ReportRead]
    reviews: list[ReviewRead]
