"""API shapes of the indicator library. Strict: ``false`` is not a number and ``"3"`` is not an enum
member; numbers are exact decimals (a JSON number or a numeric string) and leave as strings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from dudao.schemas import StrictModel, enum_field
from monitoring.indicator.models import Comparison, EducationLevel, ElementKind, Stage, UnitKind

MAX_INDICATORS = 500
MAX_ELEMENTS = 500

IndicatorCode = Annotated[str, Field(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
# As the formula language reads them: dot-separated parts of letters, digits and _, starting with a letter.
ElementCode = Annotated[
    str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
]
ThresholdCode = Annotated[
    str, Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(min_length=1, max_length=4_000)]
DivisionPrefix = Annotated[
    str, Field(pattern=r"^[1-9][0-9]{1,5}$", description="A division-code prefix: 45, 4501, 450102")
]


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


# An exact number: a JSON number or a numeric string, never a boolean, NaN or infinity.
Number = Annotated[
    Decimal,
    BeforeValidator(_no_bool),
    Field(strict=False, allow_inf_nan=False, ge=Decimal("-1e15"), le=Decimal("1e15")),
]


class IndicatorNode(StrictModel):
    """An indicator and the indicators under it (下级指标)."""

    code: IndicatorCode
    name: Annotated[str, Field(min_length=1, max_length=300)]
    element: ElementCode | None = Field(default=None, description="The data element it is measured by")
    veto: bool = Field(default=False, description="Not at its standard, it fails the assessment (一票否决)")
    description: Description | None = None
    children: list[IndicatorNode] = Field(default_factory=list, max_length=MAX_INDICATORS)


class ElementDefinition(StrictModel):
    code: ElementCode
    name: Name
    unit: Annotated[str, Field(min_length=1, max_length=30)] | None = None
    unit_kind: UnitKind = enum_field(description="Collected per school or per county")
    formula: Annotated[str, Field(min_length=1, max_length=2_000)] | None = Field(
        default=None, description="A derived element's formula over other elements; none for a base one"
    )
    min_value: Number | None = None
    max_value: Number | None = None
    description: Description | None = None


class StandardDefinition(StrictModel):
    element: ElementCode
    stage: Stage | None = enum_field(default=None, description="None: every stage")
    division_prefix: DivisionPrefix = "45"
    comparison: Comparison = enum_field(default=Comparison.AT_LEAST)
    value: Number


class ThresholdDefinition(StrictModel):
    code: ThresholdCode
    value: Number
    division_prefix: DivisionPrefix = "45"
    description: Annotated[str, Field(min_length=1, max_length=300)] | None = None


class SystemContent(StrictModel):
    """Everything an edition holds. Codes are unique within it; formulas read only its elements."""

    name: Name
    education_level: EducationLevel = enum_field()
    document: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    level_names: list[Annotated[str, Field(min_length=1, max_length=30)]] = Field(
        default_factory=lambda: ["一级指标", "二级指标", "三级指标"],
        min_length=1,
        max_length=6,
        description="The names of the tree's levels, top first: the tree is at most this deep",
    )
    description: Description | None = None
    indicators: list[IndicatorNode] = Field(min_length=1, max_length=MAX_INDICATORS)
    elements: list[ElementDefinition] = Field(default_factory=list, max_length=MAX_ELEMENTS)
    standards: list[StandardDefinition] = Field(default_factory=list, max_length=2_000)
    thresholds: list[ThresholdDefinition] = Field(default_factory=list, max_length=500)


class SystemCreate(SystemContent):
    key: str = Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9-]*$")


class IndicatorRead(BaseModel):
    code: str
    name: str
    level: int
    element: str | None
    veto: bool
    description: str | None
    children: list[IndicatorRead]


class StandardRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    element_code: str
    stage: Stage | None
    division_prefix: str
    comparison: Comparison
    value: Decimal


class ThresholdRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    division_prefix: str
    value: Decimal
    description: str | None


class SystemSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    key: str
    edition: int
    name: str
    education_level: EducationLevel
    office_division: str
    document: str | None
    created_at: datetime


class SystemRead(SystemSummary):
    level_names: list[str]
    description: str | None
    created_by: str
    indicators: list[IndicatorRead]
    standards: list[StandardRead]
    thresholds: list[ThresholdRead]


class SystemPage(BaseModel):
    items: list[SystemSummary]
    next_cursor: str | None


class ElementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    code: str
    name: str
    unit: str | None
    unit_kind: UnitKind
    kind: ElementKind
    formula: str | None
    min_value: Decimal | None
    max_value: Decimal | None
    description: str | None


class ElementPage(BaseModel):
    items: list[ElementRead]
    next_cursor: str | None


class EvaluationRequest(StrictModel):
    """Values of a school or county to compute a system's derived elements from, writing nothing."""

    values: dict[ElementCode, Number] = Field(max_length=MAX_ELEMENTS, description="By element code")
    formula: Annotated[str, Field(min_length=1, max_length=2_000)] | None = Field(
        default=None, description="A formula of your own over the system's elements, to try it out"
    )
    division_code: Annotated[str, Field(pattern=r"^[1-9][0-9]{5}$")] | None = Field(
        default=None, description="Judge the results against the standards that apply here"
    )
    stage: Stage | None = enum_field(default=None, description="… for this stage")


class Undefined(BaseModel):
    reason: str  # division_by_zero | missing_value | overflow
    detail: str


class Outcome(BaseModel):
    value: Decimal | None
    error: Undefined | None = None
    standard: StandardRead | None = None
    met: bool | None = None


class ElementOutcome(Outcome):
    element_code: str


class EvaluationRead(BaseModel):
    elements: list[ElementOutcome]
    formula: Outcome | None
