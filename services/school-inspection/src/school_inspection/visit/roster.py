"""The inspector registry as visits and draws need it: who exists, who must recuse (回避), who may be drawn.

``school_inspection.inspector`` owns inspectors and their conflict-of-interest records and is built beside
this package, so its repository is imported lazily. From it this module uses
``get_visible(session, who, inspector_id)`` and ``is_recused(session, inspector_id, school_id)``, and, once
the registry offers it, ``draw_pool(session, division_prefix) -> list[UUID]``: the inspectors who may be
drawn for a random supervision there. Without the registry nothing is known: every id is accepted, no
pair is recused and there is no pool (a draw then names its inspectors).
"""

from __future__ import annotations

import importlib
from collections.abc import Collection
from types import ModuleType
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from dudao.auth.principal import Principal
from dudao.errors import InvalidInput

REGISTRY = "school_inspection.inspector.repository"


class UnknownInspectors(InvalidInput):
    type = "unknown-inspectors"
    title = "An inspector id is not an inspector you can see"


def _registry() -> ModuleType | None:
    try:
        return importlib.import_module(REGISTRY)
    except ModuleNotFoundError as exc:
        if exc.name is not None and REGISTRY.startswith(exc.name):
            return None
        raise


async def require_known(session: AsyncSession, who: Principal, inspector_ids: Collection[UUID]) -> None:
    """Refuse ids that are not inspectors ``who`` can see."""
    registry = _registry()
    if registry is None:
        return
    unknown = [str(i) for i in inspector_ids if await registry.get_visible(session, who, i) is None]
    if unknown:
        raise UnknownInspectors(f"Not inspectors you can see: {', '.join(sorted(unknown))}")


async def recused_pairs(
    session: AsyncSession, inspector_ids: Collection[UUID], school_ids: Collection[UUID]
) -> set[tuple[UUID, UUID]]:
    """The (inspector, school) pairs among these that a conflict of interest keeps apart."""
    registry = _registry()
    if registry is None:
        return set()
    return {(i, s) for i in inspector_ids for s in school_ids if await registry.is_recused(session, i, s)}


async def draw_pool(session: AsyncSession, division_prefix: str) -> list[UUID] | None:
    """The registry's pool of inspectors for a draw, or None while the registry offers none."""
    registry = _registry()
    function = getattr(registry, "draw_pool", None) if registry is not None else None
    if function is None:
        return None
    pool: list[UUID] = await function(session, division_prefix)
    return pool
