"""HTTP for principal term evaluations (校长任期履职评价)."""

from __future__ import annotations

from uuid import UUID

from dudao.errors import problems
from dudao.http.dependencies import UoW
from dudao.http.params import Inspecting, Office, Rt
from dudao.http.routing import transactional_router
from dudao.pagination import Cursor, Limit, decode_cursor, page_of
from dudao.rectification.service import OutsideJurisdiction
from school_inspection.principal import service
from school_inspection.principal.schemas import EvaluationCreate, EvaluationPage, EvaluationRead
from school_inspection.school.service import SchoolNotFound

router = transactional_router(prefix="/v1/schools/{school_id}/principal-evaluations", tags=["principals"])


@router.post(
    "",
    status_code=201,
    response_model=EvaluationRead,
    responses=problems(SchoolNotFound, service.PrincipalUnnamed, service.TermNotStarted, OutsideJurisdiction),
)
async def evaluate_principal(
    school_id: UUID,
    body: EvaluationCreate,
    uow: UoW,
    who: Office,
    rt: Rt,
) -> EvaluationRead:
    """Record a principal's term evaluation with per-dimension scores (0–100) and an overall grade.

    A ``fail`` grade raises a finding (category ``principal_evaluation``) at the school, whose
    rectification enters the escalation loop; its id is ``rectification_id``.
    """
    return EvaluationRead.model_validate(await service.evaluate(uow, who, rt.divisions, school_id, body))


@router.get("", response_model=EvaluationPage, responses=problems(SchoolNotFound))
async def list_evaluations(
    school_id: UUID, uow: UoW, who: Inspecting, cursor: Cursor = None, limit: Limit = 50
) -> EvaluationPage:
    """A school's principal evaluations, oldest first; 404 for a school outside your jurisdiction."""
    rows = await service.page(uow, who, school_id, after=decode_cursor(cursor), limit=limit)
    return page_of(EvaluationPage, EvaluationRead, rows, limit)
