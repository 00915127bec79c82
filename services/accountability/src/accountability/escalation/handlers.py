"""Accountability's consumers of the rectification events of every originating service, and of the
schools that fall behind on routine visits.

One durable consumer per origin and event kind. Each fact gets an id derived from what it is about, so
the case recognises it again under another event id: the timed facts (due soon, overdue) already carry
such an id; the others are identified by their report, recheck or deadline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

from accountability.escalation import service
from dudao.contracts.inspection import SchoolVisitsBehind
from dudao.contracts.rectification import (
    ORIGINS,
    RectificationAccepted,
    RectificationClosed,
    RectificationDueSoon,
    RectificationEvent,
    RectificationOpened,
    RectificationOverdue,
    RectificationRejected,
    RectificationReopened,
    event_for,
)
from dudao.events.consumer import Consumer, consumer
from dudao.ids import derived_id
from dudao.uow import UnitOfWork

E = TypeVar("E", bound=RectificationEvent)


def _fact(event: RectificationEvent, kind: str, *about: object) -> UUID:
    return derived_id(event.origin, event.rectification_id, kind, *about)


async def opened(event: RectificationOpened, uow: UnitOfWork) -> None:
    """A rectification was required: its case opens with the ladder that applies today."""
    await service.opened(uow, event, _fact(event, "opened"))


async def due_soon(event: RectificationDueSoon, uow: UnitOfWork) -> None:
    """A reminder to the unit and its competent department."""
    await service.due_soon(uow, event, event.event_id())


async def overdue(event: RectificationOverdue, uow: UnitOfWork) -> None:
    """The deadline passed: the next step of the ladder, once per (rectification, deadline)."""
    await service.escalate(uow, event, event.event_id())


async def rejected(event: RectificationRejected, uow: UnitOfWork) -> None:
    """The report was rejected: the next step of the ladder, once per report and deadline."""
    await service.escalate(uow, event, _fact(event, "rejected", event.report_id, event.deadline))


async def accepted(event: RectificationAccepted, uow: UnitOfWork) -> None:
    """Close-out (销号): the case closes."""
    await service.close(uow, event, _fact(event, "accepted", event.report_id))


async def closed(event: RectificationClosed, uow: UnitOfWork) -> None:
    await service.close(uow, event, _fact(event, "closed", event.deadline))


async def reopened(event: RectificationReopened, uow: UnitOfWork) -> None:
    """A recheck (复查) reopened the rectification: so is its case."""
    await service.reopen(uow, event, _fact(event, "reopened", event.recheck_id))


async def visits_behind(event: SchoolVisitsBehind, uow: UnitOfWork) -> None:
    """A school fell behind on routine visits: its county's office is told at the midpoint, and urged at the
    semester's end; once per (school, semester, checkpoint), the id school-inspection derives it from."""
    await service.visits_behind(uow, event, event.event_id())


def _every_origin(kind: str, handler: Callable[[E, UnitOfWork], Awaitable[None]]) -> list[Consumer]:
    return [
        consumer(event_for(origin, kind).event_type, durable=f"accountability-{origin}-{kind}")(handler)
        for origin in ORIGINS
    ]


CONSUMERS: list[Consumer] = [
    *_every_origin("opened", opened),
    *_every_origin("due_soon", due_soon),
    *_every_origin("overdue", overdue),
    *_every_origin("rejected", rejected),
    *_every_origin("accepted", accepted),
    *_every_origin("closed", closed),
    *_every_origin("reopened", reopened),
    consumer(SchoolVisitsBehind.event_type, durable="accountability-inspection-visits-behind")(visits_behind),
]
