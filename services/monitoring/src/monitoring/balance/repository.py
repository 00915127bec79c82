"""Every query of balanced development.

The computation's read (``school_values``) is one statement for any number of counties: the roster's
schools under a prefix, each with its year's approved base values pivoted into columns, as floats. It
reads M2's value table itself: ``collection.repository.approved`` returns one row per value, ten times the
rows (and Decimals) that 25,000 schools need here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import ColumnElement, Float, String, Table, func, select, text, type_coerce
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.sqltypes import NullType

from dudao import pagination
from dudao.auth.principal import Principal
from dudao.errors import DomainError
from dudao.jurisdiction import listed, visible_to
from dudao.uow import UnitOfWork
from monitoring.balance.compute import Status
from monitoring.balance.models import BalanceFinding, BalanceVerdict
from monitoring.collection.models import DataValue
from monitoring.indicator.models import UnitKind
from monitoring.roster.models import RosterSchool

# The roster's own pupils per stage, columns named as the elements.
ROSTER_PUPILS = ("pupils_primary", "pupils_junior", "pupils_senior")
VERDICTS = cast(Table, BalanceVerdict.__table__)
FINDINGS = cast(Table, BalanceFinding.__table__)
ROSTER = ("school_id", "division_code", "name", "school_type", "teaching_point")


@dataclass(frozen=True)
class SchoolColumns:
    """The roster's schools under a prefix as columns, in one order: ``values`` has a row per school and a
    column per element code asked for (None where no value is approved)."""

    ids: list[str]
    division_codes: list[str]
    names: list[str]
    types: list[str]
    teaching_points: list[bool]
    values: list[list[float | None]]


async def school_values(
    session: AsyncSession,
    who: Principal,
    *,
    system_id: UUID,
    year: int,
    prefix: str,
    element_codes: Sequence[str],
) -> SchoolColumns:
    """Every roster school under ``prefix`` within the caller's jurisdiction, with its year's approved
    values of ``element_codes`` (for the pupils per stage, the roster's where none is approved)."""
    pivot = [
        func.max(DataValue.value.cast(Float)).filter(DataValue.element_code == code).label(f"v{n}")
        for n, code in enumerate(element_codes)
    ]
    values = (
        select(DataValue.unit_id, *pivot)
        .where(
            DataValue.system_id == system_id,
            DataValue.year == year,
            DataValue.unit_kind == UnitKind.SCHOOL,
            DataValue.division_code.startswith(prefix, autoescape=True),
        )
        .group_by(DataValue.unit_id)
        .subquery()
    )
    found = array(
        [
            func.coalesce(values.c[f"v{n}"], getattr(RosterSchool, code).cast(Float))
            if code in ROSTER_PUPILS
            else values.c[f"v{n}"]
            for n, code in enumerate(element_codes)
        ]
    )
    school_id = RosterSchool.school_id.cast(String)  # as text: the values name units so
    columns = (school_id, RosterSchool.division_code, RosterSchool.name, RosterSchool.school_type)
    # One row of arrays, typed as nothing: asyncpg decodes them in C, where SQLAlchemy's ARRAY type would
    # walk 25,000 rows' lists again in Python (two thirds of the read).
    aggregated: list[ColumnElement[Any]] = [
        type_coerce(func.array_agg(c), NullType()) for c in (*columns, RosterSchool.teaching_point, found)
    ]
    stmt = select(*aggregated).select_from(RosterSchool).outerjoin(values, values.c.unit_id == school_id)
    stmt = listed(stmt, who, RosterSchool.division_code, prefix)
    connection = await session.connection()
    # The region's values pivot in memory rather than spilling to disk (PostgreSQL's 4 MB default). And a
    # plan for this prefix each time: from the sixth run the cached statement's generic plan guesses one
    # school under an unknown prefix and re-aggregates all values for each of 25,000 (hours, not 0.2 s).
    await connection.execute(text("SET LOCAL work_mem = '64MB'"))
    await connection.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    row = (await connection.execute(stmt)).one()
    # In no order: the computation groups schools by county itself, keeping this order within each.
    ids, division_codes, names, types, teaching_points, found_values = (list(c or ()) for c in row)
    return SchoolColumns(ids, division_codes, names, types, teaching_points, found_values)


def save_verdicts(uow: UnitOfWork, rows: Sequence[dict[str, Any]]) -> None:
    """The verdicts, one statement however many: each replaces its county's and year's under the system."""
    uow.upsert(VERDICTS, rows, keys=["system_id", "division_code", "year"])


async def verdict_versions(
    session: AsyncSession, system_id: UUID, year: int, counties: Collection[str]
) -> dict[str, tuple[UUID, int, datetime]]:
    """The id, version and creation time of the verdicts already given for these counties and year."""
    stmt = (
        select(
            BalanceVerdict.division_code, BalanceVerdict.id, BalanceVerdict.version, BalanceVerdict.created_at
        )
        .where(
            BalanceVerdict.system_id == system_id,
            BalanceVerdict.year == year,
            BalanceVerdict.division_code.in_(list(counties)),
        )
        .with_for_update()
    )
    return {r.division_code: (r.id, r.version, r.created_at) for r in (await session.execute(stmt)).all()}


async def raised(session: AsyncSession, year: int, counties: Collection[str]) -> set[tuple[str, str]]:
    """The (county, criterion) pairs that already have their finding for the year."""
    stmt = select(BalanceFinding.division_code, BalanceFinding.criterion).where(
        BalanceFinding.year == year, BalanceFinding.division_code.in_(list(counties))
    )
    return {(r.division_code, r.criterion) for r in (await session.execute(stmt)).all()}


def add_findings(uow: UnitOfWork, rows: Sequence[dict[str, Any]], taken: DomainError) -> None:
    uow.insert(FINDINGS, rows, violations={"pk_balance_finding": taken})


async def get(session: AsyncSession, who: Principal, verdict_id: UUID) -> BalanceVerdict | None:
    stmt = visible_to(select(BalanceVerdict), who, BalanceVerdict.division_code).where(
        BalanceVerdict.id == verdict_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    year: int | None,
    status: Status | None,
    updated_since: datetime | None,
) -> list[BalanceVerdict]:
    stmt = listed(select(BalanceVerdict), who, BalanceVerdict.division_code, within)
    stmt = pagination.page(
        stmt,
        BalanceVerdict.id,
        after=after,
        limit=limit,
        equal=[(BalanceVerdict.year, year), (BalanceVerdict.status, status)],
        updated_at=BalanceVerdict.updated_at,
        updated_since=updated_since,
    )
    return list((await session.execute(stmt)).scalars())
