"""The rules of data collection. No SQL, no commit.

Who submits: a school's own people (``supervised_unit``, ``org`` = the school code) for their school; an
office for any unit within its jurisdiction; an agency's key (``agency``) for the units of its
commission. A submission names its unit by code: a school by its school code, a county by its division
code (the values keep the school's roster id as ``unit_id``, as every computation reads them).

Approval goes county office → city office → region office (a county's own data starts at the city);
any level returns it with comments, the resubmission starts again at the first level, and the region's
approval writes the values as the approved ones and emits ``SubmissionApproved``.

One path for one unit and for 100,000 values: rows are checked as a set (units, jurisdiction, states,
validation rules), every bad cell named, and written with one statement per table.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import RowMapping

from dudao.auth.principal import Principal, Role
from dudao.contracts.monitoring import CollectionDueSoon, SubmissionApproved, SubmissionReturned
from dudao.divisions.tree import DivisionTree, InvalidDivisionCode, jurisdiction_prefix
from dudao.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from dudao.etag import require_match
from dudao.ids import uuid7
from dudao.jurisdiction import require_within
from dudao.rectification.models import DeadlineKind, OriginKind, Severity
from dudao.rectification.models import UnitKind as FindingUnitKind
from dudao.rectification.schemas import DeadlineSpec, FindingCreate, SupervisedUnit
from dudao.uow import UnitOfWork
from monitoring.agency import service as agency
from monitoring.collection import repository
from monitoring.collection.importing import RowError, UnitRow
from monitoring.collection.models import (
    APPROVED_AT,
    LEVELS,
    CollectionTask,
    ReviewDecision,
    ReviewLevel,
    RuleKind,
    Submission,
    SubmissionReview,
    SubmissionStatus,
    ValidationRule,
    awaiting,
)
from monitoring.collection.schemas import BatchReviewCreate, ReviewCreate, TaskCreate
from monitoring.indicator import service as indicators
from monitoring.indicator.models import ElementKind, UnitKind
from monitoring.rectifications import rectifications

# A rejected submission names at most this many bad cells (and says how many there were).
ERRORS_SHOWN = 1_000


class TaskNotFound(NotFound):
    type = "collection-task-not-found"
    title = "No such collection task"


class SubmissionNotFound(NotFound):
    type = "submission-not-found"
    title = "No such submission"


class UnknownSystem(InvalidInput):
    type = "unknown-indicator-system"
    title = "No such indicator system, or it has no data elements"


class SubmissionRejected(InvalidInput):
    type = "submission-rejected"
    title = "Nothing was submitted: the data has bad cells"


class NotYourLevel(Conflict):
    type = "submission-not-at-your-level"
    title = "The submission does not await your level's review"


class NotAReviewer(Forbidden):
    type = "not-a-reviewing-level"
    title = "Your office's level does not review this task's submissions"


class SubmissionTaken(Conflict):
    type = "submission-taken"
    title = "The unit's submission was made meanwhile; read it and submit again"


# ---- approval by level -----------------------------------------------------------------------------

# Statuses from which the unit may submit again.
OPEN_TO_SUBMIT = frozenset({SubmissionStatus.SUBMITTED, SubmissionStatus.RETURNED})


def _status_awaiting(unit_kind: UnitKind, level: ReviewLevel) -> SubmissionStatus:
    levels = LEVELS[unit_kind]
    index = levels.index(level)
    return SubmissionStatus.SUBMITTED if index == 0 else APPROVED_AT[levels[index - 1]]


def _reviewing_level(divisions: DivisionTree, who: Principal, unit_kind: UnitKind) -> ReviewLevel:
    level = ReviewLevel(divisions.require(who.division).level)
    if level not in LEVELS[unit_kind]:
        raise NotAReviewer(f"A {level.value} office does not review the submissions of {unit_kind.value}s")
    return level


# ---- tasks -----------------------------------------------------------------------------------------


def _rule_row(task_id: UUID, position: int, rule: Any) -> dict[str, Any]:
    return {
        "id": uuid7(),
        "task_id": task_id,
        "position": position,
        "kind": rule.kind,
        "element_code": rule.element,
        "minimum": rule.minimum,
        "maximum": rule.maximum,
        "operator": rule.operator,
        "right_element": rule.right_element,
        "right_value": rule.right_value,
        "factor": rule.factor,
        "message": rule.message,
    }


async def _asked_units(
    uow: UnitOfWork, divisions: DivisionTree, kind: UnitKind, division: str, codes: list[str]
) -> list[str]:
    """The unit ids of ``codes`` under ``division``; a unit not there is a 422 naming it."""
    prefix = jurisdiction_prefix(division)
    if kind == UnitKind.SCHOOL:
        schools = await repository.schools_by_code(uow.session, codes)
        ids = []
        for index, code in enumerate(codes):
            school = schools.get(code)
            if school is None or not school.division_code.startswith(prefix):
                raise field_error(InvalidInput, f"units.{index}", f"no school {code} under {division}")
            ids.append(str(school.school_id))
        return ids
    for index, code in enumerate(codes):
        county = divisions.get(code)
        if county is None or county.level != "county" or not code.startswith(prefix):
            raise field_error(InvalidInput, f"units.{index}", f"{code} is not a county under {division}")
    return codes


async def create_task(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: TaskCreate
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Issue a task with its form and rules: the rows as they will be written at commit."""
    division = body.division_code or who.division
    try:
        divisions.require(division)
    except InvalidDivisionCode as exc:
        raise field_error(InvalidDivisionCode, "division_code", exc.detail) from None
    require_within(divisions, who, division)
    if body.due_on < uow.clock.today():
        raise field_error(InvalidInput, "due_on", "the deadline has passed")
    known = {e.code: e for e in await indicators.elements(uow, body.system_id)}
    if not known:
        raise field_error(UnknownSystem, "system_id", f"{body.system_id} is not an indicator system")
    for index, code in enumerate(body.elements):
        element = known.get(code)
        if element is None:
            raise field_error(InvalidInput, f"elements.{index}", f"{code} is not an element of the system")
        if element.kind != ElementKind.BASE or element.unit_kind != body.unit_kind:
            raise field_error(
                InvalidInput, f"elements.{index}", f"{code} is not a base element of a {body.unit_kind.value}"
            )
        if code in body.elements[:index]:
            raise field_error(InvalidInput, f"elements.{index}", f"{code} is asked twice")
    asked = set(body.elements)
    for index, rule in enumerate(body.rules):
        sides: tuple[tuple[str, str | None], ...] = (
            ("element", rule.element),
            ("right_element", rule.right_element),
        )
        for name, side in sides:
            if side is not None and side not in asked:
                raise field_error(InvalidInput, f"rules.{index}.{name}", f"{side} is not on the form")
    unit_ids = (
        None
        if body.units is None
        else await _asked_units(uow, divisions, body.unit_kind, division, body.units)
    )
    now = uow.clock.now()
    task: dict[str, Any] = {
        "id": uuid7(),
        "system_id": body.system_id,
        "name": body.name,
        "year": body.year,
        "unit_kind": body.unit_kind,
        "division_code": division,
        "scope_prefix": jurisdiction_prefix(division),
        "unit_ids": unit_ids,
        "element_codes": body.elements,
        "form": [
            {
                "code": code,
                "label": known[code].name,
                "unit": known[code].unit,
                "min_value": known[code].min_value,
                "max_value": known[code].max_value,
            }
            for code in body.elements
        ],
        "due_on": body.due_on,
        "remind_days": sorted(set(body.remind_days), reverse=True),
        "reminded_days": [],
        "overdue_noticed_at": None,
        "issued_by": who.sub,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    rules = [_rule_row(task["id"], i, r) for i, r in enumerate(body.rules)]
    repository.add_task(uow, task, rules)
    uow.record(
        "collection_task.issued",
        "collection_task",
        task["id"],
        division,
        system_id=str(body.system_id),
        year=body.year,
        elements=len(body.elements),
    )
    return task, rules


async def get_task(uow: UnitOfWork, who: Principal, task_id: UUID) -> CollectionTask:
    task = await repository.get_task(uow.session, who, task_id)
    if task is None:
        raise TaskNotFound(f"Collection task {task_id} does not exist")
    return task


async def rules_of(uow: UnitOfWork, task: CollectionTask) -> list[ValidationRule]:
    return await repository.rules_of(uow.session, task.id)


async def page_tasks(
    uow: UnitOfWork,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    year: int | None,
    updated_since: datetime | None,
) -> Sequence[RowMapping]:
    return await repository.page_tasks(
        uow.session, who, after=after, limit=limit + 1, year=year, updated_since=updated_since
    )


# ---- validation rules, over a whole set of rows ------------------------------------------------------

_COMPARE: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    "=": operator.eq,
    ">=": operator.ge,
    ">": operator.gt,
    "!=": operator.ne,
}


