"""Keeps the roster in step with school-inspection's school events."""

from __future__ import annotations

from uuid import UUID

from dudao.contracts.inspection import SchoolRegistered, SchoolUpdated
from dudao.events.catalog import Event
from dudao.events.consumer import consumer
from dudao.uow import UnitOfWork
from monitoring.roster import repository


async def _sync(event: SchoolRegistered | SchoolUpdated, version: int, uow: UnitOfWork) -> None:
    await repository.upsert(
        uow.session,
        {
            "school_id": UUID(event.school_id),
            "school_code": event.school_code,
            "name": event.name,
            "school_type": event.school_type,
            "ownership": event.ownership,
            "division_code": event.division,
            "source_version": version,
            "synced_at": uow.clock.now(),
        },
    )


@consumer(SchoolRegistered.event_type, durable="monitoring-roster-registered")
async def school_registered(event: Event, uow: UnitOfWork) -> None:
    """A newly registered school joins the roster."""
    assert isinstance(event, SchoolRegistered)
    await _sync(event, 1, uow)


@consumer(SchoolUpdated.event_type, durable="monitoring-roster-updated")
async def school_updated(event: Event, uow: UnitOfWork) -> None:
    """A changed school is refreshed, unless a newer version already arrived."""
    assert isinstance(event, SchoolUpdated)
    await _sync(event, event.version, uow)
