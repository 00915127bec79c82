"""Loads a deployment's divisions into ``common.division``, where every service reads them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.common.models import DivisionRow
from dudao.divisions.tree import DivisionTree, load_tree


def read_divisions(csv_path: Path | None = None) -> DivisionTree:
    """The divisions of ``csv_path`` (columns code,name,level,parent_code), or Guangxi's."""
    return DivisionTree.from_csv(csv_path.read_text(encoding="utf-8")) if csv_path else load_tree()


async def seed_divisions(engine: AsyncEngine, tree: DivisionTree | None = None) -> int:
    """Upsert the divisions of ``tree`` (Guangxi's by default) into ``common.division``."""
    tree = tree or load_tree()
    rows = [
        {"code": d.code, "name": d.name, "level": d.level, "parent_code": d.parent_code} for d in tree.all()
    ]
    async with engine.begin() as conn:
        stmt = insert(DivisionRow).values(rows)
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[DivisionRow.code],
                set_={
                    "name": stmt.excluded.name,
                    "level": stmt.excluded.level,
                    "parent_code": stmt.excluded.parent_code,
                },
            )
        )
    return len(rows)
