"""The rules about inspection zones, and the coverage of a division by responsible inspectors."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from dudao.auth.principal import Principal
from dudao.divisions.tree import DivisionTree, jurisdiction_prefix
from dudao.errors import Conflict, NotFound
from dudao.jurisdiction import require_visible
from dudao.uow import UnitOfWork
from school_inspection.inspector import repository as inspectors
from school_inspection.school import service as schools
from school_inspection.school.models import School
from school_inspection.school.service import require_within, visible_division
from school_inspection.zone import repository
from school_inspection.zone.models import InspectionZone, ZoneSchool
from school_inspection.zone.schemas import ZoneCreate, ZoneSchoolAdd

SectionName = Literal["uncovered-schools", "overloaded-inspectors", "untrained-inspectors", "oversized-zones"]


class ZoneNotFound(NotFound):
    type = "zone-not-found"
    title = "No such inspection zone"


class ZoneNameTaken(Conflict):
    type = "zone-name-taken"
    title = "The county already has a zone of that name"


class ZoneFull(Conflict):
    type = "zone-full"
    title = "The zone holds as many schools as the policy allows"


class SchoolInAnotherZone(Conflict):
    type = "school-in-another-zone"
    title = "The school already belongs to an inspection zone"


class SchoolOutsideZoneCounty(Conflict):
    type = "school-outside-zone-county"
    title = "A zone holds schools of its own county only"


class SchoolNotInZone(NotFound):
    type = "school-not-in-zone"
    title = "The school is not in this zone"


async def create(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: ZoneCreate
) -> InspectionZone:
    require_within(divisions, who, body.division_code, county=True)  # a zone lies in a county
    now = uow.clock.now()
    zone = await repository.add(
        uow.session, InspectionZone(**body.model_dump(), created_at=now, updated_at=now)
    )
    if zone is None:
        raise ZoneNameTaken(f"{body.division_code} already has a zone named {body.name}")
    uow.record("zone.created", "zone", zone.id, zone.division_code, name=zone.name)
    return zone


async def get(uow: UnitOfWork, who: Principal, zone_id: UUID, *, for_update: bool = False) -> InspectionZone:
    missing = ZoneNotFound(f"Zone {zone_id} does not exist")
    return await require_visible(uow.session, who, InspectionZone, zone_id, missing, for_update=for_update)


async def size_and_limit(uow: UnitOfWork, zone: InspectionZone) -> tuple[int, int]:
    policy = await inspectors.policy_for(uow.session, zone.division_code)
    return await repository.size(uow.session, zone.id), policy.max_schools_per_zone


async def page(
    uow: UnitOfWork, who: Principal, *, after: UUID | None, limit: int, within: str | None
) -> list[InspectionZone]:
    return await repository.page(uow.session, who, after=after, limit=limit + 1, within=within)


async def add_school(uow: UnitOfWork, who: Principal, zone_id: UUID, body: ZoneSchoolAdd) -> InspectionZone:
    """Put a school of the zone's county in the zone, if it is in no zone and the zone has room."""
    zone = await get(uow, who, zone_id, for_update=True)  # the lock serialises the size check
    school = await schools.get(uow, who, body.school_id)
    if school.division_code != zone.division_code:
        raise SchoolOutsideZoneCounty(
            f"School {school.id} is in {school.division_code}, the zone in {zone.division_code}"
        )
    member = await repository.membership(uow.session, school.id)
    if member is not None:
        raise SchoolInAnotherZone(f"School {school.id} is already in zone {member.zone_id}")
    size, limit = await size_and_limit(uow, zone)
    if size >= limit:
        raise ZoneFull(f"Zone {zone.id} holds {size} schools; the policy allows {limit}")
    member = ZoneSchool(school_id=school.id, zone_id=zone.id, added_by=who.sub, added_at=uow.clock.now())
    if await repository.add_member(uow.session, member) is None:
        raise SchoolInAnotherZone(f"School {school.id} joined another zone meanwhile")
    zone.updated_at = uow.clock.now()
    await uow.session.flush()
    uow.record("zone.school_added", "zone", zone.id, zone.division_code, school_id=str(school.id))
    return zone


async def remove_school(uow: UnitOfWork, who: Principal, zone_id: UUID, school_id: UUID) -> None:
    zone = await get(uow, who, zone_id, for_update=True)
    member = await repository.membership(uow.session, school_id)
    if member is None or member.zone_id != zone.id:
        raise SchoolNotInZone(f"School {school_id} is not in zone {zone.id}")
    await repository.remove_member(uow.session, member)
    zone.updated_at = uow.clock.now()
    await uow.session.flush()
    uow.record("zone.school_removed", "zone", zone.id, zone.division_code, school_id=str(school_id))


async def school_page(
    uow: UnitOfWork, who: Principal, zone_id: UUID, *, after: UUID | None, limit: int
) -> list[School]:
    zone = await get(uow, who, zone_id)
    return await repository.member_page(uow.session, zone.id, after=after, limit=limit + 1)


# --- coverage -----------------------------------------------------------------------------------------


def _section(uow: UnitOfWork, who: Principal, prefix: str, name: SectionName) -> repository.Section:
    today = uow.clock.today()
    if name == "uncovered-schools":
        return repository.uncovered_schools(who, prefix, today)
    if name == "overloaded-inspectors":
        return repository.overloaded_inspectors(who, prefix, today)
    if name == "untrained-inspectors":
        return repository.untrained_inspectors(who, prefix, today.year)
    return repository.oversized_zones(who, prefix)


async def coverage_section(
    uow: UnitOfWork,
    who: Principal,
    divisions: DivisionTree,
    division: str | None,
    name: SectionName,
    *,
    after: UUID | None,
    limit: int,
) -> tuple[int, list[Any]]:
    """One section of a division's coverage report: its total, and a page of it (``limit + 1`` rows)."""
    prefix = jurisdiction_prefix(visible_division(who, divisions, division))
    section = _section(uow, who, prefix, name)
    total = await repository.section_total(uow.session, section)
    return total, await repository.section_page(uow.session, section, after=after, limit=limit + 1)


async def school_count(uow: UnitOfWork, who: Principal, divisions: DivisionTree, division: str | None) -> int:
    prefix = jurisdiction_prefix(visible_division(who, divisions, division))
    return await repository.school_total(uow.session, who, prefix)
