"""The rules of duty evaluation (履行教育职责评价, 二三). No SQL, no commit: the unit of work commits the
rows, their events and the audit entries together.

An office opens a round on an edition of a scheme for the units it evaluates: the region its departments
and the cities, a city its departments and its counties. Each unit evaluates itself item by item with
evidence; the office reviews it through the supervision procedure (whose opinion raises the findings into
the rectification loop), scores every item, and concludes with its feedback; publishing the round makes
the results public (二七) and tells accountability and the organisation departments (二十一).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast
from uuid import UUID

from sqlalchemy import RowMapping

from dudao.auth.principal import Principal
from dudao.contracts.governance import (
    DutyEvaluationConcluded,
    DutyEvaluationResult,
    DutyEvaluationRoundPublished,
)
from dudao.divisions.tree import DivisionTree
from dudao.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from dudao.etag import require_match
from dudao.evidence import service as evidence
from dudao.ids import uuid7
from dudao.rectification.models import UnitKind
from dudao.rectification.schemas import SupervisedUnit
from dudao.supervision.models import SupervisionKind, SupervisionStatus
from dudao.supervision.schemas import ChecklistItem, SupervisionCreate
from dudao.uow import UnitOfWork
from governance.evaluation import repository
from governance.evaluation.models import (
    DutyEvaluation,
    EvaluationRound,
    EvaluationScheme,
    EvaluationStatus,
    Grade,
    ItemKind,
    RoundStatus,
    ScoringMethod,
)
from governance.evaluation.schemas import (
    AREAS,
    BANDS,
    Conclusion,
    GradeBand,
    ItemScore,
    ReviewOpen,
    RoundCreate,
    SchemeArea,
    SchemeContent,
    SchemeCreate,
    SchemeItem,
    ScoresWrite,
    SelfEvaluationWrite,
)
from governance.supervisions import supervisions
from governance.unit.service import SupervisedUnitNotFound, UnknownSupervisedUnit, get_unit, lookup_unit

# Points are kept to two decimals; a float sum within this of the total is the total.
TOLERANCE = 1e-6
# The supervision statuses at which the opinion (督导意见书) has been issued and its findings raised.
OPINION_ISSUED = frozenset(
    {SupervisionStatus.OPINION_ISSUED, SupervisionStatus.REPORTED, SupervisionStatus.PUBLISHED}
)


class SchemeNotFound(NotFound):
    type = "evaluation-scheme-not-found"
    title = "No such evaluation scheme"


class InvalidScheme(InvalidInput):
    type = "invalid-evaluation-scheme"
    title = "The evaluation scheme does not add up"


class SchemeEditionTaken(Conflict):
    type = "evaluation-scheme-edition-taken"
    title = "Another edition of this scheme was recorded at the same time; read it and try again"


class NotTheSchemeOwner(Forbidden):
    type = "not-the-scheme-owner"
    title = "Only the office that defined a scheme records its next edition"


class RoundNotFound(NotFound):
    type = "evaluation-round-not-found"
    title = "No such evaluation round"


class InvalidRound(InvalidInput):
    type = "invalid-evaluation-round"
    title = "The round breaks a rule of duty evaluation"


class RoundYearTaken(Conflict):
    type = "evaluation-round-year-taken"
    title = "The office already has a round for this year"


class NotAnEvaluatingOffice(Forbidden):
    type = "not-an-evaluating-office"
    title = "Only the region's and the cities' offices evaluate governments and departments"


class EvaluationNotFound(NotFound):
    type = "duty-evaluation-not-found"
    title = "No such duty evaluation"


class NotTheEvaluatingOffice(Forbidden):
    type = "not-the-evaluating-office"
    title = "Only the office that runs the round may do this"


class NotTheUnit(Forbidden):
    type = "not-the-evaluated-unit"
    title = "Only the evaluated unit itself may do this"


class WrongStatus(Conflict):
    type = "duty-evaluation-wrong-status"
    title = "The evaluation or its round is not in a state that allows this"


class SelfEvaluationClosed(Conflict):
    type = "self-evaluation-closed"
    title = "The round's self-evaluations were due earlier"


class InvalidScores(InvalidInput):
    type = "invalid-evaluation-scores"
    title = "The points do not fit the scheme"


class ReviewNotFinished(Conflict):
    type = "review-not-finished"
    title = "The review's supervision opinion has not been issued yet"


class RoundNotConcluded(Conflict):
    type = "evaluation-round-not-concluded"
    title = "Every evaluation of the round must be concluded before it is published"


# Schemes ------------------------------------------------------------------------------------------------


def _check_rule(item: SchemeItem, at: str) -> None:
    rule = item.scoring
    if rule.method == ScoringMethod.DEDUCTION and rule.per_issue is None:
        raise field_error(
            InvalidScheme, f"{at}.scoring.per_issue", "a deduction item says how many points an issue costs"
        )
    if rule.method != ScoringMethod.DEDUCTION and rule.per_issue is not None:
        raise field_error(InvalidScheme, f"{at}.scoring.per_issue", "only a deduction item deducts per issue")
    if rule.step is not None and rule.method != ScoringMethod.PROPORTIONAL:
        raise field_error(InvalidScheme, f"{at}.scoring.step", "only a proportional item is scored in steps")
    if rule.step is not None and not _multiple(item.max_points, rule.step):
        raise field_error(
            InvalidScheme, f"{at}.scoring.step", f"{item.max_points} is not a number of steps of {rule.step}"
        )


def check_scheme(content: SchemeContent) -> float:
    """The scheme's maximum score, once its codes are unique, its rules whole and its bands ordered."""
    areas, items = set(), set()
    for a, area in enumerate(content.areas):
        if area.code in areas:
            raise field_error(InvalidScheme, f"areas.{a}.code", f"{area.code} names two areas")
        areas.add(area.code)
        for i, item in enumerate(area.items):
            at = f"areas.{a}.items.{i}"
            if item.code in items:
                raise field_error(InvalidScheme, f"{at}.code", f"{item.code} names two items")
            items.add(item.code)
            _check_rule(item, at)
    grades = [band.grade for band in content.grade_bands]
    if grades != [Grade.EXCELLENT, Grade.GOOD, Grade.PASS]:
        raise field_error(InvalidScheme, "grade_bands", "give excellent, good and pass, in that order")
    maximum = round(sum(area.weight for area in content.areas), 2)
    floors = [band.min_score for band in content.grade_bands]
    if not floors[0] > floors[1] > floors[2]:
        raise field_error(InvalidScheme, "grade_bands", "each band starts above the next")
    if floors[0] > maximum:
        raise field_error(InvalidScheme, "grade_bands.0.min_score", f"is above the maximum score {maximum}")
    return maximum


