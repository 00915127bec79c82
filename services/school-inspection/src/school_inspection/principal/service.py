"""The rules of principal term evaluations. A failing grade is a finding that enters the escalation loop."""

from __future__ import annotations

from uuid import UUID

from dudao.auth.principal import Principal
from dudao.divisions.tree import DivisionTree
from dudao.errors import InvalidInput
from dudao.ids import uuid7
from dudao.rectification.models import OriginKind
from dudao.rectification.schemas import FindingCreate
from dudao.uow import UnitOfWork
from school_inspection.principal import repository
from school_inspection.principal.models import Grade, PrincipalEvaluation
from school_inspection.principal.schemas import EvaluationCreate, FailureRectification
from school_inspection.rectifications import rectifications
from school_inspection.school import service as schools
from school_inspection.school.models import School

FINDING_CATEGORY = "principal_evaluation"


class PrincipalUnnamed(InvalidInput):
    type = "principal-unnamed"
    title = "Name the principal: the school has none on record"


class TermNotStarted(InvalidInput):
    type = "term-not-started"
    title = "A term that has not started cannot be evaluated"


def _finding(school: School, evaluation: PrincipalEvaluation, spec: FailureRectification) -> FindingCreate:
    description = (
        f"校长{evaluation.principal_name}任期（{evaluation.term_start}至{evaluation.term_end}）履职评价不合格"
        f"（评价：{evaluation.evaluator}）"
    )
    if evaluation.comments:
        description += f"：{evaluation.comments}"
    return FindingCreate(
        unit=schools.supervised_unit(school, spec.competent_department),
        origin_kind=OriginKind.EVALUATION,
        origin_ref=f"principal-evaluation/{evaluation.id}",
        category=FINDING_CATEGORY,
        severity=spec.severity,
        description=description[:10_000],
        requirement=spec.requirement,
        deadline=spec.deadline,
    )


async def evaluate(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, school_id: UUID, body: EvaluationCreate
) -> PrincipalEvaluation:
    school = await schools.get(uow, who, school_id)
    name = body.principal_name or school.principal_name
    if name is None:
        raise PrincipalUnnamed("Send principal_name, or record the school's principal first")
    if body.term_start > uow.clock.today():
        raise TermNotStarted(f"The term starts on {body.term_start}")
    evaluation = PrincipalEvaluation(
        id=uuid7(),
        school_id=school.id,
        division_code=school.division_code,
        principal_name=name,
        term_start=body.term_start,
        term_end=body.term_end,
        evaluator=body.evaluator,
        scores=body.scores,
        grade=body.grade,
        comments=body.comments,
        evaluated_by=who.sub,
        created_at=uow.clock.now(),
    )
    if body.grade is Grade.FAIL:
        spec = body.rectification or FailureRectification()
        rectification = await rectifications.service.raise_finding(
            uow, who, divisions, _finding(school, evaluation, spec)
        )
        evaluation.rectification_id = rectification.id
    await repository.add(uow.session, evaluation)
    uow.record(
        "principal_evaluation.recorded",
        "principal_evaluation",
        evaluation.id,
        evaluation.division_code,
        school_id=str(school.id),
        grade=evaluation.grade.value,
    )
    return evaluation


async def page(
    uow: UnitOfWork, who: Principal, school_id: UUID, *, after: UUID | None, limit: int
) -> list[PrincipalEvaluation]:
    school = await schools.get(uow, who, school_id)
    return await repository.page_for_school(uow.session, school.id, after=after, limit=limit + 1)
