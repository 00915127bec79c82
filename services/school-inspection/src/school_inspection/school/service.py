"""The rules about schools. No SQL, no commit: the unit of work commits row, outbox and audit together."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from dudao.auth.principal import Principal
from dudao.contracts.inspection import SchoolRegistered, SchoolUpdated
from dudao.divisions.tree import DivisionTree, InvalidDivisionCode
from dudao.errors import Conflict, Forbidden, NotFound
from dudao.etag import require_match
from dudao.uow import UnitOfWork
from school_inspection.school import repository
from school_inspection.school.models import School
from school_inspection.school.schemas import SchoolCreate, SchoolUpdate


class SchoolNotFound(NotFound):
    type = "school-not-found"
    title = "No such school"


class SchoolCodeTaken(Conflict):
    type = "school-code-taken"
    title = "A school with this school code is already registered"


class DivisionOutsideJurisdiction(Forbidden):
    type = "division-outside-jurisdiction"
    title = "You may not register records outside your jurisdiction"


async def register(uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: SchoolCreate) -> School:
    division = divisions.require(body.division_code)
    if division.level != "county":
        raise InvalidDivisionCode(
            f"A school belongs to a county-level division, not the {division.level} {division.code}"
        )
    if not who.can_see(body.division_code):
        raise DivisionOutsideJurisdiction(f"{body.division_code} is outside your jurisdiction")
    now = uow.clock.now()
    school = await repository.add(uow.session, School(**body.model_dump(), created_at=now, updated_at=now))
    if school is None:
        raise SchoolCodeTaken(f"School code {body.school_code} is already registered")
    uow.record("school.registered", "school", school.id, school.division_code, school_code=school.school_code)
    uow.emit(
        SchoolRegistered(
            division=school.division_code,
            school_id=str(school.id),
            school_code=school.school_code,
            name=school.name,
            school_type=school.school_type.value,
            ownership=school.ownership.value,
        )
    )
    return school


async def get(uow: UnitOfWork, who: Principal, school_id: UUID) -> School:
    school = await repository.get_visible(uow.session, who, school_id)
    if school is None:
        raise SchoolNotFound(f"School {school_id} does not exist")
    return school


async def update(
    uow: UnitOfWork, who: Principal, school_id: UUID, if_match: str | None, body: SchoolUpdate
) -> School:
    school = await repository.get_visible(uow.session, who, school_id, for_update=True)
    if school is None:
        raise SchoolNotFound(f"School {school_id} does not exist")
    require_match(if_match, school.id, school.version)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        return school
    for field, value in changes.items():
        setattr(school, field, value)
    school.updated_at = uow.clock.now()
    await uow.session.flush()
    uow.record("school.updated", "school", school.id, school.division_code, changes=sorted(changes))
    uow.emit(
        SchoolUpdated(
            division=school.division_code,
            school_id=str(school.id),
            school_code=school.school_code,
            name=school.name,
            school_type=school.school_type.value,
            ownership=school.ownership.value,
            version=school.version,
        )
    )
    return school


async def page(
    uow: UnitOfWork,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    updated_since: datetime | None,
) -> list[School]:
    return await repository.page(
        uow.session, who, after=after, limit=limit + 1, within=within, updated_since=updated_since
    )