def _rule_errors(rule: ValidationRule, rows: Sequence[UnitRow]) -> list[RowError]:
    code = rule.element_code
    errors: list[RowError] = []
    if rule.kind == RuleKind.REQUIRED:
        reason = rule.message or "is required"
        return [RowError(r.row, code, reason) for r in rows if r.values.get(code) is None]
    if rule.kind == RuleKind.RANGE:
        low, high = rule.minimum, rule.maximum
        for r in rows:
            value = r.values.get(code)
            if value is not None and (
                (low is not None and value < low) or (high is not None and value > high)
            ):
                bounds = f"{'' if low is None else low} … {'' if high is None else high}"
                errors.append(RowError(r.row, code, rule.message or f"{value} is outside {bounds}"))
        return errors
    assert rule.operator is not None
    compare = _COMPARE[rule.operator]
    factor = rule.factor if rule.factor is not None else Decimal(1)
    for r in rows:
        left = r.values.get(code)
        right = r.values.get(rule.right_element) if rule.right_element is not None else rule.right_value
        # A blank side is for the required rules to refuse; a comparison with it says nothing.
        if left is None or right is None or compare(left, right * factor):
            continue
        side = rule.right_element or str(rule.right_value)
        shown = f"{side} × {factor}" if rule.factor is not None else side
        errors.append(RowError(r.row, code, rule.message or f"must be {rule.operator} {shown} ({left})"))
    return errors


