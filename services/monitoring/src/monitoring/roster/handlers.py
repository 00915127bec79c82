"""Keeps the roster in step with school-inspection's school events, a fetched batch at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from dudao.contracts.inspection import SchoolRegistered, SchoolUpdated
from dudao.events.consumer import batch_consumer
from dudao.uow import UnitOfWork
from monitoring.roster import repository


def _row(event: SchoolRegistered | SchoolUpdated, version: int, uow: UnitOfWork) -> dict[str, Any]:
    return {
        "school_id": UUID(event.school_id),
        "school_code": event.school_code,
        "name": event.name,
        "school_type": event.school_type,
        "ownership": event.ownership,
        "division_code": event.division,
        "source_version": version,
        "synced_at": uow.clock.now(),
    }


@batch_consumer(SchoolRegistered.event_type, durable="monitoring-roster-registered")
async def schools_registered(events: Sequence[SchoolRegistered], uow: UnitOfWork) -> None:
    """Newly registered schools join the roster."""
    repository.upsert(uow, [_row(e, 1, uow) for e in events])


@batch_consumer(SchoolUpdated.event_type, durable="monitoring-roster-updated")
async def schools_updated(events: Sequence[SchoolUpdated], uow: UnitOfWork) -> None:
    """Changed schools are refreshed, unless a newer version already arrived."""
    repository.upsert(uow, [_row(e, e.version, uow) for e in events])
