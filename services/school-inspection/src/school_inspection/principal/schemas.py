"""API shapes of principal term evaluations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from dudao.calendar.schemas import IsoDate
from dudao.rectification.models import Severity
from dudao.rectification.schemas import DeadlineSpec
from dudao.schemas import StrictModel, enum_field
from school_inspection.principal.models import Grade
from school_inspection.school.schemas import PersonName

Score = Annotated[int, Field(ge=0, le=100)]
Dimension = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,59}$")]
Text = Annotated[str, Field(min_length=1, max_length=10_000)]


class FailureRectification(StrictModel):
    """How the finding a failing grade raises is to be rectified; every field has a default."""

    requirement: Text = "按照校长任期履职评价意见限期整改，并报送整改报告"
    deadline: DeadlineSpec = Field(default_factory=lambda: DeadlineSpec(days=30))
    severity: Severity = enum_field(default=Severity.MAJOR)
    competent_department: str | None = Field(default=None, min_length=1, max_length=200)


class EvaluationCreate(StrictModel):
    principal_name: PersonName | None = Field(default=None, description="Default: the school's principal")
    term_start: IsoDate
    term_end: IsoDate
    evaluator: str = Field(min_length=1, max_length=200, description="The body or panel that evaluated")
    scores: dict[Dimension, Score] = Field(
        min_length=1,
        max_length=20,
        description="Per dimension, 0–100, e.g. plan_development, school_culture, curriculum_teaching, "
        "teacher_growth, internal_management, external_environment (校长专业标准)",
    )
    grade: Grade = enum_field()
    comments: Text | None = None
    rectification: FailureRectification | None = Field(
        default=None, description="Only with grade fail; defaults apply when left out"
    )

    @field_validator("term_end")
    @classmethod
    def _after_start(cls, term_end: date, info: ValidationInfo) -> date:
        start = info.data.get("term_start")
        if start is not None and term_end <= start:
            raise ValueError("must be after term_start")
        return term_end

    @field_validator("rectification")
    @classmethod
    def _only_when_failing(
        cls, rectification: FailureRectification | None, info: ValidationInfo
    ) -> FailureRectification | None:
        if rectification is not None and info.data.get("grade") is not Grade.FAIL:
            raise ValueError("applies only to grade fail")
        return rectification


class EvaluationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    school_id: UUID
    division_code: str
    principal_name: str
    term_start: date
    term_end: date
    evaluator: str
    scores: dict[str, int]
    grade: Grade
    comments: str | None
    rectification_id: UUID | None
    evaluated_by: str
    created_at: datetime


class EvaluationPage(BaseModel):
    items: list[EvaluationRead]
    next_cursor: str | None