def _form_errors(task: CollectionTask, rows: Sequence[UnitRow]) -> list[RowError]:
    """Cells the form does not have, and values outside their element's valid range."""
    errors: list[RowError] = []
    form = {f["code"]: f for f in task.form}
    for r in rows:
        for code in r.values.keys() - form.keys():
            errors.append(RowError(r.row, code, "is not an element of this task's form"))
    for code, field in form.items():
        low = None if field["min_value"] is None else Decimal(str(field["min_value"]))
        high = None if field["max_value"] is None else Decimal(str(field["max_value"]))
        if low is None and high is None:
            continue
        for r in rows:
            value = r.values.get(code)
            if value is not None and (
                (low is not None and value < low) or (high is not None and value > high)
            ):
                errors.append(RowError(r.row, code, f"{value} is outside the element's range {low} … {high}"))
    return errors


def check(task: CollectionTask, rules: Sequence[ValidationRule], rows: Sequence[UnitRow]) -> list[RowError]:
    """Every bad cell of ``rows`` by the task's form and rules."""
    errors = _form_errors(task, rows)
    for rule in rules:
        errors += _rule_errors(rule, rows)
    return errors


# ---- submitting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    id: str  # the roster id of a school, the code of a county
    code: str
    division_code: str


# Whether an agency's commission covers a unit.
Admits = Callable[[Unit], bool]


@dataclass(frozen=True)
class Submitted:
    units: int
    values: int
    created: int
    resubmitted: int
    submissions: list[dict[str, Any]]


def reject(errors: list[RowError]) -> SubmissionRejected:
    errors.sort(key=lambda e: (e.row, e.column or ""))
    shown = [{"row": e.row, "column": e.column, "reason": e.reason} for e in errors[:ERRORS_SHOWN]]
    return SubmissionRejected(
        f"{len(errors)} error(s); fix them and send the whole submission again",
        errors=shown,
        error_count=len(errors),
    )


