"""What a service running rectifications consumes: accountability's steps and published calendars."""

from __future__ import annotations

from dudao.calendar.events import CalendarYearPublished
from dudao.contracts.rectification import EscalationStepTaken
from dudao.events.consumer import Consumer, consumer
from dudao.rectification import service
from dudao.uow import UnitOfWork


async def show_step(event: EscalationStepTaken, uow: UnitOfWork) -> None:
    """Move the deadline and show the step; steps for another service's rectifications are not ours."""
    await service.apply_step(uow, event)


async def recompute_deadlines(event: CalendarYearPublished, uow: UnitOfWork) -> None:
    await service.recompute_provisional(uow, event.year)


def consumers(service_name: str) -> list[Consumer]:
    """One durable per service, so that each service sees every step and every calendar."""
    return [
        consumer(EscalationStepTaken.event_type, durable=f"{service_name}-rectification-steps")(show_step),
        consumer(CalendarYearPublished.event_type, durable=f"{service_name}-rectification-calendar")(
            recompute_deadlines
        ),
    ]
