"""The rules of school self-supervision reports. No SQL, no commit."""

from __future__ import annotations

from uuid import UUID

from dudao.auth.principal import Principal, Role
from dudao.errors import Conflict, Forbidden, NotFound
from dudao.jurisdiction import get_visible
from dudao.uow import UnitOfWork
from school_inspection.school import service as schools
from school_inspection.school.models import School
from school_inspection.self_supervision import repository
from school_inspection.self_supervision.models import SelfSupervisionReport
from school_inspection.self_supervision.schemas import ReportCreate


class ReportNotFound(NotFound):
    type = "self-supervision-report-not-found"
    title = "No such self-supervision report"


class NotTheSchool(Forbidden):
    type = "not-the-school"
    title = "Only the school itself may do this"


class AlreadyReported(Conflict):
    type = "self-supervision-already-reported"
    title = "The school has already reported on this semester"


def _overseeing(who: Principal) -> bool:
    return who.has_any(Role.SUPERVISION_OFFICE, Role.INSPECTOR)


def _require_school(who: Principal, school: School) -> None:
    if who.org != school.school_code:
        raise NotTheSchool(f"Act as the school {school.school_code} (your token's org claim)")


async def submit(
    uow: UnitOfWork, who: Principal, school_id: UUID, body: ReportCreate
) -> SelfSupervisionReport:
    school = await schools.get(uow, who, school_id)
    _require_school(who, school)
    report = SelfSupervisionReport(
        school_id=school.id,
        school_code=school.school_code,
        division_code=school.division_code,
        semester=body.semester,
        items=[i.model_dump(mode="json") for i in body.items],
        summary=body.summary,
        submitted_by=who.sub,
        submitted_at=uow.clock.now(),
    )
    code = school.school_code  # a failed insert expires the school's attributes
    if await repository.add(uow.session, report) is None:
        raise AlreadyReported(f"School {code} has a report for {body.semester}")
    uow.record(
        "self_supervision.submitted",
        "self_supervision_report",
        report.id,
        report.division_code,
        school_id=str(school.id),
        semester=report.semester,
    )
    return report


async def page_for_school(
    uow: UnitOfWork, who: Principal, school_id: UUID, *, semester: str | None, after: UUID | None, limit: int
) -> list[SelfSupervisionReport]:
    """Offices and inspectors read any visible school's reports; a school reads its own."""
    school = await schools.get(uow, who, school_id)
    if not _overseeing(who):
        _require_school(who, school)
    return await repository.page(
        uow.session, who, school_id=school.id, semester=semester, within=None, after=after, limit=limit + 1
    )


async def page(
    uow: UnitOfWork,
    who: Principal,
    *,
    semester: str | None,
    within: str | None,
    after: UUID | None,
    limit: int,
) -> list[SelfSupervisionReport]:
    return await repository.page(
        uow.session, who, school_id=None, semester=semester, within=within, after=after, limit=limit + 1
    )


async def get(uow: UnitOfWork, who: Principal, report_id: UUID) -> SelfSupervisionReport:
    report = await get_visible(uow.session, who, SelfSupervisionReport, report_id)
    if report is None or not (_overseeing(who) or who.org == report.school_code):
        raise ReportNotFound(f"Self-supervision report {report_id} does not exist")
    return report