async def _units(
    uow: UnitOfWork,
    divisions: DivisionTree,
    who: Principal,
    task: CollectionTask,
    rows: Sequence[UnitRow],
    admits: Admits | None,
) -> tuple[dict[str, Unit], list[RowError]]:
    """The unit of each row's code, or an error naming the row's ``unit`` cell."""
    errors: list[RowError] = []
    found: dict[str, Unit] = {}
    codes = [r.unit for r in rows]
    if task.unit_kind == UnitKind.SCHOOL:
        schools = await repository.schools_by_code(uow.session, codes)
        for code, school in schools.items():
            found[code] = Unit(str(school.school_id), code, school.division_code)
    else:
        for code in codes:
            county = divisions.get(code)
            if county is not None and county.level == "county":
                found[code] = Unit(code, code, code)
    asked = None if task.unit_ids is None else set(task.unit_ids)
    own_only = who.org if _submits_for_itself(who) else None
    first: dict[str, int] = {}
    units: dict[str, Unit] = {}
    for r in rows:
        unit = found.get(r.unit)
        if r.unit in first:
            errors.append(RowError(r.row, "unit", f"also on row {first[r.unit]}"))
            continue
        first[r.unit] = r.row
        if unit is None:
            errors.append(
                RowError(r.row, "unit", f"{r.unit} is not a {task.unit_kind.value} monitoring knows")
            )
        elif not unit.division_code.startswith(task.scope_prefix) or (
            asked is not None and unit.id not in asked
        ):
            errors.append(RowError(r.row, "unit", f"{r.unit} is not asked by this task"))
        elif own_only is not None and r.unit != own_only:
            errors.append(RowError(r.row, "unit", "a school submits its own data only"))
        elif not who.can_see(unit.division_code):
            errors.append(RowError(r.row, "unit", f"{r.unit} is outside your jurisdiction"))
        elif admits is not None and not admits(unit):
            errors.append(RowError(r.row, "unit", f"{r.unit} is outside your commission"))
        else:
            units[r.unit] = unit
    return units, errors


def _submits_for_itself(who: Principal) -> bool:
    """A unit's own people (not an office, nor an agency) submit for their unit alone."""
    return Role.SUPERVISED_UNIT in who.roles and not who.has_any(Role.SUPERVISION_OFFICE, Role.AGENCY)


async def _commission_admits(uow: UnitOfWork, who: Principal, task: CollectionTask) -> Admits | None:
    """For an agency's key, which units its commission lets it write for (the commission must be in force
    and assess the task's indicator system, or nothing is written); None for anyone else."""
    if Role.AGENCY not in who.roles or who.has_any(Role.SUPERVISION_OFFICE):
        return None
    commission = await agency.require_commission(uow, who, system_id=task.system_id)
    return lambda unit: agency.covers(commission, division_code=unit.division_code, unit_id=unit.id)


async def submit(
    uow: UnitOfWork,
    who: Principal,
    divisions: DivisionTree,
    task: CollectionTask,
    rows: Sequence[UnitRow],
    parse_errors: Sequence[RowError] = (),
) -> Submitted:
    """Submit (or resubmit) the values of every row's unit: all rows, or none with every bad cell named
    (``parse_errors``, the cells a file's reading refused, with them).

    Each row is its unit's whole form: a blank cell clears the value submitted before.
    """
    if not rows and not parse_errors:
        raise reject([RowError(2, None, "there are no rows")])
    admits = await _commission_admits(uow, who, task)
    units, unit_errors = await _units(uow, divisions, who, task, rows, admits)
    rules = await repository.rules_of(uow.session, task.id)
    # A cell the reading refused is named once: a unit code or a number it could not read breaks no rule.
    unreadable = {(e.row, e.column) for e in parse_errors}
    errors = [*parse_errors]
    errors += [e for e in [*unit_errors, *check(task, rules, rows)] if (e.row, e.column) not in unreadable]
    existing = await repository.submissions_of_task(
        uow.session, task.id, [u.id for u in units.values()], for_update=True
    )
    by_unit = {u.id: r for r in rows if (u := units.get(r.unit)) is not None}
    for unit_id, submission in existing.items():
        if submission.status not in OPEN_TO_SUBMIT:
            errors.append(
                RowError(
                    by_unit[unit_id].row,
                    "unit",
                    f"its submission is {submission.status.value}; it can be submitted again once returned",
                )
            )
    if errors:
        raise reject(errors)

    now = uow.clock.now()
    # What every row of this submission shares, made once: a bulk submission builds 10,000 of them.
    state = {
        "status": SubmissionStatus.SUBMITTED,
        "comment": None,
        "submitted_at": now,
        "updated_at": now,
        "submitted_by": who.sub,
        "key_id": who.key_id,
    }
    fresh = {
        "task_id": task.id,
        "system_id": task.system_id,
        "year": task.year,
        "unit_kind": task.unit_kind,
        "version": 1,
        "created_at": now,
        **state,
    }
    task_ref = str(task.id)
    codes = task.element_codes
    new: list[dict[str, Any]] = []
    again: list[dict[str, Any]] = []
    new_values: list[dict[str, Any]] = []
    values_again: list[dict[str, Any]] = []
    for r in rows:
        unit = units[r.unit]
        known = existing.get(unit.id)
        cells = [r.values.get(c) for c in codes]
        filled = len(cells) - cells.count(None)
        if known is None:
            row_id = uuid7()
            new.append(
                {
                    **fresh,
                    "id": row_id,
                    "unit_id": unit.id,
                    "unit_code": unit.code,
                    "division_code": unit.division_code,
                    "values_count": filled,
                }
            )
            held = new_values
        else:
            row_id = known.id
            again.append({**state, "id": row_id, "version": known.version + 1, "values_count": filled})
            held = values_again
        held += [
            {"submission_id": row_id, "element_code": c, "value": v}
            for c, v in zip(codes, cells, strict=True)
        ]
        uow.record(
            "submission.submitted",
            "submission",
            row_id,
            unit.division_code,
            task_id=task_ref,
            values=filled,
            key_id=who.key_id,
        )
    repository.add_submissions(uow, new, taken=SubmissionTaken("A unit's submission was made meanwhile"))
    repository.change_submissions(uow, again)
    repository.write_submitted(uow, new_values, values_again)
    await uow.flush()  # one statement per table, the audit entries with them
    return Submitted(
        units=len(rows),
        values=len(new_values) + len(values_again),
        created=len(new),
        resubmitted=len(again),
        submissions=new + again,
    )


