"""API shapes of early warning. Which fields a rule needs depends on its kind; the service says which is
missing or out of place, by name."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from dudao.calendar.schemas import Year
from dudao.rectification.models import Severity
from dudao.rectification.schemas import DeadlineSpec
from dudao.schemas import DivisionCode, StrictModel, enum_field
from monitoring.indicator.models import UnitKind
from monitoring.warning.models import AlertStatus, ChangeMode, Operator, OutlierMethod, RuleKind


def _json_number(value: Any) -> Any:
    # JSON numbers only: ``true`` is not 1 and ``"3"`` is not 3.
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError("must be a number")
    return Decimal(str(value))


Number = Annotated[Decimal, BeforeValidator(_json_number), Field(strict=False, allow_inf_nan=False)]
Expression = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2000,
        description="A formula over element codes (``teachers_above_qualification / pupils * 100``); "
        "``pupils`` is the unit's pupils over all stages",
    ),
]
RuleCode = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_.-]*$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]
Text = Annotated[str, Field(min_length=1, max_length=10_000)]


class RuleCreate(StrictModel):
    code: RuleCode
    name: Name
    division_code: DivisionCode | None = Field(
        default=None, description="The division it applies under; left out: your own"
    )
    system_key: str = Field(default="balanced-2017", min_length=1, max_length=60)
    unit_kind: UnitKind = enum_field()
    kind: RuleKind = enum_field()
    expression: Expression
    operator: Operator | None = enum_field(default=None, description="threshold, change, consistency")
    bound: Number | None = Field(
        default=None,
        description="threshold: the bound; change: the change (a fraction when relative); outlier: k; "
        "registry: the relative tolerance",
    )
    right_expression: Expression | None = Field(default=None, description="consistency: the right side")
    change_mode: ChangeMode | None = enum_field(default=None)
    outlier_method: OutlierMethod | None = enum_field(default=None)
    severity: Severity = enum_field(default=Severity.MINOR, description="Of the findings it leads to")
    active: bool = True


class RuleUpdate(StrictModel):
    """What may change; a rule's kind, unit and system stay (a different rule is a new one)."""

    name: Name | None = None
    expression: Expression | None = None
    operator: Operator | None = enum_field(default=None)
    bound: Number | None = None
    right_expression: Expression | None = None
    change_mode: ChangeMode | None = enum_field(default=None)
    outlier_method: OutlierMethod | None = enum_field(default=None)
    severity: Severity | None = enum_field(default=None)
    active: bool | None = None


class RuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    code: str
    name: str
    division_code: str
    system_key: str
    unit_kind: UnitKind
    kind: RuleKind
    expression: str
    operator: Operator | None
    bound: float | None
    right_expression: str | None
    change_mode: ChangeMode | None
    outlier_method: OutlierMethod | None
    severity: Severity
    active: bool
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime


class RulePage(BaseModel):
    items: list[RuleRead]
    next_cursor: str | None


class RuleSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    code: str
    name: str
    kind: RuleKind


class AlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    rule: RuleSummary
    system_id: UUID
    unit_kind: UnitKind
    unit_id: str
    division_code: str
    year: int
    period: str
    observed: float | None
    details: dict[str, Any]
    message: str
    status: AlertStatus
    dismissal_reason: str | None
    rectification_id: UUID | None
    decided_by: str | None
    decided_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class AlertPage(BaseModel):
    items: list[AlertRead]
    next_cursor: str | None


class AlertFinding(StrictModel):
    """The finding an alert becomes, at the school or the county's people's government."""

    requirement: Text = Field(description="整改要求")
    deadline: DeadlineSpec
    severity: Severity | None = enum_field(default=None, description="Left out: the rule's")
    description: Text | None = Field(default=None, description="Left out: the alert's message")
    competent_department: Name | None = Field(default=None, description="主管部门, jointly liable")


class AlertDismissal(StrictModel):
    reason: Reason


class EvaluationCreate(StrictModel):
    """Evaluate the rules now on a year's approved values within your jurisdiction (as each approval and
    the nightly run do)."""

    year: Year
    system_key: str = Field(default="balanced-2017", min_length=1, max_length=60)
    within: str | None = Field(default=None, pattern=r"^[1-9][0-9]{1,5}$")


class EvaluationRead(BaseModel):
    year: int
    system_key: str
    alerts_raised: int
