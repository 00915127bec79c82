"""What a service running rectifications consumes: accountability's steps on its own rectifications, and
published calendars."""

from __future__ import annotations

from collections.abc import Sequence

from dudao.calendar.events import CalendarYearPublished
from dudao.contracts.rectification import EscalationStepTaken, steps_subject
from dudao.events.consumer import Consumer, batch_consumer, consumer
from dudao.rectification.service import Rectifications
from dudao.uow import UnitOfWork


def consumers(rectifications: Rectifications) -> list[Consumer]:
    """One durable per service: its own origin's steps (no other service's reach it), every calendar."""
    origin = rectifications.origin

    async def show_steps(events: Sequence[EscalationStepTaken], uow: UnitOfWork) -> None:
        """Move the deadlines and show the steps, a round at a time."""
        await rectifications.apply_steps(uow, events)

    async def recompute_deadlines(event: CalendarYearPublished, uow: UnitOfWork) -> None:
        await rectifications.recompute_provisional(uow, event.year)

    return [
        batch_consumer(
            EscalationStepTaken.event_type,
            durable=f"{origin}-rectification-steps",
            subject=steps_subject(origin),
        )(show_steps),
        consumer(CalendarYearPublished.event_type, durable=f"{origin}-rectification-calendar")(
            recompute_deadlines
        ),
    ]
