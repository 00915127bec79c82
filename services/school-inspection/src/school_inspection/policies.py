"""Policy data by jurisdiction (the inspection thresholds, the visit rules): one row per division-code
prefix, and the row with the longest prefix of a division's code is in force. Setting a jurisdiction's own
row is the same act for every kind of policy. No SQL, no commit."""

from __future__ import annotations

from typing import Any

from dudao.auth.principal import Principal
from dudao.divisions.tree import DivisionTree, jurisdiction_prefix
from dudao.etag import require_match
from dudao.uow import UnitOfWork
from school_inspection import queries
from school_inspection.queries import Policy
from school_inspection.school.service import require_within


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
    policy = await queries.policy_row(uow.session, model, prefix)
    created = policy is None
    if policy is None:
        policy = model(division_prefix=prefix, **values, updated_by=who.sub, updated_at=now)
        await queries.add(uow.session, policy)
    else:
        require_match(if_match, policy.id, policy.version)
        for field, value in values.items():
            setattr(policy, field, value)
        policy.updated_by, policy.updated_at = who.sub, now
        await uow.session.flush()
    name = model.__tablename__
    uow.record(f"{name}.set", name, policy.id, division_code, division_prefix=prefix, **values)
    return policy, created
