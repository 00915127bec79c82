"""What a service running supervisions consumes: school-inspection's inspector facts, kept as the
projection the team check reads (the same in every service, school-inspection included)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dudao.contracts import inspection
from dudao.events.catalog import Event
from dudao.events.consumer import Consumer, batch_consumer
from dudao.supervision.service import Supervisions
from dudao.uow import UnitOfWork


def consumers(supervisions: Supervisions) -> list[Consumer]:
    """One durable per service and fact; each round of facts is one statement (a replay changes nothing)."""
    facts: list[tuple[type[Event], str, Callable[[UnitOfWork, Sequence[Any]], None]]] = [
        (inspection.InspectorAppointed, "appointed", supervisions.appointed),
        (inspection.InspectorTermRenewed, "renewed", supervisions.renewed),
        (inspection.InspectorTrainingRecorded, "trained", supervisions.trained),
        (inspection.InspectorConflictRecorded, "tied", supervisions.tied),
        (inspection.InspectorAppointmentEnded, "ended", supervisions.ended),
    ]
    return [_consumer(supervisions.origin, event, name, project) for event, name, project in facts]


def _consumer(
    origin: str, event: type[Event], name: str, project: Callable[[UnitOfWork, Sequence[Any]], None]
) -> Consumer:
    async def keep(events: Sequence[Event], uow: UnitOfWork) -> None:
        project(uow, events)

    keep.__name__ = f"inspector_{name}"
    return batch_consumer(event.event_type, durable=f"{origin}-supervision-inspector-{name}")(keep)
