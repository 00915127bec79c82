"""Updates whose unique constraints say what went wrong: ``uow.update`` names no violations (only inserts
do), so these updates are written at once and a broken constraint is raised as the domain's error."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Table
from sqlalchemy.exc import IntegrityError

from dudao.db import violated_constraint
from dudao.errors import DomainError
from dudao.uow import UnitOfWork


async def update_now(
    uow: UnitOfWork, table: Table, rows: Iterable[Mapping[str, Any]], violations: Mapping[str, DomainError]
) -> None:
    """Set the rows (by id, locked by the caller) in one statement now; a constraint named in
    ``violations`` raises its error (the request's transaction then rolls back)."""
    uow.update(table, rows)
    try:
        await uow.flush()
    except IntegrityError as exc:
        error = violations.get(violated_constraint(exc) or "")
        if error is None:
            raise
        raise error from exc
