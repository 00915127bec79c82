"""Every query about the governance facts accountability heard."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from accountability.consequences.models import GOVERNANCE_FACTS
from accountability.db import SCHEMA
from dudao import bulk


async def note_facts(session: AsyncSession, rows: list[dict[str, Any]]) -> set[UUID]:
    """Record the facts; the ids of those not recorded before (a concurrent twin waits on the unique index,
    then finds its fact there)."""
    write = bulk.write(
        "insert_ignore", GOVERNANCE_FACTS, sorted(rows, key=lambda r: r["fact_id"]), schema=SCHEMA
    )
    if write is None:
        return set()
    return {row[0] for row in await bulk.fetch(session, write, ["fact_id"])}
