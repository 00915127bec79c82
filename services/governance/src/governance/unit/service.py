"""The rules about supervised units (governments and departments). No SQL, no commit.

A registered unit is what findings, supervisions and evaluations address: ``resolve_unit`` is the
rectification capability's ``ResolveUnit`` and ``lookup_unit`` the supervision capability's ``LookupUnit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import RowMapping

from dudao.auth.principal import Principal
from dudao.divisions.tree import DivisionTree, InvalidDivisionCode
from dudao.errors import Conflict, InvalidInput, NotFound, field_error
from dudao.etag import require_match
from dudao.ids import uuid7
from dudao.jurisdiction import require_within
from dudao.rectification.models import UnitKind
from dudao.rectification.schemas import SupervisedUnit
from dudao.uow import UnitOfWork
from governance.unit import repository
from governance.unit.models import SupervisedUnitRecord
from governance.unit.schemas import SupervisedUnitCreate, SupervisedUnitUpdate


class SupervisedUnitNotFound(NotFound):
    type = "supervised-unit-not-found"
    title = "No such supervised unit"


class UnknownSupervisedUnit(InvalidInput):
    type = "unknown-supervised-unit"
    title = "The unit named is not a registered unit within your jurisdiction"


class SupervisedUnitTaken(Conflict):
    type = "supervised-unit-taken"
    title = "The division already has this unit (a unit of this name, or its people's government)"


def parse_unit_id(unit_id: str) -> UUID | None:
    """A registered unit's id from its text (a finding's ``unit_id``, a principal's ``org``)."""
    try:
        return UUID(unit_id)
    except ValueError:
        return None


async def get_unit(uow: UnitOfWork, who: Principal, unit_id: str) -> SupervisedUnitRecord:
    """The registered unit; 404 if there is none or it lies outside the caller's jurisdiction (a supervised
    unit's principal sees its own unit only)."""
    parsed = parse_unit_id(unit_id)
    unit = None if parsed is None else await repository.get_visible(uow.session, who, parsed)
    if unit is None:
        raise SupervisedUnitNotFound(f"Supervised unit {unit_id} does not exist")
    return unit


def as_supervised_unit(unit: SupervisedUnitRecord) -> SupervisedUnit:
    """The registered unit as findings and supervisions name it."""
    return SupervisedUnit(
        id=unit.unit_id,
        kind=UnitKind(unit.kind.value),
        name=unit.name,
        division_code=unit.division_code,
        competent_department=unit.competent_department,
    )


async def lookup_unit(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, unit_id: str
) -> SupervisedUnit:
    """The supervision capability's ``LookupUnit``: a unit id → the registered unit (404 otherwise)."""
    return as_supervised_unit(await get_unit(uow, who, unit_id))


async def resolve_unit(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, unit: SupervisedUnit
) -> SupervisedUnit:
    """The rectification capability's ``ResolveUnit``: a government or department is the registered unit
    of that id, with its registered name, division and competent department (so a finding addresses a real
    unit, never a free string); an unknown one is a 422 naming ``unit.id``. Schools belong to school
    inspection's registry and pass as given."""
    if unit.kind == UnitKind.SCHOOL:
        return unit
    try:
        return await lookup_unit(uow, who, divisions, unit.id)
    except SupervisedUnitNotFound:
        raise field_error(
            UnknownSupervisedUnit, "unit.id", f"{unit.id} is not a registered {unit.kind.value} you can see"
        ) from None


def _division(divisions: DivisionTree, who: Principal, code: str, field: str = "division_code") -> None:
    try:
        divisions.require(code)
    except InvalidDivisionCode as exc:
        raise field_error(InvalidDivisionCode, field, exc.detail) from None
    require_within(divisions, who, code)


async def _require_competent(uow: UnitOfWork, who: Principal, ids: set[UUID], field: str) -> None:
    missing = ids - await repository.visible_ids(uow.session, who, ids)
    if missing:
        names = ", ".join(sorted(str(i) for i in missing))
        raise field_error(UnknownSupervisedUnit, field, f"{names}: not a registered unit you can see")


