"""Every query of duty evaluation, always through the jurisdiction helper."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import RowMapping, Select, Table, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dudao import pagination
from dudao.auth.principal import Principal
from dudao.errors import DomainError
from dudao.jurisdiction import listed, visible_to
from dudao.rectification.models import Finding, OriginKind, Rectification, RectificationStatus
from dudao.uow import UnitOfWork
from governance.evaluation.models import (
    DutyEvaluation,
    DutyEvaluationItem,
    EvaluationRound,
    EvaluationScheme,
    EvaluationStatus,
)

SCHEMES = cast(Table, EvaluationScheme.__table__)
ROUNDS = cast(Table, EvaluationRound.__table__)
EVALUATIONS = cast(Table, DutyEvaluation.__table__)
ITEMS = cast(Table, DutyEvaluationItem.__table__)


# Schemes ------------------------------------------------------------------------------------------------


def add_scheme(uow: UnitOfWork, row: Mapping[str, Any], *, edition_taken: DomainError) -> None:
    uow.insert(SCHEMES, [row], violations={"uq_evaluation_scheme_key_edition": edition_taken})


def _usable(who: Principal, above: Collection[str]) -> Any:
    """Schemes of the caller's own jurisdiction, and those the offices above it (``above``: its division's
    path from the region down) defined for the levels below them."""
    own = visible_to(select(EvaluationScheme.id), who, EvaluationScheme.office_division)
    return or_(EvaluationScheme.office_division.in_(above), EvaluationScheme.id.in_(own))


async def get_scheme(
    session: AsyncSession, who: Principal, above: Collection[str], scheme_id: UUID
) -> EvaluationScheme | None:
    stmt = select(EvaluationScheme).where(EvaluationScheme.id == scheme_id, _usable(who, above))
    return (await session.execute(stmt)).scalar_one_or_none()


async def latest_edition(session: AsyncSession, key: str) -> EvaluationScheme | None:
    """The newest edition of ``key`` wherever it was defined: a key names one scheme platform-wide."""
    stmt = (
        select(EvaluationScheme)
        .where(EvaluationScheme.key == key)
        .order_by(EvaluationScheme.edition.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def scheme_page(
    session: AsyncSession,
    who: Principal,
    above: Collection[str],
    *,
    after: UUID | None,
    limit: int,
    key: str | None,
) -> list[EvaluationScheme]:
    stmt = select(EvaluationScheme).where(_usable(who, above))
    stmt = pagination.page(
        stmt, EvaluationScheme.id, after=after, limit=limit, equal=[(EvaluationScheme.key, key)]
    )
    return list((await session.execute(stmt)).scalars())


# Rounds -------------------------------------------------------------------------------------------------


def add_round(
    uow: UnitOfWork,
    row: Mapping[str, Any],
    evaluations: Sequence[Mapping[str, Any]],
    items: Sequence[Mapping[str, Any]],
    *,
    year_taken: DomainError,
) -> None:
    """The round, its evaluations and their items: one statement each, at most."""
    uow.insert(ROUNDS, [row], violations={"uq_evaluation_round_office_division_year": year_taken})
    uow.insert(EVALUATIONS, evaluations)
    uow.insert(ITEMS, items)


async def get_round(
    session: AsyncSession, who: Principal, round_id: UUID, *, for_update: bool = False
) -> EvaluationRound | None:
    stmt = visible_to(select(EvaluationRound), who, EvaluationRound.office_division)
    stmt = stmt.where(EvaluationRound.id == round_id).options(selectinload(EvaluationRound.scheme))
    if for_update:
        stmt = stmt.with_for_update(of=EvaluationRound)
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()


async def round_page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    year: int | None,
    updated_since: datetime | None,
) -> Sequence[RowMapping]:
    stmt = listed(select(*ROUNDS.c), who, EvaluationRound.office_division, within)
    stmt = pagination.page(
        stmt,
        EvaluationRound.id,
        after=after,
        limit=limit,
        equal=[(EvaluationRound.year, year)],
        updated_at=EvaluationRound.updated_at,
        updated_since=updated_since,
    )
    return (await session.execute(stmt)).mappings().all()


def update_round(uow: UnitOfWork, row: Mapping[str, Any]) -> None:
    uow.update(ROUNDS, [row])


# Evaluations --------------------------------------------------------------------------------------------


def _visible_evaluations(who: Principal) -> Any:
    """Within the caller's jurisdiction; a supervised unit's principal sees only its own unit's."""
    return visible_to(select(DutyEvaluation), who, DutyEvaluation.division_code, DutyEvaluation.unit_id)


