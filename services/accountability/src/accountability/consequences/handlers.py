"""Accountability's consumers of governance's facts: set-based, each fact once (by the id governance
derives from what it is about), one round at a time."""

from __future__ import annotations

from collections.abc import Sequence

from accountability import divisions
from accountability.consequences import service
from dudao.contracts.governance import (
    DutyEvaluationConcluded,
    DutyEvaluationRoundPublished,
    EmergencyReportOverdue,
    FilingMissing,
)
from dudao.events.consumer import Consumer, batch_consumer
from dudao.uow import UnitOfWork


async def evaluations_concluded(events: Sequence[DutyEvaluationConcluded], uow: UnitOfWork) -> None:
    """Fails and missed targets climb their units' ladders; excellent results are commended."""
    tree = await divisions.tree(uow.session)
    await service.evaluations_concluded(uow, tree, [(e, e.event_id()) for e in events])
    await uow.flush()


async def rounds_published(events: Sequence[DutyEvaluationRoundPublished], uow: UnitOfWork) -> None:
    """Each round's results reach the organisation departments of its level and the next."""
    tree = await divisions.tree(uow.session)
    await service.rounds_published(uow, tree, [(e, e.event_id()) for e in events])
    await uow.flush()


async def filings_missing(events: Sequence[FilingMissing], uow: UnitOfWork) -> None:
    tree = await divisions.tree(uow.session)
    await service.filings_missing(uow, tree, [(e, e.event_id()) for e in events])
    await uow.flush()


async def emergency_reports_overdue(events: Sequence[EmergencyReportOverdue], uow: UnitOfWork) -> None:
    tree = await divisions.tree(uow.session)
    await service.emergency_reports_overdue(uow, tree, [(e, e.event_id()) for e in events])
    await uow.flush()


CONSUMERS: list[Consumer] = [
    batch_consumer(DutyEvaluationConcluded.event_type, durable="accountability-evaluation-concluded")(
        evaluations_concluded
    ),
    batch_consumer(DutyEvaluationRoundPublished.event_type, durable="accountability-evaluation-rounds")(
        rounds_published
    ),
    batch_consumer(FilingMissing.event_type, durable="accountability-filing-missing")(filings_missing),
    batch_consumer(EmergencyReportOverdue.event_type, durable="accountability-emergency-report-overdue")(
        emergency_reports_overdue
    ),
]
