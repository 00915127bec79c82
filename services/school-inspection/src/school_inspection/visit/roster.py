"""The inspectors a visit's team or a draw's pool names: known to the caller, and able to serve.

The rules of who may serve are the inspector registry's (``school_inspection.inspector``); this module
applies them to a team or a pool, in as few queries as it can.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from dudao.auth.principal import Principal
from dudao.errors import InvalidInput
from dudao.uow import UnitOfWork
from school_inspection.inspector import repository as inspectors
from school_inspection.inspector import service as inspector_service
from school_inspection.inspector.models import Inspector
from school_inspection.school.models import School


class UnknownInspectors(InvalidInput):
    type = "unknown-inspectors"
    title = "An inspector id is not an inspector you can see"


async def require_known(
    session: AsyncSession, who: Principal, inspector_ids: Sequence[UUID]
) -> list[Inspector]:
    """The inspectors, in the order named; an id that is not an inspector ``who`` can see is refused."""
    found = {i.id: i for i in await inspectors.visible_among(session, who, inspector_ids)}
    unknown = sorted(str(i) for i in set(inspector_ids) - found.keys())
    if unknown:
        raise UnknownInspectors(f"Not inspectors you can see: {', '.join(unknown)}")
    return [found[i] for i in inspector_ids]


async def require_team(
    uow: UnitOfWork, who: Principal, inspector_ids: Sequence[UUID], school: School
) -> None:
    """Every member of a visit's team is known and may serve at the school today (not recused)."""
    today = uow.clock.today()
    for inspector in await require_known(uow.session, who, inspector_ids):
        await inspector_service.ensure_can_serve(uow, inspector, school, on=today)


async def draw_pool(
    uow: UnitOfWork, who: Principal, division_prefix: str, named: Sequence[UUID] | None
) -> list[UUID]:
    """The inspectors a draw under ``division_prefix`` draws from, ascending: the registry's pool of those
    who may serve today, or the named ones, each of whom must be in that pool."""
    today = uow.clock.today()
    pool = await inspectors.draw_pool(uow.session, division_prefix, today)
    if named is None:
        return pool
    eligible = set(pool)
    for inspector in await require_known(uow.session, who, named):
        if inspector.id not in eligible:
            # Why it may not serve; one that may was appointed outside the draw's division.
            await inspector_service.ensure_eligible(uow, inspector, today)
            raise UnknownInspectors(f"Inspector {inspector.id} was appointed outside the draw's division")
    return sorted(named)