def _above(divisions: DivisionTree, who: Principal) -> list[str]:
    return [d.code for d in divisions.path(who.division)]


async def record_scheme(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: SchemeCreate
) -> dict[str, Any]:
    """A scheme's first edition, or with the key of an existing one its next: rounds already opened keep
    the edition they were opened on."""
    maximum = check_scheme(body)
    latest = await repository.latest_edition(uow.session, body.key)
    if latest is not None and latest.office_division != who.division:
        raise NotTheSchemeOwner(f"{body.key} is the scheme of the office of {latest.office_division}")
    row = {
        "id": uuid7(),
        "key": body.key,
        "edition": 1 if latest is None else latest.edition + 1,
        "name": body.name,
        "office_division": who.division,
        "areas": AREAS.dump_python(body.areas, mode="json"),
        "grade_bands": BANDS.dump_python(body.grade_bands, mode="json"),
        "max_score": maximum,
        "created_by": who.sub,
        "created_at": uow.clock.now(),
    }
    repository.add_scheme(
        uow,
        row,
        edition_taken=SchemeEditionTaken(f"Edition {row['edition']} of {body.key} was just recorded"),
    )
    uow.record(
        "evaluation_scheme.recorded",
        "evaluation_scheme",
        row["id"],
        who.division,
        key=body.key,
        edition=row["edition"],
    )
    return row


