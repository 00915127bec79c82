"""API shapes of double-random draws."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dudao.schemas import DivisionCode, StrictModel, Uuid
from school_inspection.draw.algorithm import MIN_SEED_LENGTH
from school_inspection.draw.models import DrawStatus
from school_inspection.school.models import SchoolType

SeedHash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the seed, lowercase hex")]


class DrawCommit(StrictModel):
    """Commit to a seed (by its hash) and freeze the candidate pools."""

    division_code: DivisionCode = Field(description="Draw among this division's schools and inspectors")
    purpose: str = Field(min_length=1, max_length=200, examples=["2026年春季学期随机督导"])
    school_count: int = Field(ge=1, le=1000, description="N: schools to draw")
    inspector_count: int = Field(ge=1, le=100, description="M: inspectors to draw")
    seed_hash: SeedHash
    school_types: list[SchoolType] | None = Field(
        default=None, min_length=1, description="Only schools of these types; omitted: every school"
    )
    inspector_ids: list[Uuid] | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="The inspectors to draw from, each able to serve today; omitted: every inspector of the "
        "division who may serve today (appointed, within a term if part-time, pre-service trained)",
    )


class DrawReveal(StrictModel):
    seed: str = Field(min_length=MIN_SEED_LENGTH, max_length=256)


class DrawSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    division_code: str
    purpose: str
    school_types: list[SchoolType] | None
    school_count: int
    inspector_count: int
    seed_hash: str
    nonce: str
    status: DrawStatus
    seed: str | None
    drawn_school_ids: list[UUID] | None
    drawn_inspector_ids: list[UUID] | None
    void_reason: str | None
    committed_by: str
    committed_at: datetime
    revealed_by: str | None
    revealed_at: datetime | None
    version: int


class DrawRead(DrawSummary):
    """Everything needed to re-run the draw (see school_inspection/draw/algorithm.py)."""

    school_pool: list[UUID]
    inspector_pool: list[UUID]
    excluded_pairs: list[list[UUID]] = Field(
        description="[inspector id, school id] pairs never drawn together"
    )


class DrawPage(BaseModel):
    items: list[DrawSummary]
    next_cursor: str | None


class DrawVerification(BaseModel):
    draw_id: UUID
    seed_matches_hash: bool
    recomputed_school_ids: list[UUID]
    recomputed_inspector_ids: list[UUID]
    recomputed_void_reason: str | None
    matches: bool = Field(description="The recomputed draw equals the stored one")
    algorithm: str = Field(description="Where the algorithm is written down, to run it yourself")