async def get_submission(
    uow: UnitOfWork, who: Principal, submission_id: UUID, *, for_update: bool = False
) -> Submission:
    submission = await repository.get_submission(uow.session, who, submission_id, for_update=for_update)
    if submission is None:
        raise SubmissionNotFound(f"Submission {submission_id} does not exist")
    return submission


async def submission_detail(
    uow: UnitOfWork, submission: Submission
) -> tuple[dict[str, Decimal | None], list[SubmissionReview]]:
    values = await repository.values_of(uow.session, submission.id)
    reviews = await repository.reviews_of(uow.session, submission.id)
    return {v["element_code"]: v["value"] for v in values}, reviews


async def page_submissions(
    uow: UnitOfWork,
    who: Principal,
    task: CollectionTask,
    *,
    after: UUID | None,
    limit: int,
    status: SubmissionStatus | None,
    within: str | None,
    updated_since: datetime | None,
) -> list[Submission]:
    return await repository.page_submissions(
        uow.session,
        who,
        task_id=task.id,
        after=after,
        limit=limit + 1,
        status=status,
        within=within,
        updated_since=updated_since,
    )


# ---- reviewing -------------------------------------------------------------------------------------


async def _apply_review(
    uow: UnitOfWork,
    who: Principal,
    level: ReviewLevel,
    submissions: Sequence[Submission],
    body: ReviewCreate,
) -> None:
    """One level's decision on ``submissions`` (locked, all awaiting ``level``), set-based."""
    now = uow.clock.now()
    final = level == ReviewLevel.REGION and body.decision == ReviewDecision.APPROVED
    status = SubmissionStatus.RETURNED if body.decision == ReviewDecision.RETURNED else APPROVED_AT[level]
    comment = body.comment if body.decision == ReviewDecision.RETURNED else None
    repository.change_submissions(
        uow,
        [
            {"id": s.id, "status": status, "comment": comment, "version": s.version + 1, "updated_at": now}
            for s in submissions
        ],
    )
    repository.add_reviews(
        uow,
        [
            {
                "id": uuid7(),
                "submission_id": s.id,
                "level": level,
                "decision": body.decision,
                "comment": body.comment,
                "reviewer": who.sub,
                "reviewer_division": who.division,
                "created_at": now,
            }
            for s in submissions
        ],
    )
    for s in submissions:
        uow.record(
            f"submission.{body.decision.value}",
            "submission",
            s.id,
            s.division_code,
            level=level.value,
            task_id=str(s.task_id),
        )
    if body.decision == ReviewDecision.RETURNED:
        assert body.comment is not None
        uow.emit_all(
            SubmissionReturned(
                division=s.division_code,
                submission_id=str(s.id),
                task_id=str(s.task_id),
                unit_kind=s.unit_kind.value,
                unit_id=s.unit_id,
                level=level.value,
                comment=body.comment,
            )
            for s in submissions
        )
    if final:
        await _approve_values(uow, submissions)