async def get_scheme(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, scheme_id: UUID
) -> EvaluationScheme:
    scheme = await repository.get_scheme(uow.session, who, _above(divisions, who), scheme_id)
    if scheme is None:
        raise SchemeNotFound(f"Evaluation scheme {scheme_id} does not exist")
    return scheme


async def scheme_page(
    uow: UnitOfWork,
    who: Principal,
    divisions: DivisionTree,
    *,
    after: UUID | None,
    limit: int,
    key: str | None,
) -> list[EvaluationScheme]:
    return await repository.scheme_page(
        uow.session, who, _above(divisions, who), after=after, limit=limit + 1, key=key
    )


@dataclass(frozen=True)
class Scheme:
    """An edition's data, read back as the shapes it was validated with."""

    areas: list[SchemeArea]
    bands: list[GradeBand]

    @classmethod
    def of(cls, scheme: EvaluationScheme) -> Scheme:
        return cls(AREAS.validate_python(scheme.areas), BANDS.validate_python(scheme.grade_bands))

    @property
    def items(self) -> list[SchemeItem]:
        return [item for area in self.areas for item in area.items]

    def total(self, awarded: Mapping[str, float]) -> float:
        """Each area carries its weight in proportion to the points its items earned."""
        return round(
            sum(
                area.weight * sum(awarded[i.code] for i in area.items) / sum(i.max_points for i in area.items)
                for area in self.areas
            ),
            2,
        )

    def grade(self, score: float) -> Grade:
        for band in self.bands:
            if score >= band.min_score - TOLERANCE:
                return band.grade
        return Grade.FAIL

    def targets_missed(self, awarded: Mapping[str, float]) -> list[str]:
        """The annual targets (年度目标任务) not fully met, by name."""
        return [
            i.name
            for i in self.items
            if i.kind == ItemKind.ANNUAL_TARGET and awarded[i.code] < i.max_points - TOLERANCE
        ]


def _multiple(value: float, step: float) -> bool:
    ratio = value / step
    return abs(ratio - round(ratio)) < TOLERANCE


def award(item: SchemeItem, score: ItemScore, at: str) -> float:
    """The points an item earns by its scoring rule (评分规则)."""
    rule = item.scoring
    if rule.method == ScoringMethod.DEDUCTION:
        if score.issues is None or score.points is not None:
            raise field_error(
                InvalidScores, f"{at}.issues", "a deduction item is scored by the issues found, not points"
            )
        assert rule.per_issue is not None  # check_scheme saw to it
        return round(max(0.0, item.max_points - score.issues * rule.per_issue), 2)
    if score.points is None or score.issues is not None:
        raise field_error(
            InvalidScores, f"{at}.points", f"give the points (at most {item.max_points}), not issues"
        )
    points = score.points
    if points > item.max_points + TOLERANCE:
        raise field_error(InvalidScores, f"{at}.points", f"{points} is above the item's {item.max_points}")
    if rule.method == ScoringMethod.ALL_OR_NOTHING and points not in (0, item.max_points):
        raise field_error(InvalidScores, f"{at}.points", f"this item earns {item.max_points} or nothing")
    if not _multiple(points, rule.step or 0.01):
        raise field_error(InvalidScores, f"{at}.points", f"points are given in steps of {rule.step or 0.01}")
    return round(points, 2)


def _by_item(scheme: Scheme, scores: Sequence[ItemScore]) -> dict[str, float]:
    """Every item of the scheme scored once: the points each earns."""
    items = {item.code: item for item in scheme.items}
    awarded: dict[str, float] = {}
    for n, score in enumerate(scores):
        at = f"items.{n}"
        item = items.get(score.item_code)
        if item is None:
            raise field_error(
                InvalidScores, f"{at}.item_code", f"{score.item_code} is not an item of the scheme"
            )
        if score.item_code in awarded:
            raise field_error(InvalidScores, f"{at}.item_code", f"{score.item_code} is scored twice")
        awarded[score.item_code] = award(item, score, at)
    missing = [code for code in items if code not in awarded]
    if missing:
        raise field_error(InvalidScores, "items", f"every item is scored; missing: {', '.join(missing)}")
    return awarded


# Rounds -------------------------------------------------------------------------------------------------


