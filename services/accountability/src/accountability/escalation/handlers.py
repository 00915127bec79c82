"""Accountability's consumers of the rectification events of every originating service, and of the
schools that fall behind on routine visits.

One durable consumer per origin and event kind, each set-based: it gets a round of events, each
rectification (or school) at most once, and handles them all with a fixed number of statements. Each
round ends by writing what it changed, so that the next round of the same batch (a later event of one of
its rectifications) reads it. Each fact gets an id derived from what it is about, so the case recognises
it again under another event id: the timed facts (due soon, overdue) already carry such an id; the others
are identified by their report, recheck or deadline.

Only what can be checked is obeyed: the runner has checked that each event comes from the service its
subject names, and only an opening opens a case. A later fact of a rectification never seen opened (a
forgery, or one that overtook its opening on another durable) is ``Unverifiable``: retried, then
dead-lettered; it takes no step and draws no document number.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar
from uuid import UUID

from accountability import divisions
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
from dudao.events.consumer import Consumer, batch_consumer
from dudao.ids import derived_id
from dudao.uow import UnitOfWork

E = TypeVar("E", bound=RectificationEvent)


def _fact(event: RectificationEvent, kind: str, *about: object) -> UUID:
    return derived_id(event.origin, event.rectification_id, kind, *about)


async def opened(events: Sequence[RectificationOpened], uow: UnitOfWork) -> None:
    """Rectifications were required: their cases open with the ladder that applies today."""
    await service.opened(uow, [(e, _fact(e, "opened")) for e in events])
    await uow.flush()


async def due_soon(events: Sequence[RectificationDueSoon], uow: UnitOfWork) -> None:
    """Reminders to the units and their competent departments."""
    await service.due_soon(uow, [(e, e.event_id()) for e in events])
    await uow.flush()


async def overdue(events: Sequence[RectificationOverdue], uow: UnitOfWork) -> None:
    """Deadlines passed: the next step of each ladder, once per (rectification, deadline)."""
    tree = await divisions.tree(uow.session)
    await service.escalate(uow, tree, [(e, e.event_id()) for e in events])
    await uow.flush()


async def rejected(events: Sequence[RectificationRejected], uow: UnitOfWork) -> None:
    """Reports were rejected: the next step of each ladder, once per report and deadline."""
    tree = await divisions.tree(uow.session)
    await service.escalate(uow, tree, [(e, _fact(e, "rejected", e.report_id, e.deadline)) for e in events])
    await uow.flush()


async def accepted(events: Sequence[RectificationAccepted], uow: UnitOfWork) -> None:
    """Close-out (销号): the cases close."""
    await service.close(uow, [(e, _fact(e, "accepted", e.report_id)) for e in events])
    await uow.flush()


async def closed(events: Sequence[RectificationClosed], uow: UnitOfWork) -> None:
    await service.close(uow, [(e, _fact(e, "closed", e.deadline)) for e in events])
    await uow.flush()


async def reopened(events: Sequence[RectificationReopened], uow: UnitOfWork) -> None:
    """Rechecks (复查) reopened the rectifications: so are their cases."""
    await service.reopen(uow, [(e, _fact(e, "reopened", e.recheck_id)) for e in events])
    await uow.flush()


async def visits_behind(events: Sequence[SchoolVisitsBehind], uow: UnitOfWork) -> None:
    """Schools fell behind on routine visits: each one's county office is told at the midpoint, and urged at
    the semester's end; once per (school, semester, checkpoint), the id school-inspection derives it from."""
    tree = await divisions.tree(uow.session)
    await service.visits_behind(uow, tree, [(e, e.event_id()) for e in events])
    await uow.flush()


def _every_origin(kind: str, handler: Callable[[Sequence[E], UnitOfWork], Awaitable[None]]) -> list[Consumer]:
    return [
        batch_consumer(event_for(origin, kind).event_type, durable=f"accountability-{origin}-{kind}")(handler)
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
    batch_consumer(SchoolVisitsBehind.event_type, durable="accountability-inspection-visits-behind")(
        visits_behind
    ),
]
