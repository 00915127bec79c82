"""The rules about supervision offices. No SQL, no commit.

An office is recorded and changed by its own staff (or a platform admin within jurisdiction); every
version is a ``SupervisionOfficeRecorded`` event, from which accountability learns the abbreviations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import RowMapping

from dudao.auth.principal import Principal, Role
from dudao.contracts.governance import SupervisionOfficeRecorded
from dudao.divisions.tree import DivisionTree, InvalidDivisionCode
from dudao.errors import Conflict, DomainError, Forbidden, NotFound, field_error
from dudao.etag import require_match
from dudao.ids import uuid7
from dudao.jurisdiction import require_visible, require_within
from dudao.uow import UnitOfWork
from governance.office import repository
from governance.office.models import SupervisionOffice
from governance.office.schemas import OfficeCreate, OfficeUpdate


class OfficeNotFound(NotFound):
    type = "supervision-office-not-found"
    title = "No such supervision office"


class OfficeRecorded(Conflict):
    type = "supervision-office-recorded"
    title = "The division's supervision office is already recorded"


class AbbreviationTaken(Conflict):
    type = "abbreviation-taken"
    title = "Another supervision office uses this abbreviation"


class NotTheOffice(Forbidden):
    type = "not-the-supervision-office"
    title = "Only the office itself (or a platform admin) may record or change it"


def require_own_office(who: Principal, division_code: str) -> None:
    """The caller works for the office of ``division_code`` (or is a platform admin)."""
    if Role.PLATFORM_ADMIN not in who.roles and who.division != division_code:
        raise NotTheOffice(f"You work for the office of {who.division}, not of {division_code}")


def _violations(abbreviation: str, division_code: str) -> Mapping[str, DomainError]:
    return {
        repository.DIVISION_TAKEN: OfficeRecorded(f"{division_code} already has its office recorded"),
        repository.ABBREVIATION_TAKEN: AbbreviationTaken(f"{abbreviation} is another office's abbreviation"),
    }


def _recorded(office: Mapping[str, Any]) -> SupervisionOfficeRecorded:
    return SupervisionOfficeRecorded(
        division=office["division_code"],
        office_id=str(office["id"]),
        name=office["name"],
        abbreviation=office["abbreviation"],
        version=office["version"],
    )


async def record(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: OfficeCreate
) -> dict[str, Any]:
    """The division's office, as it will be written at commit, with its first version's event."""
    try:
        division = divisions.require(body.division_code)
    except InvalidDivisionCode as exc:
        raise field_error(InvalidDivisionCode, "division_code", exc.detail) from None
    require_within(divisions, who, body.division_code)
    require_own_office(who, body.division_code)
    now = uow.clock.now()
    row = {
        "id": uuid7(),
        "division_code": body.division_code,
        "superior_division": division.parent_code,
        "name": body.name,
        "abbreviation": body.abbreviation,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    repository.add(uow, row, violations=_violations(body.abbreviation, body.division_code))
    uow.record(
        "supervision_office.recorded",
        "supervision_office",
        row["id"],
        body.division_code,
        name=body.name,
        abbreviation=body.abbreviation,
    )
    uow.emit(_recorded(row))
    return row


async def get(
    uow: UnitOfWork, who: Principal, office_id: UUID, *, for_update: bool = False
) -> SupervisionOffice:
    missing = OfficeNotFound(f"Supervision office {office_id} does not exist")
    return await require_visible(
        uow.session, who, SupervisionOffice, office_id, missing, for_update=for_update
    )


async def update(
    uow: UnitOfWork, who: Principal, office_id: UUID, if_match: str | None, body: OfficeUpdate
) -> dict[str, Any]:
    """The office's next version, and its event."""
    office = await get(uow, who, office_id, for_update=True)
    require_own_office(who, office.division_code)
    require_match(if_match, office.id, office.version)
    row = {c.key: getattr(office, c.key) for c in repository.TABLE.columns}
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if not changes or all(row[k] == v for k, v in changes.items()):
        return row
    row.update(changes, version=office.version + 1, updated_at=uow.clock.now())
    repository.change(uow, row, violations=_violations(row["abbreviation"], office.division_code))
    uow.record("supervision_office.updated", "supervision_office", office.id, office.division_code, **changes)
    uow.emit(_recorded(row))
    return row


async def page(
    uow: UnitOfWork,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    updated_since: datetime | None,
) -> Sequence[RowMapping]:
    return await repository.page(
        uow.session, who, after=after, limit=limit + 1, within=within, updated_since=updated_since
    )
