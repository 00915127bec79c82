"""Every query about supervised units, always through the jurisdiction helper; a supervised unit's own
principal (``org`` = its id) sees that unit alone."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import ARRAY, RowMapping, String, Table, Uuid, any_, bindparam, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession

from dudao import pagination
from dudao.auth.principal import Principal
from dudao.errors import DomainError
from dudao.jurisdiction import listed, visible_to
from dudao.uow import UnitOfWork
from governance.unit.models import SupervisedUnitRecord

TABLE = cast(Table, SupervisedUnitRecord.__table__)
_AS_ADDRESSEE = sql_cast(SupervisedUnitRecord.id, String)


def add(uow: UnitOfWork, units: list[dict[str, Any]], *, taken: DomainError) -> None:
    """One statement however many; a name or a government already registered in the division is
    ``taken`` when written (the unique constraints decide, race-free)."""
    uow.insert(
        TABLE,
        units,
        violations={"uq_supervised_unit_division_code_name": taken, "uq_supervised_unit_government": taken},
    )


def change(uow: UnitOfWork, unit: dict[str, Any], *, taken: DomainError) -> None:
    """The unit's new columns (its row is locked by ``get_visible(for_update=True)``); a name already
    registered in the division is ``taken`` when written."""
    uow.update(TABLE, [unit], violations={"uq_supervised_unit_division_code_name": taken})


async def get_visible(
    session: AsyncSession, who: Principal, unit_id: UUID, *, for_update: bool = False
) -> SupervisedUnitRecord | None:
    stmt = visible_to(select(SupervisedUnitRecord), who, SupervisedUnitRecord.division_code, _AS_ADDRESSEE)
    stmt = stmt.where(SupervisedUnitRecord.id == unit_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def visible_ids(session: AsyncSession, who: Principal, unit_ids: Collection[UUID]) -> set[UUID]:
    """Which of these units the principal sees: one array parameter, however many."""
    stmt = visible_to(
        select(SupervisedUnitRecord.id), who, SupervisedUnitRecord.division_code, _AS_ADDRESSEE
    ).where(SupervisedUnitRecord.id == any_(bindparam("ids", list(unit_ids), type_=ARRAY(Uuid))))
    return set((await session.execute(stmt)).scalars())


async def page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    kind: str | None,
    updated_since: datetime | None,
) -> Sequence[RowMapping]:
    stmt = listed(select(*TABLE.c), who, SupervisedUnitRecord.division_code, within)
    stmt = visible_to(stmt, who, SupervisedUnitRecord.division_code, _AS_ADDRESSEE)
    stmt = pagination.page(
        stmt,
        SupervisedUnitRecord.id,
        after=after,
        limit=limit,
        equal=[(SupervisedUnitRecord.kind, kind)],
        updated_at=SupervisedUnitRecord.updated_at,
        updated_since=updated_since,
    )
    return (await session.execute(stmt)).mappings().all()
