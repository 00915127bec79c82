"""API shapes of documents and issuing offices. Strict: ``false`` is not a number, ``"x"`` no enum member."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from accountability.documents.models import (
    FORMS,
    AccountabilityForm,
    DecisionStatus,
    DecisionTarget,
    DocumentKind,
)
from dudao.schemas import StrictModel, Timestamp, enum_field

Text = Annotated[str, Field(min_length=1, max_length=20_000)]
Organisation = Annotated[str, Field(min_length=1, max_length=200)]


class PersonRef(StrictModel):
    name: str = Field(min_length=1, max_length=100)
    position: str = Field(min_length=1, max_length=100, description="e.g. 校长, 分管副县长")


class DecisionCreate(StrictModel):
    """A person's accountability decision, in one of the forms of RULES.md §5."""

    target: DecisionTarget = enum_field(description="body: the unit itself; person: its responsible people")
    form: AccountabilityForm = enum_field()
    persons: list[PersonRef] = Field(min_length=1, max_length=50, description="Whom the decision names")
    reasons: Text
    publish: bool = Field(
        default=False,
        description="Publish it on the public portal (item 十四): its form and grounds, not the persons",
    )

    @field_validator("form")
    @classmethod
    def _form_fits_target(cls, form: AccountabilityForm, info: ValidationInfo) -> AccountabilityForm:
        target = info.data.get("target")  # absent when the target itself was invalid
        if target is not None and form not in FORMS[target]:
            allowed = ", ".join(sorted(FORMS[target]))
            raise ValueError(f"{form.value} does not apply to a {target.value}; use one of {allowed}")
        return form


class InterviewRecordCreate(StrictModel):
    """The written record (书面记录) of an interview, and whom it is filed with."""

    record: Text
    held_at: Timestamp | None = Field(default=None, description="When it took place; default: as scheduled")
    filed_with: list[Organisation] | None = Field(
        default=None,
        min_length=1,
        max_length=20,
        description="Default: the unit's local party committee and government and its superior department",
    )


class IssuingOfficeRead(BaseModel):
    division_code: str
    abbreviation: str
    name: str | None = Field(description="The office's name as governance recorded it; null while it has not")
    default: bool = Field(description="True while governance has recorded no abbreviation for the office")


class UrgingOrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    addressee: str
    copied_to: str | None
    new_deadline: date | None


class InterviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    scheduled_at: datetime
    place: str
    participants: list[str]
    responsible_person: str
    filed_with: list[str]
    record: str | None
    held_at: datetime | None
    recorded_at: datetime | None
    recorded_by: str | None


class CircularRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    recipients: list[str]
    recommendation: str
    published: bool
    published_at: datetime | None
    published_by: str | None


class PersonRead(BaseModel):
    name: str
    position: str


class DecisionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: DecisionStatus
    target: DecisionTarget | None
    form: AccountabilityForm | None
    persons: list[PersonRead]
    reasons: str | None
    decided_at: datetime | None
    decided_by: str | None
    published: bool


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    kind: DocumentKind
    number: str | None = Field(
        description="文号, e.g. 桂教督办〔2026〕12号; null while a decision is pending"
    )
    office_division: str
    case_id: UUID | None
    unit_id: str
    unit_kind: str
    unit_name: str
    competent_department: str | None
    division_code: str
    title: str
    body: str
    issued_at: datetime | None
    created_at: datetime
    urging_order: UrgingOrderRead | None
    interview: InterviewRead | None
    circular: CircularRead | None
    decision: DecisionRead | None


class DocumentPage(BaseModel):
    items: list[DocumentRead]
    next_cursor: str | None


PublicKind = Literal["circular", "accountability_decision"]


class PublicDocumentRead(BaseModel):
    """A published circular or a decided, published accountability decision, as a portal shows it.

    Nothing about people beyond what the published text itself says; no notification or interview data.
    """

    id: UUID = Field(description="For GET /v1/public/documents/{id}")
    number: str = Field(description="文号, e.g. 桂教督通〔2026〕3号")
    kind: PublicKind
    title: str
    office_division: str = Field(description="The issuing office's division code")
    office_name: str = Field(description="e.g. 兴宁区人民政府教育督导委员会办公室")
    unit_name: str = Field(description="The unit the document concerns")
    division_code: str = Field(description="The unit's division")
    published_on: date = Field(description="A circular's publication date; a decision's date")
    text: str | None = Field(description="A circular's text; null for a decision")
    recommendation: str | None = Field(description="A circular's recommendation (item 十三)")
    form: AccountabilityForm | None = Field(description="A decision's form of accountability")
    grounds: str | None = Field(description="A decision's grounds and reasons")


class PublicDocumentPage(BaseModel):
    items: list[PublicDocumentRead]
    next_cursor: str | None
