"""What a service running rectifications consumes: accountability's steps on its own rectifications, and
published calendars."""

from __future__ import annotations

from dudao.calendar.events import CalendarYearPublished
from dudao.contracts.rectification import EscalationStepTaken, steps_subject
from dudao.events.consumer import Consumer, consumer
from dudao.rectification.service import Rectifications
from dudao.uow import UnitOfWork


def consumers(rectifications: Rectifications) -> list[Consumer]:
    """One durable per service: its own origin's steps (no other service's reach it), every calendar."""
    origin = rectifications.origin

    async def show_step(event: EscalationStepTaken, uow: UnitOfWork) -> None:
        """Move the deadline and show the step."""
        await rectifications.apply_step(uow, event)

    async def recompute_deadlines(event: CalendarYearPublished, uow: UnitOfWork) -> None:
        await rectifications.recompute_provisional(uow, event.year)

    return [
        consumer(
            EscalationStepTaken.event_type,
            durable=f"{origin}-rectification-steps",
            subject=steps_subject(origin),
        )(show_step),
        consumer(CalendarYearPublished.event_type, durable=f"{origin}-rectification-calendar")(
            recompute_deadlines
        ),
    ]