def _not_evaluable(divisions: DivisionTree, office: str, unit: SupervisedUnit) -> str | None:
    """Why the office may not evaluate the unit (二三), or None: the region evaluates its departments and
    the cities' governments, a city its departments and its counties' governments."""
    if unit.kind == UnitKind.DEPARTMENT:
        return None if unit.division_code == office else "a department is evaluated by its own level's office"
    division = divisions.get(unit.division_code)
    if unit.kind == UnitKind.GOVERNMENT and division is not None and division.parent_code == office:
        return None
    return "a government is evaluated by the office one level above it"


async def _evaluated_units(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, unit_ids: Sequence[str]
) -> list[SupervisedUnit]:
    units: list[SupervisedUnit] = []
    for n, unit_id in enumerate(unit_ids):
        at = f"unit_ids.{n}"
        if unit_id in unit_ids[:n]:
            raise field_error(InvalidRound, at, f"{unit_id} is named twice")
        try:
            unit = await lookup_unit(uow, who, divisions, unit_id)
        except SupervisedUnitNotFound:
            raise field_error(
                UnknownSupervisedUnit, at, f"{unit_id} is not a registered unit you can see"
            ) from None
        reason = _not_evaluable(divisions, who.division, unit)
        if reason is not None:
            raise field_error(InvalidRound, at, f"{unit.name}: {reason}")
        units.append(unit)
    return units


