"""The holiday calendar over HTTP: read by everyone, published by platform administrators."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Path, Query, Response

from dudao.auth.principal import Principal, Role
from dudao.calendar import service
from dudao.calendar.models import FIRST_YEAR, LAST_YEAR, CalendarYear, ProvisionalDeadlineAllowance
from dudao.calendar.schemas import (
    CalendarDays,
    CalendarYearPublish,
    CalendarYearRead,
    DeadlineKind,
    DeadlineRead,
    ProvisionalAllowanceCreate,
    ProvisionalAllowanceRead,
)
from dudao.errors import InvalidInput, problems
from dudao.http.dependencies import CommonUoW, CurrentPrincipal, require
from dudao.http.routing import transactional_router

router = transactional_router(prefix="/v1/calendar", tags=["calendar"])
PlatformAdmin = Annotated[Principal, Depends(require(Role.PLATFORM_ADMIN))]
Office = Annotated[Principal, Depends(require(Role.SUPERVISION_OFFICE))]  # platform admins pass too
YearPath = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR)]


@router.get("/years", response_model=list[CalendarYearRead])
async def list_calendar_years(uow: CommonUoW) -> list[CalendarYear]:
    """The years with holiday data, and where it came from (the package, or an administrator)."""
    return await service.list_years(uow.session)


@router.get("/days", response_model=CalendarDays, responses=problems(InvalidInput))
async def list_calendar_days(
    uow: CommonUoW,
    first: Annotated[date, Query(alias="from", description="First day, inclusive")],
    last: Annotated[
        date, Query(alias="to", description=f"Last day, inclusive; at most {service.MAX_RANGE_DAYS}")
    ],
) -> CalendarDays:
    """Working days (工作日), holidays and adjusted working days (调休上班); unknown years are named."""
    return await service.days_between(uow.session, first, last)


@router.get("/deadline", response_model=DeadlineRead, responses=problems(service.CalendarYearUnknown))
async def compute_deadline(
    uow: CommonUoW,
    who: CurrentPrincipal,
    start: Annotated[date, Query(description="The day the period starts from; it does not count")],
    days: Annotated[int, Query(ge=0, le=service.MAX_DEADLINE_DAYS)],
    kind: Annotated[DeadlineKind, Query()],
) -> DeadlineRead:
    """The deadline as your office would get it: provisional, or refused, in a year with no holiday data."""
    deadline = await service.compute_deadline(
        uow.session, start=start, days=days, kind=kind, office_division=who.division
    )
    return DeadlineRead(
        start=start,
        days=days,
        kind=kind,
        office_division=who.division,
        due=deadline.due,
        provisional=deadline.provisional,
    )


@router.put("/years/{year}", response_model=CalendarYearRead, responses=problems(service.InvalidCalendar))
async def publish_calendar_year(
    year: YearPath, body: CalendarYearPublish, uow: CommonUoW, who: PlatformAdmin
) -> CalendarYear:
    """Publish a year from the State Council's notice, or correct one; provisional deadlines follow it."""
    return await service.publish_year(uow, who, year, body.holidays, body.adjusted_working_days)


@router.post(
    "/provisional-allowances",
    status_code=201,
    response_model=ProvisionalAllowanceRead,
    responses=problems(
        service.AllowanceOutsideJurisdiction, service.AllowanceExists, service.CalendarYearKnown
    ),
)
async def allow_provisional_deadlines(
    body: ProvisionalAllowanceCreate, uow: CommonUoW, who: Office
) -> ProvisionalDeadlineAllowance:
    """Allow provisional deadlines in a year with no holiday data, in your jurisdiction or part of it."""
    return await service.allow_provisional(uow, who, body.division_code, body.year)


@router.delete(
    "/provisional-allowances/{division_code}/{year}",
    status_code=204,
    response_class=Response,
    responses=problems(service.AllowanceNotFound),
)
async def revoke_provisional_deadlines(
    division_code: Annotated[str, Path(pattern=r"^[1-9][0-9]{5}$")],
    year: YearPath,
    uow: CommonUoW,
    who: Office,
) -> Response:
    """Stop new provisional deadlines there; those already set are recomputed when the year is published."""
    await service.revoke_provisional(uow, who, division_code, year)
    return Response(status_code=204)