async def _approve_values(uow: UnitOfWork, submissions: Sequence[Submission]) -> None:
    """The submissions' values become the approved ones; each submission's approval is announced."""
    held = await repository.submitted_values(uow.session, [s.id for s in submissions])
    repository.write_approved(
        uow,
        [
            {
                "system_id": v["system_id"],
                "task_id": v["task_id"],
                "submission_id": v["submission_id"],
                "unit_kind": v["unit_kind"],
                "unit_id": v["unit_id"],
                "division_code": v["division_code"],
                "year": v["year"],
                "element_code": v["element_code"],
                "value": v["value"],
                "submitted_by": v["submitted_by"],
                "key_id": v["key_id"],
            }
            for v in held
            if v["value"] is not None
        ],
    )
    uow.emit_all(
        SubmissionApproved(
            division=s.division_code,
            submission_id=str(s.id),
            task_id=str(s.task_id),
            system_id=str(s.system_id),
            year=s.year,
            unit_kind=s.unit_kind.value,
            unit_id=s.unit_id,
        )
        for s in submissions
    )


async def review(
    uow: UnitOfWork,
    who: Principal,
    divisions: DivisionTree,
    submission_id: UUID,
    if_match: str | None,
    body: ReviewCreate,
) -> Submission:
    """Approve or return one submission at the caller's level. Send ``If-Match``."""
    submission = await get_submission(uow, who, submission_id, for_update=True)
    require_match(if_match, submission.id, submission.version)
    level = _reviewing_level(divisions, who, submission.unit_kind)
    due = awaiting(submission.unit_kind, submission.status)
    if due != level:
        where = "nobody's" if due is None else f"the {due.value} level's"
        raise NotYourLevel(f"The submission is {submission.status.value}; it awaits {where} review")
    await _apply_review(uow, who, level, [submission], body)
    await uow.flush()
    await uow.session.refresh(submission)
    return submission


async def review_many(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, task: CollectionTask, body: BatchReviewCreate
) -> tuple[ReviewLevel, int]:
    """The same decision on the task's submissions awaiting the caller's level within its jurisdiction
    (only those named, if any are; one named that does not await it is a 409 naming it)."""
    level = _reviewing_level(divisions, who, task.unit_kind)
    status = _status_awaiting(task.unit_kind, level)
    ids = None if body.submission_ids is None else set(body.submission_ids)
    submissions = await repository.awaiting(uow.session, who, task.id, status, ids, within=body.within)
    if ids is not None and len(submissions) != len(ids):
        missing = sorted(str(i) for i in ids - {s.id for s in submissions})
        raise NotYourLevel(
            f"{len(missing)} submission(s) do not await the {level.value} level's review within your "
            f"jurisdiction: {', '.join(missing[:20])}",
            submission_ids=missing[:ERRORS_SHOWN],
        )
    if submissions:
        await _apply_review(uow, who, level, submissions, body)
        await uow.flush()
    return level, len(submissions)


# ---- deadlines -------------------------------------------------------------------------------------

# The longest a reminder may come before the deadline (``TaskCreate.remind_days``).
REMIND_HORIZON_DAYS = 90
# Tasks whose passed deadline one run of the overdue job handles.
OVERDUE_BATCH = 20
# The finding at a unit that let a collection deadline pass: data, as an office would word it.
MISSED_CATEGORY = "data_collection"
MISSED_REQUIREMENT = "按要求补报数据，并说明未按期报送的原因。"
MISSED_DEADLINE = DeadlineSpec(days=10, kind=DeadlineKind.WORKING)


