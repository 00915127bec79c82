"""Every query of data collection, and THE values: what other domains read (``approved``) and write
(``write_approved``) goes through here.

Reads of records go through the jurisdiction helper; ``approved`` is the computations' read, by system,
year and division prefix, and leaves jurisdiction to its callers (a verdict is computed for every county).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NotRequired, TypedDict, TypeVar, cast
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Row,
    RowMapping,
    Select,
    String,
    Table,
    Uuid,
    any_,
    bindparam,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from dudao import pagination
from dudao.auth.principal import Principal
from dudao.common.models import DivisionRow
from dudao.divisions.tree import Division, DivisionTree, Level, load_tree
from dudao.errors import DomainError
from dudao.jurisdiction import listed, visible_to
from dudao.uow import UnitOfWork
from monitoring.collection.models import (
    CollectionTask,
    DataValue,
    Submission,
    SubmissionReview,
    SubmissionStatus,
    SubmittedValue,
    ValidationRule,
)
from monitoring.indicator.models import UnitKind
from monitoring.roster.models import RosterSchool

TASKS = cast(Table, CollectionTask.__table__)
RULES = cast(Table, ValidationRule.__table__)
SUBMISSIONS = cast(Table, Submission.__table__)
REVIEWS = cast(Table, SubmissionReview.__table__)
VALUES = cast(Table, DataValue.__table__)
SUBMITTED_VALUES = cast(Table, SubmittedValue.__table__)

S = TypeVar("S", bound=Select[Any])

_VALUE_KEY = ("system_id", "unit_kind", "unit_id", "year", "element_code")


# ---- THE values ----------------------------------------------------------------------------------------


class ApprovedValue(TypedDict):
    """An approved value as ``write_approved`` takes it."""

    system_id: UUID
    unit_kind: str  # school | county
    unit_id: str
    division_code: str  # the school's county, or the county
    year: int
    element_code: str
    value: Decimal
    submitted_by: str  # who it comes from: a person's or a key's subject
    task_id: NotRequired[UUID | None]
    submission_id: NotRequired[UUID | None]
    key_id: NotRequired[str | None]


async def approved(
    session: AsyncSession,
    *,
    system_id: UUID,
    year: int,
    division_prefix: str,
    element_codes: Collection[str] | None = None,
    unit_kind: UnitKind | None = None,
) -> Sequence[Row[UnitKind, str, str, str, Decimal]]:
    """The approved values of a system's ``year`` under ``division_prefix`` ("45" for the region), as rows
    of (unit_kind, unit_id, division_code, element_code, value); only ``element_codes`` and only values of
    ``unit_kind`` if given (the counties' few among the region's schools' 200,000)."""
    stmt = select(
        DataValue.unit_kind,
        DataValue.unit_id,
        DataValue.division_code,
        DataValue.element_code,
        DataValue.value,
    ).where(
        DataValue.system_id == system_id,
        DataValue.year == year,
        DataValue.division_code.startswith(division_prefix, autoescape=True),
    )
    if element_codes is not None:
        stmt = stmt.where(DataValue.element_code == any_(_texts("codes", element_codes)))
    if unit_kind is not None:
        stmt = stmt.where(DataValue.unit_kind == unit_kind)
    return (await session.execute(stmt)).all()


def write_approved(uow: UnitOfWork, rows: Iterable[ApprovedValue]) -> None:
    """Approved values, with one statement however many: each replaces the approved value of its unit,
    element and year (a later approval, or an agency's later result, wins)."""
    now = uow.clock.now()
    uow.upsert(
        VALUES,
        (
            {
                "system_id": r["system_id"],
                "task_id": r.get("task_id"),
                "submission_id": r.get("submission_id"),
                "unit_kind": r["unit_kind"],
                "unit_id": r["unit_id"],
                "division_code": r["division_code"],
                "year": r["year"],
                "element_code": r["element_code"],
                "value": r["value"],
                "submitted_by": r["submitted_by"],
                "key_id": r.get("key_id"),
                "created_at": now,
                "updated_at": now,
            }
            for r in rows
        ),
        keys=_VALUE_KEY,
    )


def write_submitted(uow: UnitOfWork, new: list[dict[str, Any]], again: list[dict[str, Any]]) -> None:
    """Submissions' values, every element of their forms (NULL where blank): ``new`` ones inserted, those
    of resubmissions replacing what they held; one statement each, however many."""
    uow.insert(SUBMITTED_VALUES, new)
    uow.upsert(SUBMITTED_VALUES, again, keys=("submission_id", "element_code"))


async def submitted_values(session: AsyncSession, submission_ids: Collection[UUID]) -> Sequence[RowMapping]:
    """The filled-in values the submissions hold, with what their approval writes with them."""
    stmt = (
        select(
            SubmittedValue.element_code,
            SubmittedValue.value,
            Submission.id.label("submission_id"),
            Submission.task_id,
            Submission.system_id,
            Submission.unit_kind,
            Submission.unit_id,
            Submission.division_code,
            Submission.year,
            Submission.submitted_by,
            Submission.key_id,
        )
        .join(Submission, Submission.id == SubmittedValue.submission_id)
        .where(
            SubmittedValue.submission_id == any_(_uuids("ids", submission_ids)),
            SubmittedValue.value.is_not(None),
        )
    )
    return (await session.execute(stmt)).mappings().all()


def _texts(name: str, values: Collection[str]) -> Any:
    """One array parameter, however many values (an IN list could pass the server's parameter limit)."""
    return bindparam(name, list(values), type_=ARRAY(String))


def _uuids(name: str, values: Collection[UUID]) -> Any:
    return bindparam(name, list(values), type_=ARRAY(Uuid))


# ---- tasks and rules -----------------------------------------------------------------------------------


def _task_visible(stmt: S, who: Principal) -> S:
    """A task is for everyone beneath it as well as for the offices above: the tasks within the caller's
    jurisdiction, and those issued for a division the caller lies in (a county's schools see their
    city's task)."""
    within = visible_to(select(CollectionTask.id), who, CollectionTask.division_code)
    beneath: list[ColumnElement[bool]] = [
        literal(prefix).startswith(CollectionTask.scope_prefix) for prefix in who.jurisdictions
    ]
    return stmt.where(or_(CollectionTask.id.in_(within), *beneath))


async def get_task(
    session: AsyncSession, who: Principal, task_id: UUID, *, for_update: bool = False
) -> CollectionTask | None:
    stmt = _task_visible(select(CollectionTask), who).where(CollectionTask.id == task_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


def add_task(uow: UnitOfWork, task: dict[str, Any], rules: list[dict[str, Any]]) -> None:
    uow.insert(TASKS, [task])
    uow.insert(RULES, rules)


async def rules_of(session: AsyncSession, task_id: UUID) -> list[ValidationRule]:
    stmt = select(ValidationRule).where(ValidationRule.task_id == task_id).order_by(ValidationRule.position)
    return list((await session.execute(stmt)).scalars())


async def page_tasks(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    year: int | None,
    updated_since: datetime | None,
) -> Sequence[RowMapping]:
    stmt = _task_visible(select(*TASKS.c), who)
    stmt = pagination.page(
        stmt,
        CollectionTask.id,
        after=after,
        limit=limit,
        equal=[(CollectionTask.year, year)],
        updated_at=CollectionTask.updated_at,
        updated_since=updated_since,
    )
    return (await session.execute(stmt)).mappings().all()


# ---- units ---------------------------------------------------------------------------------------------


async def roster_schools(
    session: AsyncSession, *, prefix: str, ids: Collection[str] | None = None
) -> dict[str, RosterSchool]:
    """The roster's schools under ``prefix`` by id as text (only ``ids`` among them, if given)."""
    stmt = select(RosterSchool).where(RosterSchool.division_code.startswith(prefix, autoescape=True))
    if ids is not None:
        stmt = stmt.where(RosterSchool.school_id == any_(_uuids("ids", [UUID(i) for i in ids])))
    return {str(s.school_id): s for s in (await session.execute(stmt)).scalars()}


async def schools_by_code(session: AsyncSession, codes: Collection[str]) -> dict[str, Row[str, UUID, str]]:
    """The roster's schools with these codes, anywhere (the caller says which it may act on), as plain
    (school_code, school_id, division_code) rows: a city's 10,000 schools are read, never changed."""
    stmt = select(RosterSchool.school_code, RosterSchool.school_id, RosterSchool.division_code).where(
        RosterSchool.school_code == any_(_texts("codes", codes))
    )
    return {r.school_code: r for r in (await session.execute(stmt)).all()}


# ---- submissions ---------------------------------------------------------------------------------------


async def submissions_of_task(
    session: AsyncSession, task_id: UUID, unit_ids: Collection[str] | None = None, *, for_update: bool = False
) -> dict[str, Submission]:
    """The task's submissions by unit id (only those of ``unit_ids``, if given)."""
    stmt = select(Submission).where(Submission.task_id == task_id)
    if unit_ids is not None:
        stmt = stmt.where(Submission.unit_id == any_(_texts("units", unit_ids)))
    if for_update:
        stmt = stmt.with_for_update()
    return {s.unit_id: s for s in (await session.execute(stmt)).scalars()}


async def get_submission(
    session: AsyncSession, who: Principal, submission_id: UUID, *, for_update: bool = False
) -> Submission | None:
    """The submission if the principal sees it: offices and agencies by division, a school its own."""
    stmt = visible_to(select(Submission), who, Submission.division_code, Submission.unit_code)
    stmt = stmt.where(Submission.id == submission_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def awaiting(
    session: AsyncSession,
    who: Principal,
    task_id: UUID,
    status: SubmissionStatus,
    ids: Collection[UUID] | None,
    *,
    within: str | None,
) -> list[Submission]:
    """The task's submissions in ``status`` within the caller's jurisdiction (under ``within``; only
    ``ids``, if given), locked for their review."""
    stmt = listed(select(Submission), who, Submission.division_code, within).where(
        Submission.task_id == task_id, Submission.status == status
    )
    if ids is not None:
        stmt = stmt.where(Submission.id == any_(_uuids("ids", ids)))
    return list((await session.execute(stmt.order_by(Submission.id).with_for_update())).scalars())


def add_submissions(uow: UnitOfWork, rows: list[dict[str, Any]], *, taken: DomainError) -> None:
    uow.insert(SUBMISSIONS, rows, violations={"uq_submission_task_id_unit_id": taken})


def change_submissions(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    """One statement by id; the rows are locked."""
    uow.update(SUBMISSIONS, rows)


def add_reviews(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    uow.insert(REVIEWS, rows)


async def reviews_of(session: AsyncSession, submission_id: UUID) -> list[SubmissionReview]:
    stmt = (
        select(SubmissionReview)
        .where(SubmissionReview.submission_id == submission_id)
        .order_by(SubmissionReview.created_at, SubmissionReview.id)
    )
    return list((await session.execute(stmt)).scalars())


async def page_submissions(
    session: AsyncSession,
    who: Principal,
    *,
    task_id: UUID,
    after: UUID | None,
    limit: int,
    status: SubmissionStatus | None,
    within: str | None,
    updated_since: datetime | None,
) -> list[Submission]:
    stmt = listed(select(Submission), who, Submission.division_code, within)
    stmt = visible_to(stmt, who, Submission.division_code, Submission.unit_code).where(
        Submission.task_id == task_id
    )
    stmt = pagination.page(
        stmt,
        Submission.id,
        after=after,
        limit=limit,
        equal=[(Submission.status, status)],
        updated_at=Submission.updated_at,
        updated_since=updated_since,
    )
    return list((await session.execute(stmt)).scalars())


async def values_of(session: AsyncSession, submission_id: UUID) -> Sequence[RowMapping]:
    """What a submission holds, by element."""
    stmt = (
        select(SubmittedValue.element_code, SubmittedValue.value)
        .where(SubmittedValue.submission_id == submission_id)
        .order_by(SubmittedValue.element_code)
    )
    return (await session.execute(stmt)).mappings().all()


# ---- deadlines -----------------------------------------------------------------------------------------


async def tasks_to_remind(session: AsyncSession, today: date, horizon: int) -> list[CollectionTask]:
    """Open tasks due within ``horizon`` days, locked (SKIP LOCKED: another scheduler takes the rest)."""
    stmt = (
        select(CollectionTask)
        .where(CollectionTask.due_on >= today, CollectionTask.overdue_noticed_at.is_(None))
        .where(CollectionTask.due_on <= date.fromordinal(today.toordinal() + horizon))
        .order_by(CollectionTask.due_on, CollectionTask.id)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def tasks_overdue(session: AsyncSession, today: date, limit: int) -> list[CollectionTask]:
    """Tasks whose deadline passed and whose missing units have not had their findings, a batch, locked."""
    stmt = (
        select(CollectionTask)
        .where(CollectionTask.due_on < today, CollectionTask.overdue_noticed_at.is_(None))
        .order_by(CollectionTask.due_on, CollectionTask.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def division_tree(session: AsyncSession) -> DivisionTree:
    """The deployment's divisions as seeded, the packaged tree until then (a job has no runtime)."""
    rows = (await session.execute(select(DivisionRow))).scalars().all()
    if not rows:
        return load_tree()
    return DivisionTree([Division(r.code, r.name, cast(Level, r.level), r.parent_code) for r in rows])


def change_tasks(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    uow.update(TASKS, rows)
