"""HTTP for inspection zones (督学责任区) and coverage reports."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import Query, Response
from pydantic import BaseModel

from dudao.auth.principal import Principal
from dudao.divisions.tree import InvalidDivisionCode
from dudao.encryption import field_cipher
from dudao.errors import problems
from dudao.http.dependencies import UoW
from dudao.http.params import Inspecting, Office, Rt, Within
from dudao.http.routing import transactional_router
from dudao.jurisdiction import DivisionOutsideJurisdiction
from dudao.pagination import Cursor, Limit, decode_cursor, next_cursor, page_of
from dudao.runtime import Runtime
from dudao.uow import UnitOfWork
from school_inspection.school import service as schools
from school_inspection.school.service import DivisionNotVisible, SchoolNotFound
from school_inspection.zone import service
from school_inspection.zone.models import InspectionZone
from school_inspection.zone.schemas import (
    CoverageReport,
    OverloadedInspectors,
    OversizedZones,
    SchoolPage,
    UncoveredSchools,
    UntrainedInspectors,
    ZoneCreate,
    ZoneDetail,
    ZonePage,
    ZoneRead,
    ZoneSchoolAdd,
)

router = transactional_router(tags=["inspection zones and coverage"])
DivisionParam = Annotated[
    str | None,
    Query(pattern=r"^[1-9][0-9]{5}$", description="The division reported on; defaults to your own"),
]
COVERAGE_PROBLEMS = problems(DivisionNotVisible, InvalidDivisionCode)


async def _detail(uow: UnitOfWork, zone: InspectionZone) -> ZoneDetail:
    size, limit = await service.size_and_limit(uow, zone)
    return ZoneDetail(**ZoneRead.model_validate(zone).model_dump(), schools=size, max_schools=limit)


@router.post(
    "/v1/zones",
    status_code=201,
    response_model=ZoneDetail,
    responses=problems(service.ZoneNameTaken, DivisionOutsideJurisdiction, InvalidDivisionCode),
)
async def create_zone(body: ZoneCreate, uow: UoW, who: Office, rt: Rt, response: Response) -> ZoneDetail:
    """Create an inspection zone (督学责任区) in a county within your jurisdiction."""
    zone = await service.create(uow, who, rt.divisions, body)
    response.headers["Location"] = f"/v1/zones/{zone.id}"
    return await _detail(uow, zone)


@router.get("/v1/zones", response_model=ZonePage)
async def list_zones(
    uow: UoW,
    who: Inspecting,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
) -> ZonePage:
    """Inspection zones within your jurisdiction."""
    rows = await service.page(uow, who, after=decode_cursor(cursor), limit=limit, within=within)
    return page_of(ZonePage, ZoneRead, rows, limit)


@router.get("/v1/zones/{zone_id}", response_model=ZoneDetail, responses=problems(service.ZoneNotFound))
async def get_zone(zone_id: UUID, uow: UoW, who: Inspecting) -> ZoneDetail:
    """One zone with its size and the most schools the policy allows in it."""
    return await _detail(uow, await service.get(uow, who, zone_id))


@router.post(
    "/v1/zones/{zone_id}/schools",
    response_model=ZoneDetail,
    responses=problems(
        service.ZoneNotFound,
        SchoolNotFound,
        service.ZoneFull,
        service.SchoolInAnotherZone,
        service.SchoolOutsideZoneCounty,
    ),
)
async def add_zone_school(zone_id: UUID, body: ZoneSchoolAdd, uow: UoW, who: Office) -> ZoneDetail:
    """Put a school in the zone: a school of the zone's county, in no other zone, while the zone has
    room (20 schools by default)."""
    return await _detail(uow, await service.add_school(uow, who, zone_id, body))


@router.delete(
    "/v1/zones/{zone_id}/schools/{school_id}",
    status_code=204,
    responses=problems(service.ZoneNotFound, service.SchoolNotInZone),
)
async def remove_zone_school(zone_id: UUID, school_id: UUID, uow: UoW, who: Office) -> Response:
    """Take a school out of the zone."""
    await service.remove_school(uow, who, zone_id, school_id)
    return Response(status_code=204)


@router.get(
    "/v1/zones/{zone_id}/schools", response_model=SchoolPage, responses=problems(service.ZoneNotFound)
)
async def list_zone_schools(
    zone_id: UUID, uow: UoW, who: Inspecting, rt: Rt, cursor: Cursor = None, limit: Limit = 50
) -> SchoolPage:
    """The schools in a zone (principals' phones in full for offices and inspectors, each read audited)."""
    rows = await service.school_page(uow, who, zone_id, after=decode_cursor(cursor), limit=limit)
    items = schools.shown_all(uow, field_cipher(rt.settings), who, rows[:limit], "zone")
    return SchoolPage.model_validate(
        {"items": items, "next_cursor": next_cursor([r.id for r in rows], limit)}
    )


# --- coverage -----------------------------------------------------------------------------------------


Page = TypeVar("Page", UncoveredSchools, OverloadedInspectors, UntrainedInspectors, OversizedZones)
SECTIONS: dict[type[BaseModel], service.SectionName] = {
    UncoveredSchools: "uncovered-schools",
    OverloadedInspectors: "overloaded-inspectors",
    UntrainedInspectors: "untrained-inspectors",
    OversizedZones: "oversized-zones",
}


async def _section(
    page: type[Page],
    uow: UnitOfWork,
    who: Principal,
    rt: Runtime,
    division: str | None,
    cursor: str | None,
    limit: int,
) -> Page:
    total, rows = await service.coverage_section(
        uow, who, rt.divisions, division, SECTIONS[page], after=decode_cursor(cursor), limit=limit
    )
    items: list[Any] = rows[:limit]  # the items' models read the rows' attributes (from_attributes)
    if page is UncoveredSchools:  # schools, with their principals' sealed phones
        items = schools.shown_all(uow, field_cipher(rt.settings), who, items, "coverage")
    return page.model_validate(
        {"total": total, "items": items, "next_cursor": next_cursor([r.id for r in rows], limit)}
    )


@router.get("/v1/coverage", response_model=CoverageReport, responses=COVERAGE_PROBLEMS)
async def coverage(
    uow: UoW, who: Inspecting, rt: Rt, division: DivisionParam = None, limit: Limit = 50
) -> CoverageReport:
    """How far a division within your jurisdiction is covered by responsible inspectors (挂牌督导全覆盖):
    schools without a responsible inspector today, inspectors over the ratio, inspectors missing
    pre-service training or this year's collective class hours, and zones over their size. Each section
    carries its total and its first ``limit`` items."""
    uncovered = await _section(UncoveredSchools, uow, who, rt, division, None, limit)
    schools = await service.school_count(uow, who, rt.divisions, division)
    return CoverageReport(
        division=division or who.division,
        as_of=uow.clock.today(),
        schools=schools,
        schools_covered=schools - uncovered.total,
        uncovered_schools=uncovered,
        overloaded_inspectors=await _section(OverloadedInspectors, uow, who, rt, division, None, limit),
        untrained_inspectors=await _section(UntrainedInspectors, uow, who, rt, division, None, limit),
        oversized_zones=await _section(OversizedZones, uow, who, rt, division, None, limit),
    )


def _section_route(page: type[Page], doc: str) -> None:
    """GET /v1/coverage/<section>: one section of the report, all of it page by page."""

    async def read_section(
        uow: UoW,
        who: Inspecting,
        rt: Rt,
        division: DivisionParam = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> BaseModel:
        return await _section(page, uow, who, rt, division, cursor, limit)

    read_section.__doc__ = doc
    name = SECTIONS[page]
    router.get(
        f"/v1/coverage/{name}", response_model=page, responses=COVERAGE_PROBLEMS, name=name.replace("-", "_")
    )(read_section)


_section_route(UncoveredSchools, "Schools of the division without a responsible inspector today.")
_section_route(
    OverloadedInspectors,
    "Inspectors of the division responsible for more schools than the ratio allows today, or for a school "
    "that needs a dedicated inspector and another one besides.",
)
_section_route(
    UntrainedInspectors,
    "Appointed inspectors of the division without pre-service training on record, or under this year's "
    "collective training class hours (40 by default).",
)
_section_route(OversizedZones, "Zones of the division holding more schools than the policy now allows.")
