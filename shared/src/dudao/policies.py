"""Policy data by jurisdiction: one row per division-code prefix, and the row with the longest prefix of a
division's code is in force (a row for the empty prefix applies everywhere). Setting a jurisdiction's own
row is the same act for every kind of policy; what a policy holds is its service's model."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeVar
from uuid import UUID

from sqlalchemy import FromClause, Select, func, select

from dudao.auth.principal import Principal
from dudao.divisions.tree import DivisionTree, jurisdiction_prefix
from dudao.etag import require_match
from dudao.jurisdiction import require_within
from dudao.uow import UnitOfWork

S = TypeVar("S", bound=Select[Any])


class PolicyRow(Protocol):
    """The columns every policy model has besides its own values (``version`` is its version_id_col)."""

    __tablename__: str
    __table__: ClassVar[FromClause]
    id: UUID
    division_prefix: str
    version: int
    updated_by: str
    updated_at: datetime

    def __init__(self, **values: Any) -> None: ...


Policy = TypeVar("Policy", bound=PolicyRow)


def in_force(stmt: S, division_prefix: Any, division_code: Any) -> S:
    """``stmt`` narrowed to the policy row with the longest ``division_prefix`` of ``division_code`` (a
    value or a correlated column)."""
    return (
        stmt.where(func.starts_with(division_code, division_prefix))
        .order_by(func.length(division_prefix).desc())
        .limit(1)
    )


async def put(
    uow: UnitOfWork,
    who: Principal,
    divisions: DivisionTree,
    model: type[Policy],
    division_code: str,
    if_match: str | None,
    values: dict[str, Any],
) -> tuple[Policy, bool]:
    """Create or replace the policy of a division's jurisdiction (replacing needs If-Match); True when the
    row is new."""
    require_within(divisions, who, division_code)
    prefix = jurisdiction_prefix(division_code)
    now = uow.clock.now()
    stmt = select(model).where(model.__table__.c.division_prefix == prefix).with_for_update()
    policy = (await uow.session.execute(stmt)).scalar_one_or_none()
    created = policy is None
    if policy is None:
        policy = model(division_prefix=prefix, **values, updated_by=who.sub, updated_at=now)
        uow.session.add(policy)
    else:
        require_match(if_match, policy.id, policy.version)
        for field, value in values.items():
            setattr(policy, field, value)
        policy.updated_by, policy.updated_at = who.sub, now
    await uow.session.flush()
    name = model.__tablename__
    uow.record(f"{name}.set", name, policy.id, division_code, division_prefix=prefix, **values)
    return policy, created
