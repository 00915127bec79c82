"""The division tree the escalation names offices and localities from, loaded once per process.

The API has the runtime's tree; a worker's consumers have only their unit of work, so the first batch
loads the tree the way the runtime does (the deployment's seeded divisions, else the packaged tree) and
every later batch reuses it: no batch selects ``common.division`` again.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dudao.common.models import DivisionRow
from dudao.divisions.tree import Division, DivisionTree, Level, load_tree

_loaded: list[DivisionTree] = []  # at most one: the process's tree


async def tree(session: AsyncSession) -> DivisionTree:
    if not _loaded:
        rows = (await session.execute(select(DivisionRow))).scalars().all()
        divisions = [Division(r.code, r.name, _level(r.level), r.parent_code) for r in rows]
        _loaded.append(DivisionTree(divisions) if divisions else load_tree())
    return _loaded[0]


def _level(level: str) -> Level:
    if level not in ("region", "city", "county"):
        raise ValueError(f"unknown division level {level!r}")
    return cast(Level, level)


def name(divisions: DivisionTree, code: str) -> str:
    """The division's name; its code if the tree does not know it."""
    division = divisions.get(code)
    return division.name if division else code
