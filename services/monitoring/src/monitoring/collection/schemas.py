"""API shapes of data collection. Strict: ``false`` is not a value and ``"3"`` is not a number."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from dudao.schemas import DivisionCode, StrictModel, Uuid, enum_field
from monitoring.collection.models import (
    ReviewDecision,
    ReviewLevel,
    RuleKind,
    SubmissionStatus,
)
from monitoring.indicator.models import UnitKind

MAX_VALUE = Decimal("99999999999999")  # what the column holds: 14 digits before the point


def _number_only(value: Any) -> Any:
    # JSON's numbers only: a bool is not a number, and a numeric string is a typo waiting to happen.
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("must be a number")
    return value


Number = Annotated[
    Decimal,
    BeforeValidator(_number_only),
    Field(strict=False, allow_inf_nan=False, ge=-MAX_VALUE, le=MAX_VALUE, decimal_places=4),
]
ElementCode = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_.]*$")]
# A school by its school code (学校标识码, 10 digits), a county by its division code (6 digits).
UnitCode = Annotated[
    str, Field(pattern=r"^([0-9]{10}|[1-9][0-9]{5})$", description="A school code, or a county's code")
]
Operator = Literal["<", "<=", "=", ">=", ">", "!="]
Comment = Annotated[str, Field(min_length=1, max_length=2_000)]


def _date_string(value: Any) -> Any:
    if not isinstance(value, str | date):
        raise ValueError("must be a date string (YYYY-MM-DD)")
    return value


Day = Annotated[date, BeforeValidator(_date_string), Field(strict=False)]


class RuleCreate(StrictModel):
    """A validation rule: ``required``; ``range`` (``minimum`` and/or ``maximum``); or ``compare``:
    ``element <operator> right_element × factor`` (or ``right_value × factor``)."""

    kind: RuleKind = enum_field()
    element: ElementCode
    minimum: Number | None = None
    maximum: Number | None = None
    operator: Operator | None = None
    right_element: ElementCode | None = None
    right_value: Number | None = None
    factor: Number | None = Field(default=None, description="Multiplies the right side; 1 if left out")
    message: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _shape(self) -> Self:
        compare = ("operator", "right_element", "right_value", "factor")
        if self.kind == RuleKind.RANGE:
            if self.minimum is None and self.maximum is None:
                raise ValueError("a range rule needs a minimum or a maximum")
            if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
                raise ValueError("minimum is above maximum")
        elif self.minimum is not None or self.maximum is not None:
            raise ValueError("only a range rule has a minimum or a maximum")
        if self.kind == RuleKind.COMPARE:
            if self.operator is None:
                raise ValueError("a compare rule needs an operator")
            if (self.right_element is None) == (self.right_value is None):
                raise ValueError("a compare rule needs right_element or right_value, not both")
        elif any(getattr(self, name) is not None for name in compare):
            raise ValueError("only a compare rule has an operator and a right side")
        return self


class TaskCreate(StrictModel):
    system_id: Uuid
    name: str = Field(min_length=1, max_length=200)
    year: int = Field(ge=2000, le=2100)
    unit_kind: UnitKind = enum_field()
    division_code: DivisionCode | None = Field(
        default=None, description="The units under this division (your own by default)"
    )
    units: list[UnitCode] | None = Field(
        default=None,
        min_length=1,
        max_length=30_000,
        description="Only these units (school codes, or county codes) under the division",
    )
    elements: list[ElementCode] = Field(
        min_length=1, max_length=300, description="The base elements asked, in the form's order"
    )
    due_on: Day
    remind_days: list[Annotated[int, Field(ge=1, le=90)]] = Field(
        default_factory=lambda: [7, 1], max_length=10, description="Days before due_on to remind"
    )
    rules: list[RuleCreate] = Field(default_factory=list, max_length=1_000)


class FormField(BaseModel):
    """One element of the form as issued."""

    code: str
    label: str
    unit: str | None
    min_value: Decimal | None
    max_value: Decimal | None


class RuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: RuleKind
    element_code: str
    minimum: Decimal | None
    maximum: Decimal | None
    operator: str | None
    right_element: str | None
    right_value: Decimal | None
    factor: Decimal | None
    message: str | None


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    system_id: UUID
    name: str
    year: int
    unit_kind: UnitKind
    division_code: str
    unit_ids: list[str] | None
    form: list[FormField]
    due_on: date
    remind_days: list[int]
    issued_by: str
    version: int
    created_at: datetime
    updated_at: datetime


class TaskDetail(TaskRead):
    rules: list[RuleRead]


class TaskPage(BaseModel):
    items: list[TaskRead]
    next_cursor: str | None


class SubmissionCreate(StrictModel):
    """One unit's values, element code → value (``null`` or left out: blank)."""

    unit: UnitCode | None = Field(
        default=None, description="The unit (a school's own people may leave it out: their school)"
    )
    values: dict[ElementCode, Number | None] = Field(max_length=300)


class SubmissionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    task_id: UUID
    system_id: UUID
    year: int
    unit_kind: UnitKind
    unit_id: str
    unit_code: str
    division_code: str
    status: SubmissionStatus
    awaiting: ReviewLevel | None = Field(description="The level whose review it awaits")
    submitted_by: str
    key_id: str | None
    comment: str | None
    values_count: int
    submitted_at: datetime
    version: int
    created_at: datetime
    updated_at: datetime


class ReviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    level: ReviewLevel
    decision: ReviewDecision
    comment: str | None
    reviewer: str
    reviewer_division: str
    created_at: datetime


class SubmissionDetail(SubmissionRead):
    values: dict[str, Decimal | None]
    reviews: list[ReviewRead]


class SubmissionPage(BaseModel):
    items: list[SubmissionRead]
    next_cursor: str | None


class ReviewCreate(StrictModel):
    """Approve at your level, or return with comments (required to return)."""

    decision: ReviewDecision = enum_field()
    comment: Comment | None = None

    @model_validator(mode="after")
    def _returned_with_comments(self) -> Self:
        if self.decision == ReviewDecision.RETURNED and self.comment is None:
            raise ValueError("a return needs comments saying what to correct")
        return self


class BatchReviewCreate(ReviewCreate):
    """The same decision on many submissions awaiting your level: those named, or all within your
    jurisdiction (under ``within``, if given)."""

    submission_ids: list[Uuid] | None = Field(default=None, min_length=1, max_length=100_000)
    within: str | None = Field(default=None, pattern=r"^[1-9][0-9]{1,5}$")


class Reviewed(BaseModel):
    level: ReviewLevel
    decision: ReviewDecision
    submissions: int


class BulkRow(StrictModel):
    unit: UnitCode
    values: dict[ElementCode, Number | None] = Field(max_length=300)


class BulkSubmission(StrictModel):
    """Many units' values at once (JSON): all applied or none. Rows are numbered from 1."""

    rows: list[BulkRow] = Field(min_length=1, max_length=100_000)


class BulkSubmitted(BaseModel):
    """What a valid bulk submission did, in one transaction."""

    units: int
    values: int
    created: int
    resubmitted: int
