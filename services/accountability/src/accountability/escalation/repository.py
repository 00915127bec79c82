"""Every query about ladders, cases, their facts and steps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Select,
    String,
    Table,
    bindparam,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from accountability.db import SCHEMA
from accountability.documents.repository import DETAILS
from accountability.escalation.models import (
    CASES,
    FACTS,
    LADDERS,
    VISITS_BEHIND,
    CaseStatus,
    EscalationCase,
    EscalationLadder,
    EscalationStep,
)
from dudao import bulk, pagination
from dudao.auth.principal import Principal
from dudao.jurisdiction import visible_to

S = TypeVar("S", bound=Select[Any])


async def latest_in_scope(
    session: AsyncSession, category: str | None, prefix: str | None
) -> EscalationLadder | None:
    """The scope's newest version, locked so that two new versions of one scope queue."""
    stmt = (
        select(EscalationLadder)
        .where(
            EscalationLadder.finding_category.is_not_distinct_from(category),
            EscalationLadder.division_prefix.is_not_distinct_from(prefix),
        )
        .order_by(EscalationLadder.version.desc())
        .limit(1)
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def add_ladder(session: AsyncSession, ladder: EscalationLadder) -> EscalationLadder:
    """Add a version; the older versions of its scope stop applying to new cases."""
    await session.execute(
        update(EscalationLadder)
        .where(
            EscalationLadder.finding_category.is_not_distinct_from(ladder.finding_category),
            EscalationLadder.division_prefix.is_not_distinct_from(ladder.division_prefix),
            EscalationLadder.active,
        )
        .values(active=False)
    )
    session.add(ladder)
    await session.flush()
    return ladder


async def ladder_page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    category: str | None,
    active: bool | None,
) -> list[EscalationLadder]:
    """Ladders that can apply within the principal's jurisdiction: everywhere, above or inside it."""
    prefix = EscalationLadder.division_prefix
    applies: list[ColumnElement[bool]] = [prefix.is_(None)]
    for jurisdiction in who.jurisdictions:
        applies += [
            prefix.startswith(jurisdiction, autoescape=True),
            literal(jurisdiction).startswith(prefix),
        ]
    stmt = pagination.page(
        select(EscalationLadder).where(or_(*applies)),
        EscalationLadder.id,
        after=after,
        limit=limit,
        equal=[(EscalationLadder.finding_category, category), (EscalationLadder.active, active)],
    )
    return list((await session.execute(stmt)).scalars())


@dataclass
class Ladder:
    """An active ladder, as the escalation picks one for a new case."""

    id: UUID
    version: int
    finding_category: str | None
    division_prefix: str | None
    steps: list[dict[str, Any]]


@dataclass
class Case:
    """A case as the escalation changes it: locked for the transaction, written back with one update."""

    id: UUID
    origin: str
    rectification_id: str
    category: str
    severity: str
    requirement: str | None
    unit_id: str
    unit_kind: str
    unit_name: str
    competent_department: str | None
    office_division: str
    division_code: str
    ladder_version: int
    ladder_position: int
    step_count: int
    status: CaseStatus
    closed_at: datetime | None
    ladder_steps: list[dict[str, Any]]  # the steps of the ladder the case started with


_CASE_COLUMNS = [CASES.c[f.name] for f in fields(Case) if f.name != "ladder_steps"]


def _keys(keys: Sequence[tuple[str, str]]) -> Any:
    """``(origin, rectification_id)`` pairs as rows, from two arrays: one statement text for any number."""
    return select(
        func.unnest(
            bindparam("origins", [k[0] for k in keys], type_=ARRAY(String)),
            bindparam("rectification_ids", [k[1] for k in keys], type_=ARRAY(String)),
        )
        .table_valued("origin", "rectification_id")
        .render_derived()
    )