def _evaluation_rows(
    round_row: Mapping[str, Any], scheme: Scheme, units: Sequence[SupervisedUnit], now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    evaluations: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for unit in units:
        evaluation_id = uuid7()
        evaluations.append(
            {
                "id": evaluation_id,
                "round_id": round_row["id"],
                "year": round_row["year"],
                "office_division": round_row["office_division"],
                "unit_id": unit.id,
                "unit_kind": unit.kind,
                "unit_name": unit.name,
                "competent_department": unit.competent_department,
                "division_code": unit.division_code,
                "status": EvaluationStatus.AWAITING_SELF_EVALUATION,
                "supervision_id": None,
                "self_score": None,
                "score": None,
                "grade": None,
                "targets_missed": [],
                "feedback": None,
                "self_evaluated_at": None,
                "scored_at": None,
                "concluded_at": None,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        )
        items.extend(
            {
                "evaluation_id": evaluation_id,
                "item_code": item.code,
                "position": position,
                "self_points": None,
                "self_issues": None,
                "self_notes": None,
                "evidence_ids": [],
                "points": None,
                "issues": None,
                "review_notes": None,
            }
            for position, item in enumerate(scheme.items)
        )
    return evaluations, items


async def open_round(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: RoundCreate
) -> dict[str, Any]:
    """Open the office's round for the year, with one evaluation per unit awaiting its self-evaluation."""
    office = divisions.require(who.division)
    if office.level == "county":
        raise NotAnEvaluatingOffice(f"{office.name} is a county: its government is evaluated by its city")
    today = uow.clock.today()
    if body.year > today.year + 1:
        raise field_error(InvalidRound, "year", f"{body.year} is too far ahead")
    if body.self_evaluation_due < today:
        raise field_error(InvalidRound, "self_evaluation_due", f"{body.self_evaluation_due} has passed")
    found = await repository.get_scheme(uow.session, who, _above(divisions, who), body.scheme_id)
    if found is None:
        raise field_error(InvalidRound, "scheme_id", f"{body.scheme_id} is not a scheme your office may use")
    scheme = Scheme.of(found)
    units = await _evaluated_units(uow, who, divisions, body.unit_ids)
    now = uow.clock.now()
    row = {
        "id": uuid7(),
        "office_division": office.code,
        "year": body.year,
        "title": body.title,
        "scheme_id": found.id,
        "self_evaluation_due": body.self_evaluation_due,
        "status": RoundStatus.OPEN,
        "published_at": None,
        "created_by": who.sub,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    evaluations, items = _evaluation_rows(row, scheme, units, now)
    repository.add_round(
        uow,
        row,
        evaluations,
        items,
        year_taken=RoundYearTaken(f"{office.name} already has a round for {body.year}"),
    )
    uow.record(
        "evaluation_round.opened",
        "evaluation_round",
        row["id"],
        office.code,
        year=body.year,
        scheme_id=str(found.id),
        units=[u.id for u in units],
    )
    return row


async def get_round(
    uow: UnitOfWork, who: Principal, round_id: UUID, *, for_update: bool = False
) -> EvaluationRound:
    found = await repository.get_round(uow.session, who, round_id, for_update=for_update)
    if found is None:
        raise RoundNotFound(f"Evaluation round {round_id} does not exist")
    return found


async def round_page(uow: UnitOfWork, who: Principal, *, limit: int, **filters: Any) -> Sequence[RowMapping]:
    return await repository.round_page(uow.session, who, limit=limit + 1, **filters)


def _require_office_of(who: Principal, office_division: str) -> None:
    if who.division != office_division:
        raise NotTheEvaluatingOffice(f"The round is run by the office of {office_division}")


def result_of(evaluation: DutyEvaluation, open_rectifications: int) -> DutyEvaluationResult:
    assert evaluation.score is not None
    assert evaluation.grade is not None
    return DutyEvaluationResult(
        evaluation_id=str(evaluation.id),
        unit_id=evaluation.unit_id,
        unit_name=evaluation.unit_name,
        score=evaluation.score,
        grade=evaluation.grade.value,
        open_rectifications=open_rectifications,
    )


async def publish_round(
    uow: UnitOfWork, who: Principal, round_id: UUID, if_match: str | None
) -> EvaluationRound:
    """Publish every result of the round (二七), each with its rectification status (二十一)."""
    found = await get_round(uow, who, round_id, for_update=True)
    _require_office_of(who, found.office_division)
    require_match(if_match, found.id, found.version)
    if found.status != RoundStatus.OPEN:
        raise WrongStatus(f"The round is {found.status.value}")
    evaluations = await repository.lock_round_evaluations(uow.session, who, found.id)
    pending = [e.unit_name for e in evaluations if e.status != EvaluationStatus.CONCLUDED]
    if pending:
        raise RoundNotConcluded(f"Not concluded yet: {', '.join(pending)}")
    supervision_ids = [e.supervision_id for e in evaluations if e.supervision_id is not None]
    still_open = await repository.open_rectifications(uow.session, who, supervision_ids)
    now = uow.clock.now()
    repository.update_round(
        uow,
        {
            "id": found.id,
            "status": RoundStatus.PUBLISHED,
            "published_at": now,
            "updated_at": now,
            "version": found.version + 1,
        },
    )
    repository.update_evaluations(
        uow,
        (
            {"id": e.id, "status": EvaluationStatus.PUBLISHED, "updated_at": now, "version": e.version + 1}
            for e in evaluations
        ),
    )
    uow.record(
        "evaluation_round.published",
        "evaluation_round",
        found.id,
        found.office_division,
        results=len(evaluations),
    )
    uow.emit(
        DutyEvaluationRoundPublished(
            division=found.office_division,
            round_id=str(found.id),
            year=found.year,
            title=found.title,
            results=[
                result_of(e, still_open.get(e.supervision_id, 0) if e.supervision_id else 0)
                for e in evaluations
            ],
            published_at=now,
        )
    )
    await uow.flush()
    return await get_round(uow, who, found.id)


# Evaluations --------------------------------------------------------------------------------------------


async def get_evaluation(
    uow: UnitOfWork, who: Principal, evaluation_id: UUID, *, for_update: bool = False
) -> DutyEvaluation:
    found = await repository.get_evaluation(uow.session, who, evaluation_id, for_update=for_update)
    if found is None:
        raise EvaluationNotFound(f"Duty evaluation {evaluation_id} does not exist")
    return found


async def evaluation_page(
    uow: UnitOfWork, who: Principal, *, limit: int, **filters: Any
) -> Sequence[RowMapping]:
    return await repository.evaluation_page(uow.session, who, limit=limit + 1, **filters)


def _require_status(evaluation: DutyEvaluation, *allowed: EvaluationStatus) -> None:
    if evaluation.status not in allowed:
        wanted = " or ".join(s.value for s in allowed)
        raise WrongStatus(f"This needs the evaluation {wanted}; it is {evaluation.status.value}")


async def _changed(
    uow: UnitOfWork, who: Principal, evaluation: DutyEvaluation, **values: Any
) -> DutyEvaluation:
    """Write the evaluation's new values (and a new version), and read it back."""
    now = uow.clock.now()
    repository.update_evaluations(
        uow, [{"id": evaluation.id, **values, "updated_at": now, "version": evaluation.version + 1}]
    )
    await uow.flush()
    return await get_evaluation(uow, who, evaluation.id)


async def _by_its_office(
    uow: UnitOfWork, who: Principal, evaluation_id: UUID, if_match: str | None
) -> DutyEvaluation:
    evaluation = await get_evaluation(uow, who, evaluation_id, for_update=True)
    _require_office_of(who, evaluation.office_division)
    require_match(if_match, evaluation.id, evaluation.version)
    return evaluation


async def self_evaluate(
    uow: UnitOfWork, who: Principal, evaluation_id: UUID, if_match: str | None, body: SelfEvaluationWrite
) -> DutyEvaluation:
    """The unit's self-evaluation (自评): points per item, with the evidence each item requires. It may
    be sent again until the review opens."""
    evaluation = await get_evaluation(uow, who, evaluation_id, for_update=True)
    if who.org != evaluation.unit_id:
        raise NotTheUnit(f"Submit as the unit {evaluation.unit_id} (your token's org claim)")
    require_match(if_match, evaluation.id, evaluation.version)
    _require_status(evaluation, EvaluationStatus.AWAITING_SELF_EVALUATION, EvaluationStatus.SELF_EVALUATED)
    due = evaluation.round.self_evaluation_due
    if uow.clock.today() > due:
        raise SelfEvaluationClosed(f"Self-evaluations were due by {due.isoformat()}")
    scheme = Scheme.of(evaluation.round.scheme)
    awarded = _by_item(scheme, body.items)
    items = {item.code: item for item in scheme.items}
    for n, assessed in enumerate(body.items):
        needed = items[assessed.item_code].evidence_required
        if needed and not assessed.evidence_ids:
            raise field_error(
                InvalidScores, f"items.{n}.evidence_ids", f"attach the evidence: {'；'.join(needed)}"
            )
    await evidence.require_usable(uow, who, [e for a in body.items for e in a.evidence_ids])
    repository.update_items(
        uow,
        (
            {
                "evaluation_id": evaluation.id,
                "item_code": a.item_code,
                "self_points": awarded[a.item_code],
                "self_issues": a.issues,
                "self_notes": a.notes,
                "evidence_ids": a.evidence_ids,
            }
            for a in body.items
        ),
    )
    self_score = scheme.total(awarded)
    uow.record(
        "duty_evaluation.self_evaluated",
        "duty_evaluation",
        evaluation.id,
        evaluation.division_code,
        self_score=self_score,
    )
    return await _changed(
        uow,
        who,
        evaluation,
        status=EvaluationStatus.SELF_EVALUATED,
        self_score=self_score,
        self_evaluated_at=uow.clock.now(),
    )


async def open_review(
    uow: UnitOfWork,
    who: Principal,
    divisions: DivisionTree,
    evaluation_id: UUID,
    if_match: str | None,
    body: ReviewOpen,
) -> DutyEvaluation:
    """Review the self-evaluation by the supervision procedure: a comprehensive supervision of the unit,
    its checklist the scheme's items; its opinion raises the findings."""
    evaluation = await _by_its_office(uow, who, evaluation_id, if_match)
    _require_status(evaluation, EvaluationStatus.SELF_EVALUATED)
    scheme = Scheme.of(evaluation.round.scheme)
    supervision = await supervisions.service.open(
        uow,
        who,
        divisions,
        SupervisionCreate(
            kind=SupervisionKind.COMPREHENSIVE,
            title=f"{evaluation.year}年度{evaluation.unit_name}履行教育职责评价",
            unit_ids=[evaluation.unit_id],
            plan=body.plan,
            checklist=[ChecklistItem(code=item.code, text=item.name) for item in scheme.items],
            starts_on=body.starts_on,
            ends_on=body.ends_on,
        ),
        ref=f"duty-evaluation:{evaluation.id}",
    )
    uow.record(
        "duty_evaluation.review_opened",
        "duty_evaluation",
        evaluation.id,
        evaluation.division_code,
        supervision_id=str(supervision.id),
    )
    return await _changed(
        uow, who, evaluation, status=EvaluationStatus.UNDER_REVIEW, supervision_id=supervision.id
    )


async def score(
    uow: UnitOfWork, who: Principal, evaluation_id: UUID, if_match: str | None, body: ScoresWrite
) -> DutyEvaluation:
    """The office's points per item (评分), the total and the grade from the scheme's bands; they may be
    given again until the evaluation is concluded."""
    evaluation = await _by_its_office(uow, who, evaluation_id, if_match)
    _require_status(evaluation, EvaluationStatus.UNDER_REVIEW, EvaluationStatus.SCORED)
    scheme = Scheme.of(evaluation.round.scheme)
    awarded = _by_item(scheme, body.items)
    repository.update_items(
        uow,
        (
            {
                "evaluation_id": evaluation.id,
                "item_code": s.item_code,
                "points": awarded[s.item_code],
                "issues": s.issues,
                "review_notes": s.notes,
            }
            for s in body.items
        ),
    )
    total = scheme.total(awarded)
    grade = scheme.grade(total)
    uow.record(
        "duty_evaluation.scored",
        "duty_evaluation",
        evaluation.id,
        evaluation.division_code,
        score=total,
        grade=grade.value,
    )
    return await _changed(
        uow,
        who,
        evaluation,
        status=EvaluationStatus.SCORED,
        score=total,
        grade=grade,
        targets_missed=scheme.targets_missed(awarded),
        scored_at=uow.clock.now(),
    )


async def conclude(
    uow: UnitOfWork, who: Principal, evaluation_id: UUID, if_match: str | None, body: Conclusion
) -> DutyEvaluation:
    """Conclude with the feedback, once the review's opinion has raised its findings: accountability acts
    on a fail, a missed annual target and an excellent result."""
    evaluation = await _by_its_office(uow, who, evaluation_id, if_match)
    _require_status(evaluation, EvaluationStatus.SCORED)
    # A scored evaluation was reviewed and has its score and grade (the table's checks say so too).
    assert evaluation.supervision_id is not None
    assert evaluation.score is not None
    assert evaluation.grade is not None
    supervision = await supervisions.service.get(uow, who, evaluation.supervision_id)
    if supervision.status not in OPINION_ISSUED:
        raise ReviewNotFinished(
            f"The supervision {supervision.id} is {supervision.status.value}; "
            "issue its opinion (督导意见书) first"
        )
    still_open = await repository.open_rectifications(uow.session, who, [evaluation.supervision_id])
    unit = await get_unit(uow, who, evaluation.unit_id)
    now = uow.clock.now()
    uow.record(
        "duty_evaluation.concluded",
        "duty_evaluation",
        evaluation.id,
        evaluation.division_code,
        score=evaluation.score,
        grade=evaluation.grade.value,
    )
    uow.emit(
        DutyEvaluationConcluded(
            division=evaluation.division_code,
            evaluation_id=str(evaluation.id),
            round_id=str(evaluation.round_id),
            year=evaluation.year,
            office_division=evaluation.office_division,
            unit_id=evaluation.unit_id,
            unit_kind=cast(Literal["government", "department"], evaluation.unit_kind.value),
            unit_name=evaluation.unit_name,
            responsible_person=unit.responsible_person,
            score=evaluation.score,
            grade=evaluation.grade.value,
            targets_missed=evaluation.targets_missed,
            open_rectifications=still_open[evaluation.supervision_id],
            concluded_at=now,
        )
    )
    return await _changed(
        uow, who, evaluation, status=EvaluationStatus.CONCLUDED, feedback=body.feedback, concluded_at=now
    )


async def public_page(uow: UnitOfWork, *, limit: int, **filters: Any) -> Sequence[RowMapping]:
    return await repository.public_page(uow.session, limit=limit + 1, **filters)
