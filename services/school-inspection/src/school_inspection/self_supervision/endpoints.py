"""HTTP for school self-supervision reports (学校自我督导)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query, Response

from dudao.auth.principal import Principal, Role
from dudao.errors import problems
from dudao.http.dependencies import UoW, require
from dudao.http.params import Inspecting, Within
from dudao.http.routing import transactional_router
from dudao.pagination import Cursor, Limit, decode_cursor, page_of
from school_inspection.school.service import SchoolNotFound
from school_inspection.self_supervision import service
from school_inspection.self_supervision.schemas import SEMESTER_PATTERN, ReportCreate, ReportPage, ReportRead

router = transactional_router(tags=["self-supervision"])
School = Annotated[Principal, Depends(require(Role.SUPERVISED_UNIT))]
Reader = Annotated[Principal, Depends(require(Role.SUPERVISION_OFFICE, Role.INSPECTOR, Role.SUPERVISED_UNIT))]
SemesterFilter = Annotated[str | None, Query(pattern=SEMESTER_PATTERN, description="e.g. 2026-autumn")]


@router.post(
    "/v1/schools/{school_id}/self-supervision-reports",
    status_code=201,
    response_model=ReportRead,
    responses=problems(SchoolNotFound, service.NotTheSchool, service.AlreadyReported),
)
async def submit_report(
    school_id: UUID, body: ReportCreate, uow: UoW, who: School, response: Response
) -> ReportRead:
    """The school's own self-supervision report for a semester, one per semester, with a self-assessed
    score per routine supervision item. Only the school itself (its token's ``org``) may submit it."""
    report = await service.submit(uow, who, school_id, body)
    response.headers["Location"] = f"/v1/self-supervision-reports/{report.id}"
    return ReportRead.model_validate(report)


@router.get(
    "/v1/schools/{school_id}/self-supervision-reports",
    response_model=ReportPage,
    responses=problems(SchoolNotFound, service.NotTheSchool),
)
async def list_school_reports(
    school_id: UUID,
    uow: UoW,
    who: Reader,
    semester: SemesterFilter = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ReportPage:
    """A school's self-supervision reports: for offices and inspectors within jurisdiction, and the school."""
    rows = await service.page_for_school(
        uow, who, school_id, semester=semester, after=decode_cursor(cursor), limit=limit
    )
    return page_of(ReportPage, ReportRead, rows, limit)


@router.get("/v1/self-supervision-reports", response_model=ReportPage)
async def list_reports(
    uow: UoW,
    who: Inspecting,
    semester: SemesterFilter = None,
    within: Within = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ReportPage:
    """Self-supervision reports of the schools within your jurisdiction, by semester if given."""
    rows = await service.page(
        uow, who, semester=semester, within=within, after=decode_cursor(cursor), limit=limit
    )
    return page_of(ReportPage, ReportRead, rows, limit)


@router.get(
    "/v1/self-supervision-reports/{report_id}",
    response_model=ReportRead,
    responses=problems(service.ReportNotFound),
)
async def get_report(report_id: UUID, uow: UoW, who: Reader) -> ReportRead:
    """One report, within your jurisdiction (a school sees only its own)."""
    return ReportRead.model_validate(await service.get(uow, who, report_id))
