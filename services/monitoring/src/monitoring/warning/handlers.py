"""Early warning on every final approval, a fetched batch of approvals at a time."""

from __future__ import annotations

from collections.abc import Sequence

from dudao.contracts.monitoring import SubmissionApproved
from dudao.events.consumer import batch_consumer
from dudao.uow import UnitOfWork
from monitoring.warning import service


@batch_consumer(SubmissionApproved.event_type, durable="monitoring-warning-approved")
async def submissions_approved(events: Sequence[SubmissionApproved], uow: UnitOfWork) -> None:
    """The rules over the approved submissions' counties, once per county and year however many of its
    schools the batch approved."""
    await service.on_approved(uow, events)
