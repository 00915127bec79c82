"""API shapes of duty evaluation. Strict: ``false`` is not a number and ``"3"`` is not an enum member."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from dudao.evidence.schemas import EvidenceIds
from dudao.rectification.models import UnitKind
from dudao.schemas import StrictModel, Uuid, enum_field
from governance.evaluation.models import EvaluationStatus, Grade, ItemKind, RoundStatus, ScoringMethod

Code = Annotated[str, Field(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Notes = Annotated[str, Field(min_length=1, max_length=10_000)]
PointsIn = Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)]
Year = Annotated[int, Field(ge=2000, le=2100)]


class ScoringRule(StrictModel):
    """How an item's points are given (评分规则); the service checks that the parts fit the method."""

    method: ScoringMethod = enum_field()
    step: float | None = Field(
        default=None, gt=0, le=100, allow_inf_nan=False, description="proportional: points in steps of this"
    )
    per_issue: float | None = Field(
        default=None, gt=0, le=100, allow_inf_nan=False, description="deduction: points off per issue found"
    )


class SchemeItem(StrictModel):
    code: Code
    name: Name
    kind: ItemKind = enum_field(default=ItemKind.INDICATOR)
    max_points: float = Field(gt=0, le=1000, allow_inf_nan=False)
    scoring: ScoringRule
    criteria: str = Field(min_length=1, max_length=2_000, description="评分标准: how points are earned")
    evidence_required: list[Name] = Field(
        default_factory=list, max_length=20, description="The evidence a self-evaluation of it must attach"
    )


class SchemeArea(StrictModel):
    """A content area of 二(三), carrying ``weight`` points of the scheme's total."""

    code: Code
    name: Name
    weight: float = Field(gt=0, le=1000, allow_inf_nan=False)
    items: list[SchemeItem] = Field(min_length=1, max_length=50)


class GradeBand(StrictModel):
    grade: Grade = enum_field()
    min_score: float = Field(gt=0, le=1000, allow_inf_nan=False)


class SchemeContent(StrictModel):
    areas: list[SchemeArea] = Field(min_length=1, max_length=30)
    grade_bands: list[GradeBand] = Field(
        min_length=3,
        max_length=3,
        description="The lowest score of excellent, good and pass, highest first; anything below is a fail",
    )


class SchemeCreate(SchemeContent):
    key: str = Field(
        min_length=1,
        max_length=60,
        pattern=r"^[a-z][a-z0-9-]*$",
        description="A new key starts a scheme; an existing one records its next edition",
    )
    name: Name


AREAS = TypeAdapter(list[SchemeArea])
BANDS = TypeAdapter(list[GradeBand])


class SchemeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    key: str
    edition: int
    name: str
    office_division: str
    areas: list[SchemeArea]
    grade_bands: list[GradeBand]
    max_score: float
    created_by: str
    created_at: datetime


class SchemeSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    key: str
    edition: int
    name: str
    office_division: str
    max_score: float
    created_at: datetime


class SchemePage(BaseModel):
    items: list[SchemeSummary]
    next_cursor: str | None


class RoundCreate(StrictModel):
    year: Year
    title: Name
    scheme_id: Uuid
    self_evaluation_due: date = Field(
        strict=False, description="ISO date; the units' self-evaluations by then"
    )
    unit_ids: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        min_length=1,
        max_length=200,
        description="Registered units: governments one level below the office, departments of its own level",
    )


class RoundRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    office_division: str
    year: int
    title: str
    scheme_id: UUID
    self_evaluation_due: date
    status: RoundStatus
    published_at: datetime | None
    created_by: str
    version: int
    created_at: datetime
    updated_at: datetime


class RoundPage(BaseModel):
    items: list[RoundRead]
    next_cursor: str | None


class ItemScore(StrictModel):
    """Points for one item: ``points`` for a proportional or all-or-nothing item, ``issues`` for a
    deduction item."""

    item_code: Code
    points: PointsIn | None = None
    issues: int | None = Field(default=None, ge=0, le=1000)
    notes: Notes | None = None


class SelfAssessedItem(ItemScore):
    evidence_ids: EvidenceIds = Field(default_factory=list)


class SelfEvaluationWrite(StrictModel):
    """The unit's self-evaluation (自评): every item of the scheme, once."""

    items: list[SelfAssessedItem] = Field(min_length=1, max_length=500)


class ScoresWrite(StrictModel):
    """The office's points (评分): every item of the scheme, once."""

    items: list[ItemScore] = Field(min_length=1, max_length=500)


class ReviewOpen(StrictModel):
    """The review by the supervision procedure: its plan and dates (the checklist is the scheme's items)."""

    plan: Notes
    starts_on: date = Field(strict=False)
    ends_on: date = Field(strict=False)


class Conclusion(StrictModel):
    feedback: Notes = Field(description="The feedback (反馈) to the unit, item by item")


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    item_code: str
    self_points: float | None
    self_issues: int | None
    self_notes: str | None
    evidence_ids: list[UUID]
    points: float | None
    issues: int | None
    review_notes: str | None


class EvaluationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    round_id: UUID
    year: int
    office_division: str
    unit_id: str
    unit_kind: UnitKind
    unit_name: str
    competent_department: str | None
    division_code: str
    status: EvaluationStatus
    supervision_id: UUID | None
    self_score: float | None
    score: float | None
    grade: Grade | None
    targets_missed: list[str]
    feedback: str | None
    self_evaluated_at: datetime | None
    scored_at: datetime | None
    concluded_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class EvaluationDetail(EvaluationRead):
    items: list[ItemRead]


class EvaluationPage(BaseModel):
    items: list[EvaluationRead]
    next_cursor: str | None


class PublicResult(BaseModel):
    """A published result (二七), as the government portal shows it: nothing more."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    round_id: UUID
    year: int
    round_title: str
    office_division: str
    unit_id: str
    unit_name: str
    unit_kind: UnitKind
    division_code: str
    score: float
    grade: Grade


class PublicResultPage(BaseModel):
    items: list[PublicResult]
    next_cursor: str | None