async def _task_units(
    uow: UnitOfWork, divisions: DivisionTree, task: CollectionTask
) -> dict[str, SupervisedUnit]:
    """The units a task asks, by unit id, as findings address them: a school by its school code, a county
    by its people's government (``gov-<county code>``)."""
    if task.unit_kind == UnitKind.SCHOOL:
        schools = await repository.roster_schools(uow.session, prefix=task.scope_prefix, ids=task.unit_ids)
        return {
            unit_id: SupervisedUnit(
                id=s.school_code,
                kind=FindingUnitKind.SCHOOL,
                name=s.name,
                division_code=s.division_code,
                competent_department=_bureau(divisions, s.division_code),
            )
            for unit_id, s in schools.items()
        }
    counties = [d for d in divisions.within(task.division_code) if d.level == "county"]
    asked = None if task.unit_ids is None else set(task.unit_ids)
    return {
        d.code: SupervisedUnit(
            id=f"gov-{d.code}",
            kind=FindingUnitKind.GOVERNMENT,
            name=f"{d.name}人民政府",
            division_code=d.code,
        )
        for d in counties
        if asked is None or d.code in asked
    }


def _bureau(divisions: DivisionTree, county: str) -> str | None:
    """The county education bureau (教育局) that runs a school, when the county is known."""
    division = divisions.get(county)
    return None if division is None else f"{division.name}教育局"


async def _missing(
    uow: UnitOfWork, divisions: DivisionTree, task: CollectionTask
) -> dict[str, SupervisedUnit]:
    """The task's units with no submission."""
    units = await _task_units(uow, divisions, task)
    submitted = await repository.submissions_of_task(uow.session, task.id)
    return {unit_id: unit for unit_id, unit in units.items() if unit_id not in submitted}


async def remind(uow: UnitOfWork, today: date) -> int:
    """Remind the units that have not submitted, once per reminder day reached (the nearest, when a
    scheduler was down over several)."""
    tasks = await repository.tasks_to_remind(uow.session, today, REMIND_HORIZON_DAYS)
    due = [
        (task, reached)
        for task in tasks
        if (
            reached := [
                d
                for d in task.remind_days
                if d not in task.reminded_days and task.due_on - timedelta(days=d) <= today
            ]
        )
    ]
    if not due:
        return 0
    divisions = await repository.division_tree(uow.session)
    now = uow.clock.now()
    events: list[CollectionDueSoon] = []
    for task, reached in due:
        days_before = min(reached)
        events += [
            CollectionDueSoon(
                division=unit.division_code,
                task_id=str(task.id),
                task_name=task.name,
                unit_kind=task.unit_kind.value,
                unit_id=unit_id,
                due_on=task.due_on,
                days_before=days_before,
            )
            for unit_id, unit in (await _missing(uow, divisions, task)).items()
        ]
    repository.change_tasks(
        uow,
        [{"id": t.id, "reminded_days": sorted({*t.reminded_days, *r}), "updated_at": now} for t, r in due],
    )
    uow.emit_all(events)
    return len(events)


def _deadline_office(task: CollectionTask) -> Principal:
    """The office that issued the task, as the one raising the findings of its missed deadline."""
    return Principal(
        sub=f"system:collection-task:{task.id}",
        name="数据采集逾期",
        roles=frozenset({Role.SUPERVISION_OFFICE}),
        division=task.division_code,
    )


async def notice_overdue(uow: UnitOfWork, today: date) -> int:
    """A finding at every unit that had not submitted by a passed deadline; returns the tasks handled."""
    tasks = await repository.tasks_overdue(uow.session, today, OVERDUE_BATCH)
    if not tasks:
        return 0
    divisions = await repository.division_tree(uow.session)
    for task in tasks:
        missing = await _missing(uow, divisions, task)
        findings = [
            FindingCreate(
                unit=unit,
                origin_kind=OriginKind.EVALUATION,
                origin_ref=str(task.id),
                category=MISSED_CATEGORY,
                severity=Severity.MINOR,
                description=f"未按期报送「{task.name}」（{task.year}年度）数据，截止日期{task.due_on.isoformat()}。",
                requirement=MISSED_REQUIREMENT,
                deadline=MISSED_DEADLINE,
            )
            for unit in missing.values()
        ]
        if findings:
            await rectifications.service.raise_findings(uow, _deadline_office(task), divisions, findings)
    now = uow.clock.now()
    repository.change_tasks(uow, [{"id": t.id, "overdue_noticed_at": now, "updated_at": now} for t in tasks])
    return len(tasks)