async def get_evaluation(
    session: AsyncSession, who: Principal, evaluation_id: UUID, *, for_update: bool = False
) -> DutyEvaluation | None:
    """With its items and its round's scheme; re-read from the database (a change written set-wise is
    not in the ORM's copy)."""
    stmt = _visible_evaluations(who).where(DutyEvaluation.id == evaluation_id)
    stmt = stmt.options(
        selectinload(DutyEvaluation.items),
        selectinload(DutyEvaluation.round).selectinload(EvaluationRound.scheme),
    )
    if for_update:
        stmt = stmt.with_for_update(of=DutyEvaluation)
    result = await session.execute(stmt.execution_options(populate_existing=True))
    return cast(DutyEvaluation | None, result.scalar_one_or_none())


async def evaluation_page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    round_id: UUID | None,
    unit_id: str | None,
    status: EvaluationStatus | None,
    updated_since: datetime | None,
) -> Sequence[RowMapping]:
    stmt = _visible_evaluations(who).with_only_columns(*EVALUATIONS.c)
    if within:
        stmt = stmt.where(DutyEvaluation.division_code.startswith(within, autoescape=True))
    stmt = pagination.page(
        stmt,
        DutyEvaluation.id,
        after=after,
        limit=limit,
        equal=[
            (DutyEvaluation.round_id, round_id),
            (DutyEvaluation.unit_id, unit_id),
            (DutyEvaluation.status, status),
        ],
        updated_at=DutyEvaluation.updated_at,
        updated_since=updated_since,
    )
    return (await session.execute(stmt)).mappings().all()


async def lock_round_evaluations(
    session: AsyncSession, who: Principal, round_id: UUID
) -> list[DutyEvaluation]:
    stmt = _visible_evaluations(who).where(DutyEvaluation.round_id == round_id)
    stmt = stmt.order_by(DutyEvaluation.id).with_for_update()
    return list((await session.execute(stmt.execution_options(populate_existing=True))).scalars())


def update_evaluations(uow: UnitOfWork, rows: Iterable[Mapping[str, Any]]) -> None:
    uow.update(EVALUATIONS, rows)


def update_items(uow: UnitOfWork, rows: Iterable[Mapping[str, Any]]) -> None:
    uow.update(ITEMS, rows, keys=("evaluation_id", "item_code"))


async def open_rectifications(
    session: AsyncSession, who: Principal, supervision_ids: Collection[UUID]
) -> dict[UUID, int]:
    """Findings the supervisions' opinions raised that are not closed out yet, per supervision."""
    if not supervision_ids:
        return {}
    refs = {str(i): i for i in supervision_ids}
    stmt: Select[*tuple[Any, ...]] = (
        select(Finding.origin_ref, func.count())
        .join(Rectification, Rectification.finding_id == Finding.id)
        .where(
            Finding.origin_kind == OriginKind.SUPERVISION,
            Finding.origin_ref.in_(refs),
            Rectification.status != RectificationStatus.CLOSED,
        )
        .group_by(Finding.origin_ref)
    )
    stmt = visible_to(stmt, who, Rectification.division_code)
    counts = {refs[ref]: count for ref, count in await session.execute(stmt) if ref is not None}
    return {i: counts.get(i, 0) for i in supervision_ids}


# The public results (二七) --------------------------------------------------------------------------------


async def public_page(
    session: AsyncSession,
    *,
    after: UUID | None,
    limit: int,
    year: int | None,
    round_id: UUID | None,
    within: str | None,
) -> Sequence[RowMapping]:
    """Published results, and only the columns a portal shows."""
    stmt: Select[*tuple[Any, ...]] = (
        select(
            DutyEvaluation.id,
            DutyEvaluation.round_id,
            DutyEvaluation.year,
            EvaluationRound.title.label("round_title"),
            DutyEvaluation.office_division,
            DutyEvaluation.unit_id,
            DutyEvaluation.unit_name,
            DutyEvaluation.unit_kind,
            DutyEvaluation.division_code,
            DutyEvaluation.score,
            DutyEvaluation.grade,
        )
        .join(EvaluationRound, EvaluationRound.id == DutyEvaluation.round_id)
        .where(DutyEvaluation.status == EvaluationStatus.PUBLISHED)
    )
    if within:
        stmt = stmt.where(DutyEvaluation.division_code.startswith(within, autoescape=True))
    stmt = pagination.page(
        stmt,
        DutyEvaluation.id,
        after=after,
        limit=limit,
        equal=[(DutyEvaluation.year, year), (DutyEvaluation.round_id, round_id)],
    )
    return (await session.execute(stmt)).mappings().all()
