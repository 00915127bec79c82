"""The rules of upward filing. No SQL, no commit.

An office files with the office of its parent division; that office (and only it) acknowledges or
returns the filing with comments; a returned filing is revised and filed again. A work plan not filed by
``filing_work_plan_due`` raises one ``FilingMissing`` fact per office and year.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import RowMapping

from dudao.auth.principal import Principal, Role
from dudao.contracts.governance import FilingMissing
from dudao.divisions.tree import DivisionTree
from dudao.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from dudao.etag import require_match
from dudao.ids import uuid7
from dudao.jurisdiction import require_visible, require_within
from dudao.uow import UnitOfWork
from governance.filing import repository
from governance.filing.models import Filing, FilingKind, FilingStatus
from governance.filing.schemas import (
    FilingCreate,
    FilingDecision,
    FilingOverview,
    FilingRevision,
    KindOverview,
    OverviewStatus,
    SubordinateOverview,
)
from governance.office import repository as offices


class FilingNotFound(NotFound):
    type = "filing-not-found"
    title = "No such filing"


class OfficeNotRecorded(Conflict):
    type = "supervision-office-not-recorded"
    title = "Record your supervision office before filing"


class NoSuperiorOffice(Conflict):
    type = "no-superior-office"
    title = "The region's office files with no office above it"


class WorkPlanFiled(Conflict):
    type = "work-plan-filed"
    title = "The office has filed its work plan for this year; a returned one is filed again"


class FilingWrongStatus(Conflict):
    type = "filing-wrong-status"
    title = "The filing is not in a state that allows this"


class NotTheSuperiorOffice(Forbidden):
    type = "not-the-superior-office"
    title = "Only the office the filing was filed with may decide on it"


class NotTheFilingOffice(Forbidden):
    type = "not-the-filing-office"
    title = "Only the office that filed it may file it again"


def work_plan_due(due: str, year: int) -> date:
    """``filing_work_plan_due`` (MM-DD) in ``year``; 29 February is the last day of February otherwise."""
    month, day = (int(part) for part in due.split("-"))
    try:
        return date(year, month, day)
    except ValueError:
        return date(year, month, 28)


def _columns(filing: Filing) -> dict[str, Any]:
    return {c.key: getattr(filing, c.key) for c in repository.TABLE.columns}


async def file(uow: UnitOfWork, who: Principal, body: FilingCreate) -> dict[str, Any]:
    """The caller's office files ``body`` with the office above; as it will be written at commit."""
    office = await offices.of_division(uow.session, who, who.division)
    if office is None:
        raise OfficeNotRecorded(f"{who.division} has no supervision office recorded")
    if office.superior_division is None:
        raise NoSuperiorOffice(f"{who.division} is the region")
    this_year = uow.clock.today().year
    if abs(body.year - this_year) > 1:
        raise field_error(InvalidInput, "year", f"files for {this_year - 1} to {this_year + 1}")
    now = uow.clock.now()
    row = {
        "id": uuid7(),
        "office_id": office.id,
        "division_code": office.division_code,
        "superior_division": office.superior_division,
        "year": body.year,
        "kind": body.kind,
        "title": body.title,
        "content": body.content,
        "status": FilingStatus.FILED,
        "comments": None,
        "filed_at": now,
        "decided_at": None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    taken = WorkPlanFiled(f"{office.division_code} has filed its work plan for {body.year}")
    repository.add(uow, row, work_plan_filed=taken)
    uow.record(
        "filing.filed",
        "filing",
        row["id"],
        office.division_code,
        kind=body.kind.value,
        year=body.year,
        superior_division=office.superior_division,
    )
    return row


async def get(uow: UnitOfWork, who: Principal, filing_id: UUID, *, for_update: bool = False) -> Filing:
    missing = FilingNotFound(f"Filing {filing_id} does not exist")
    return await require_visible(uow.session, who, Filing, filing_id, missing, for_update=for_update)


async def decide(
    uow: UnitOfWork, who: Principal, filing_id: UUID, if_match: str | None, body: FilingDecision
) -> dict[str, Any]:
    """The office above acknowledges the filing, or returns it with comments."""
    filing = await get(uow, who, filing_id, for_update=True)
    if Role.PLATFORM_ADMIN not in who.roles and who.division != filing.superior_division:
        raise NotTheSuperiorOffice(f"It was filed with {filing.superior_division}")
    require_match(if_match, filing.id, filing.version)
    if body.decision == "returned" and body.comments is None:
        raise field_error(InvalidInput, "comments", "say why it is returned")
    if filing.status != FilingStatus.FILED:
        raise FilingWrongStatus(f"The filing is {filing.status.value}; nothing waits for a decision")
    now = uow.clock.now()
    row = _columns(filing)
    row.update(
        status=FilingStatus(body.decision),
        comments=body.comments,
        decided_at=now,
        version=filing.version + 1,
        updated_at=now,
    )
    repository.change(uow, row)
    uow.record(f"filing.{body.decision}", "filing", filing.id, filing.division_code, kind=filing.kind.value)
    return row


async def refile(
    uow: UnitOfWork, who: Principal, filing_id: UUID, if_match: str | None, body: FilingRevision
) -> dict[str, Any]:
    """A returned filing, revised and filed again by the office that filed it."""
    filing = await get(uow, who, filing_id, for_update=True)
    if Role.PLATFORM_ADMIN not in who.roles and who.division != filing.division_code:
        raise NotTheFilingOffice(f"It was filed by {filing.division_code}")
    require_match(if_match, filing.id, filing.version)
    if filing.status != FilingStatus.RETURNED:
        raise FilingWrongStatus(f"The filing is {filing.status.value}; only a returned one is filed again")
    now = uow.clock.now()
    row = _columns(filing)
    row.update(
        title=body.title or filing.title,
        content=body.content,
        status=FilingStatus.FILED,
        filed_at=now,
        version=filing.version + 1,
        updated_at=now,
    )
    repository.change(uow, row)
    uow.record("filing.refiled", "filing", filing.id, filing.division_code, kind=filing.kind.value)
    return row


async def page(
    uow: UnitOfWork,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    year: int | None,
    kind: FilingKind | None,
    superior_division: str | None,
    updated_since: datetime | None,
) -> Sequence[RowMapping]:
    return await repository.page(
        uow.session,
        who,
        after=after,
        limit=limit + 1,
        within=within,
        year=year,
        kind=kind,
        superior_division=superior_division,
        updated_since=updated_since,
    )


def _kind_overview(counts: dict[FilingStatus, int]) -> KindOverview:
    status: OverviewStatus
    if not counts:
        status = "missing"
    elif counts.get(FilingStatus.RETURNED):
        status = "returned"
    elif counts.get(FilingStatus.FILED):
        status = "filed"
    else:
        status = "acknowledged"
    return KindOverview(status=status, **{s.value: n for s, n in counts.items()})


async def overview(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, division: str, year: int, due: str
) -> FilingOverview:
    """For the office of ``division``: what each of its direct subordinates has filed in ``year``, kind by
    kind; a subordinate whose office is not recorded yet has filed nothing."""
    require_within(divisions, who, division)
    offices_by_division: dict[str, tuple[UUID, str]] = {}
    counts: dict[str, dict[FilingKind, dict[FilingStatus, int]]] = defaultdict(lambda: defaultdict(dict))
    for office_id, code, name, kind, status, n in await repository.overview(uow.session, who, division, year):
        offices_by_division[code] = (office_id, name)
        if kind is not None:
            counts[code][kind][status] = n
    subordinates = []
    for child in divisions.children(division):
        office = offices_by_division.get(child.code)
        kinds = counts.get(child.code, {})
        subordinates.append(
            SubordinateOverview(
                division_code=child.code,
                division_name=child.name,
                office_id=office[0] if office else None,
                office_name=office[1] if office else None,
                **{kind.value: _kind_overview(kinds.get(kind, {})) for kind in FilingKind},
            )
        )
    return FilingOverview(
        division_code=division,
        year=year,
        work_plan_due_on=work_plan_due(due, year),
        subordinates=subordinates,
    )


async def notice_missing_work_plans(uow: UnitOfWork, today: date, due: str) -> int:
    """After this year's due date, one ``FilingMissing`` fact per office without a work plan (claimed once,
    its event id derived from office, year, kind and due date)."""
    due_on = work_plan_due(due, today.year)
    if today <= due_on:
        return 0
    claimed = await repository.claim_missing_work_plans(uow.session, today.year, due_on, uow.clock.now())
    uow.emit_all(
        FilingMissing(
            division=division_code, superior_division=superior, year=year, kind="work_plan", due_on=due_on
        )
        for division_code, superior, year, due_on in claimed
    )
    return len(claimed)
