"""Every query of supervisions, always through the jurisdiction helper, and the writes handed to the unit
of work (one statement per table)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar, cast
from uuid import UUID

from sqlalchemy import ARRAY, Select, Table, Uuid, any_, bindparam, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dudao import pagination
from dudao.auth.principal import Principal
from dudao.jurisdiction import addressed_only, listed, visible_to
from dudao.supervision.models import (
    Hearing,
    InspectorAppointment,
    InspectorEnded,
    InspectorTermServed,
    InspectorTie,
    InspectorTraining,
    Supervision,
    SupervisionKind,
    SupervisionStatus,
    SupervisionUnit,
    TeamMember,
)
from dudao.uow import UnitOfWork

S = TypeVar("S", bound=Select[Any])


def table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


SUPERVISION, UNIT, TEAM, HEARING = (
    table(Supervision),
    table(SupervisionUnit),
    table(TeamMember),
    table(Hearing),
)


def _visible(stmt: S, who: Principal) -> S:
    """Offices, inspectors and member units see the supervisions in their jurisdiction; a supervised unit
    those it is a unit of."""
    if addressed_only(who):
        own = visible_to(
            select(SupervisionUnit.supervision_id),
            who,
            SupervisionUnit.division_code,
            SupervisionUnit.unit_id,
        )
        return stmt.where(Supervision.id.in_(own))
    return visible_to(stmt, who, Supervision.division_code)


def add(uow: UnitOfWork, supervision: Mapping[str, Any], units: Iterable[Mapping[str, Any]]) -> None:
    uow.insert(SUPERVISION, [supervision])
    uow.insert(UNIT, units)


def change(uow: UnitOfWork, values: Mapping[str, Any]) -> None:
    """Columns of one supervision the caller has locked (its ``id`` among them)."""
    uow.update(SUPERVISION, [values])


def change_unit(uow: UnitOfWork, values: Mapping[str, Any]) -> None:
    uow.update(UNIT, [values], keys=("supervision_id", "unit_id"))


async def replace_team(uow: UnitOfWork, supervision_id: UUID, members: list[dict[str, Any]]) -> None:
    """The team as given, in place of the one before (the caller holds the supervision's lock)."""
    await uow.session.execute(delete(TeamMember).where(TeamMember.supervision_id == supervision_id))
    uow.insert(TEAM, members)


def add_hearing(uow: UnitOfWork, hearing: Mapping[str, Any]) -> None:
    uow.insert(HEARING, [hearing])


async def get_visible(
    session: AsyncSession,
    who: Principal,
    supervision_id: UUID,
    *,
    for_update: bool = False,
    with_parts: bool = False,
) -> Supervision | None:
    stmt = _visible(select(Supervision), who).where(Supervision.id == supervision_id)
    stmt = stmt.options(selectinload(Supervision.units))
    if with_parts:
        stmt = stmt.options(selectinload(Supervision.team), selectinload(Supervision.hearings))
    if for_update:
        stmt = stmt.with_for_update(of=Supervision)
    # populate_existing: a read after the unit of work wrote the row sees what it wrote.
    stmt = stmt.execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    status: SupervisionStatus | None,
    kind: SupervisionKind | None,
    ref: str | None,
    unit_id: str | None,
    updated_since: datetime | None,
) -> list[Supervision]:
    stmt = listed(_visible(select(Supervision), who), who, Supervision.division_code, within)
    if unit_id is not None:
        stmt = stmt.where(
            exists().where(
                SupervisionUnit.supervision_id == Supervision.id, SupervisionUnit.unit_id == unit_id
            )
        )
    stmt = pagination.page(
        stmt.options(selectinload(Supervision.units)),
        Supervision.id,
        after=after,
        limit=limit,
        equal=[(Supervision.status, status), (Supervision.kind, kind), (Supervision.ref, ref)],
        updated_at=Supervision.updated_at,
        updated_since=updated_since,
    )
    return list((await session.execute(stmt)).scalars())


def _published() -> Select[Any]:
    return (
        select(Supervision)
        .where(Supervision.status == SupervisionStatus.PUBLISHED)
        .options(selectinload(Supervision.units))
    )


async def public_get(session: AsyncSession, supervision_id: UUID) -> Supervision | None:
    stmt = _published().where(Supervision.id == supervision_id)
    found: Supervision | None = (await session.execute(stmt)).scalar_one_or_none()
    return found


async def public_page(
    session: AsyncSession, *, after: UUID | None, limit: int, within: str | None
) -> list[Supervision]:
    """Published supervisions, newest first: public, so by the division prefix asked for, not a caller's."""
    stmt = _published()
    if within:
        stmt = stmt.where(Supervision.division_code.startswith(within, autoescape=True))
    stmt = pagination.page(stmt, Supervision.id, after=after, limit=limit, newest_first=True)
    return list((await session.execute(stmt)).scalars())


# --- the team and the inspector projection -----------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """What the projection knows of an inspector on a day, for the team check."""

    inspector_id: UUID
    name: str
    part_time: bool
    appointed_on: date
    ended_on: date | None
    trained: bool
    term_covers: bool
    tied_units: list[str]


async def standings(
    session: AsyncSession, inspector_ids: Sequence[UUID], unit_ids: Sequence[str], on: date
) -> dict[UUID, Standing]:
    """In two queries: each known inspector's appointment, end, pre-service training, a term covering
    ``on`` and ties to any of ``unit_ids``. Inspectors the projection does not know are absent."""
    a = InspectorAppointment
    ids = bindparam("ids", sorted(set(inspector_ids)), type_=ARRAY(Uuid()))
    units = bindparam("units", sorted(set(unit_ids)), type_=ARRAY(InspectorTie.unit_id.type))
    trained = exists().where(
        InspectorTraining.inspector_id == a.inspector_id, InspectorTraining.kind == "pre_service"
    )
    covered = exists().where(
        InspectorTermServed.inspector_id == a.inspector_id,
        InspectorTermServed.starts_on <= on,
        InspectorTermServed.ends_on >= on,
    )
    stmt = (
        select(
            a.inspector_id,
            a.name,
            a.employment,
            a.appointed_on,
            InspectorEnded.ended_on,
            trained.label("trained"),
            covered.label("term_covers"),
        )
        .outerjoin(InspectorEnded, InspectorEnded.inspector_id == a.inspector_id)
        .where(a.inspector_id == any_(ids))
    )
    tied: dict[UUID, list[str]] = {}
    tie_rows = await session.execute(
        select(InspectorTie.inspector_id, InspectorTie.unit_id).where(
            InspectorTie.inspector_id == any_(ids), InspectorTie.unit_id == any_(units)
        )
    )
    for inspector_id, unit_id in tie_rows:
        tied.setdefault(inspector_id, []).append(unit_id)
    out = {}
    for row in (await session.execute(stmt)).mappings():
        out[row["inspector_id"]] = Standing(
            inspector_id=row["inspector_id"],
            name=row["name"],
            part_time=row["employment"] == "part_time",
            appointed_on=row["appointed_on"],
            ended_on=row["ended_on"],
            trained=row["trained"],
            term_covers=row["term_covers"],
            tied_units=sorted(tied.get(row["inspector_id"], [])),
        )
    return out


def project(uow: UnitOfWork, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """Facts of the inspector projection, once each: a redelivered or replayed fact changes nothing."""
    uow.insert(table(model), rows, ignore_conflicts=True)