async def lock_cases(session: AsyncSession, keys: Sequence[tuple[str, str]]) -> list[Case]:
    """The cases of ``keys`` (origin, rectification id) that exist, with their ladders' steps, locked in
    id order, so that two batches sharing cases never wait for each other crosswise."""
    if not keys:
        return []
    stmt = (
        select(*_CASE_COLUMNS, LADDERS.c.steps.label("ladder_steps"))
        .join(LADDERS, LADDERS.c.id == CASES.c.ladder_id)
        .where(tuple_(CASES.c.origin, CASES.c.rectification_id).in_(_keys(keys)))
        .order_by(CASES.c.id)
        .with_for_update(of=CASES)
    )
    return [Case(**row._mapping) for row in await session.execute(stmt)]


async def active_ladders(session: AsyncSession) -> list[Ladder]:
    """Every active ladder: a handful (one per scope), so a batch picks among them in memory."""
    columns = [LADDERS.c[f.name] for f in fields(Ladder)]
    return [Ladder(**row._mapping) for row in await session.execute(select(*columns).where(LADDERS.c.active))]


async def _insert_new(session: AsyncSession, table: Table, rows: list[dict[str, Any]], key: str) -> list[Any]:
    """Insert the rows that do not conflict with one already there; the ``key`` of those inserted. A
    concurrent twin of a row waits on the unique index, then finds it there."""
    write = bulk.write("insert_ignore", table, rows, schema=table.schema or SCHEMA)
    if write is None:
        return []
    return [row[0] for row in await bulk.fetch(session, write, [key])]


async def open_cases(session: AsyncSession, rows: list[dict[str, Any]]) -> set[UUID]:
    """Insert the cases of rectifications that have none yet; the ids of those this call inserted."""
    rows = sorted(rows, key=lambda r: (r["origin"], r["rectification_id"]))
    return set(await _insert_new(session, CASES, rows, "id"))


async def note_facts(session: AsyncSession, rows: list[dict[str, Any]]) -> set[UUID]:
    """Record facts on their cases; the fact ids that were not recorded before."""
    rows = sorted(rows, key=lambda r: r["fact_id"])
    return set(await _insert_new(session, FACTS, rows, "fact_id"))


async def note_visits_behind(session: AsyncSession, rows: list[dict[str, Any]]) -> set[UUID]:
    """Record schools' falling behind; the fact ids that were not recorded before."""
    rows = sorted(rows, key=lambda r: r["fact_id"])
    return set(await _insert_new(session, VISITS_BEHIND, rows, "fact_id"))


async def lock_visible_case(session: AsyncSession, who: Principal, case_id: UUID) -> Case | None:
    """One case for a step ordered by hand, locked; None outside the principal's jurisdiction."""
    stmt = (
        _visible(
            who,
            select(*_CASE_COLUMNS, LADDERS.c.steps.label("ladder_steps")).join(
                LADDERS, LADDERS.c.id == CASES.c.ladder_id
            ),
        )
        .where(CASES.c.id == case_id)
        .with_for_update(of=CASES)
    )
    row = (await session.execute(stmt)).first()
    return Case(**row._mapping) if row else None


def _visible(who: Principal, stmt: S) -> S:
    return visible_to(stmt, who, CASES.c.division_code, CASES.c.unit_id, CASES.c.competent_department)


def _visible_cases(who: Principal) -> Select[EscalationCase]:
    return _visible(who, select(EscalationCase))


async def get_visible_case(
    session: AsyncSession, who: Principal, case_id: UUID, *, detail: bool = False
) -> EscalationCase | None:
    stmt = _visible_cases(who).where(EscalationCase.id == case_id)
    if detail:
        stmt = stmt.options(
            selectinload(EscalationCase.steps).selectinload(EscalationStep.document),
            selectinload(EscalationCase.facts),
            selectinload(EscalationCase.documents).options(*DETAILS),
        )
    return (await session.execute(stmt)).scalar_one_or_none()


async def case_page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    status: CaseStatus | None,
    rectification_id: str | None,
    unit_id: str | None,
) -> list[EscalationCase]:
    stmt = pagination.page(
        _visible_cases(who),
        EscalationCase.id,
        after=after,
        limit=limit,
        equal=[
            (EscalationCase.status, status),
            (EscalationCase.rectification_id, rectification_id),
            (EscalationCase.unit_id, unit_id),
        ],
    )
    return list((await session.execute(stmt)).scalars())
