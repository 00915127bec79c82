"""Keeps the roster in step with school-inspection's school events, a fetched batch at a time.

Version 2 of the events carries the enrolment and whether a school is a teaching point; version 1 (the
events already on the stream) leaves those columns as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from dudao.contracts.inspection import SchoolRegistered, SchoolRegisteredV2, SchoolUpdated, SchoolUpdatedV2
from dudao.events.consumer import batch_consumer
from dudao.uow import UnitOfWork
from monitoring.roster import repository

SchoolEvent = SchoolRegistered | SchoolUpdated | SchoolRegisteredV2 | SchoolUpdatedV2


def _row(event: SchoolEvent, version: int, uow: UnitOfWork) -> dict[str, Any]:
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


def _enrolled(event: SchoolRegisteredV2 | SchoolUpdatedV2, version: int, uow: UnitOfWork) -> dict[str, Any]:
    stages = event.enrolment_by_stage
    return {
        **_row(event, version, uow),
        "enrolment": event.enrolment,
        **{
            f"pupils_{s}": None if stages is None else stages.get(s, 0)
            for s in ("primary", "junior", "senior")
        },
        "teaching_point": event.teaching_point,
    }


@batch_consumer(SchoolRegistered.event_type, durable="monitoring-roster-registered")
async def schools_registered(events: Sequence[SchoolRegistered], uow: UnitOfWork) -> None:
    """Newly registered schools join the roster."""
    repository.upsert(uow, [_row(e, 1, uow) for e in events])


@batch_consumer(SchoolUpdated.event_type, durable="monitoring-roster-updated")
async def schools_updated(events: Sequence[SchoolUpdated], uow: UnitOfWork) -> None:
    """Changed schools are refreshed, unless a newer version already arrived."""
    repository.upsert(uow, [_row(e, e.version, uow) for e in events])


@batch_consumer(SchoolRegisteredV2.event_type, durable="monitoring-roster-registered-v2")
async def schools_registered_v2(events: Sequence[SchoolRegisteredV2], uow: UnitOfWork) -> None:
    """Newly registered schools join the roster with their enrolment."""
    repository.upsert(uow, [_enrolled(e, 1, uow) for e in events])


@batch_consumer(SchoolUpdatedV2.event_type, durable="monitoring-roster-updated-v2")
async def schools_updated_v2(events: Sequence[SchoolUpdatedV2], uow: UnitOfWork) -> None:
    """Changed schools are refreshed with their enrolment, unless a newer version already arrived."""
    repository.upsert(uow, [_enrolled(e, e.version, uow) for e in events])