def _row(body: SupervisedUnitCreate, now: datetime) -> dict[str, Any]:
    return {
        "id": uuid7(),
        "kind": body.kind,
        "name": body.name,
        "division_code": body.division_code,
        "competent_department_id": body.competent_department_id,
        "responsible_people": [p.model_dump() for p in body.responsible_people],
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def _taken(body: SupervisedUnitCreate) -> SupervisedUnitTaken:
    return SupervisedUnitTaken(
        f"{body.division_code} already has {body.name}"
        + (" or a people's government" if body.kind == "government" else "")
    )


def _recorded(uow: UnitOfWork, row: dict[str, Any], **details: Any) -> None:
    uow.record(
        "supervised_unit.registered",
        "supervised_unit",
        row["id"],
        row["division_code"],
        kind=row["kind"].value,
        name=row["name"],
        **details,
    )


async def register(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: SupervisedUnitCreate
) -> dict[str, Any]:
    """The registered unit's row, as it will be written at commit."""
    _division(divisions, who, body.division_code)
    if body.competent_department_id is not None:
        await _require_competent(uow, who, {body.competent_department_id}, "competent_department_id")
    row = _row(body, uow.clock.now())
    repository.add(uow, [row], taken=_taken(body))
    _recorded(uow, row)
    return row


async def import_units(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, units: Sequence[SupervisedUnitCreate]
) -> list[dict[str, Any]]:
    """Register many units in one statement, by the rules of one registration: all or none, the first bad
    one named by its index (``units.3.division_code``)."""
    seen: dict[tuple[str, str], int] = {}
    for index, body in enumerate(units):
        _division(divisions, who, body.division_code, f"units.{index}.division_code")
        key = (body.division_code, body.name)
        if key in seen:
            raise field_error(InvalidInput, f"units.{index}.name", f"also unit {seen[key]} of this import")
        seen[key] = index
    competent = {b.competent_department_id for b in units if b.competent_department_id is not None}
    if competent:
        await _require_competent(uow, who, competent, "units.competent_department_id")
    now = uow.clock.now()
    rows = [_row(body, now) for body in units]
    import_id = uuid7()
    repository.add(uow, rows, taken=SupervisedUnitTaken("A unit of the import is already registered"))
    for row in rows:
        _recorded(uow, row, import_id=str(import_id))
    await uow.flush()  # one statement for the units, their audit entries with them
    return rows


async def update(
    uow: UnitOfWork, who: Principal, unit_id: UUID, if_match: str | None, body: SupervisedUnitUpdate
) -> dict[str, Any]:
    unit = await repository.get_visible(uow.session, who, unit_id, for_update=True)
    if unit is None:
        raise SupervisedUnitNotFound(f"Supervised unit {unit_id} does not exist")
    require_match(if_match, unit.id, unit.version)
    row = {c.key: getattr(unit, c.key) for c in repository.TABLE.columns}
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        return row
    if changes.get("name") is None:
        changes.pop("name", None)
    if changes.get("responsible_people") is None:
        changes.pop("responsible_people", None)
    competent = changes.get("competent_department_id")
    if competent == unit.id:
        raise field_error(
            InvalidInput, "competent_department_id", "a unit is not its own competent department"
        )
    if competent is not None:
        await _require_competent(uow, who, {competent}, "competent_department_id")
    row.update(changes, version=unit.version + 1, updated_at=uow.clock.now())
    repository.change(
        uow, row, taken=SupervisedUnitTaken(f"{unit.division_code} already has {changes.get('name')}")
    )
    uow.record(
        "supervised_unit.updated", "supervised_unit", unit.id, unit.division_code, changes=sorted(changes)
    )
    return row


async def page(
    uow: UnitOfWork,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    kind: str | None,
    updated_since: datetime | None,
) -> Sequence[RowMapping]:
    return await repository.page(
        uow.session, who, after=after, limit=limit + 1, within=within, kind=kind, updated_since=updated_since
    )
