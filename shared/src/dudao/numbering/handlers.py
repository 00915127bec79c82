"""The issuing-office projection: governance's office records, the one source of the abbreviations."""

from __future__ import annotations

from collections.abc import Sequence

from dudao.contracts.governance import SupervisionOfficeRecorded
from dudao.events.consumer import Consumer, batch_consumer
from dudao.numbering.models import ISSUING_OFFICES
from dudao.uow import UnitOfWork


async def record_offices(events: Sequence[SupervisionOfficeRecorded], uow: UnitOfWork) -> None:
    """Keep each office's newest record: an older version, or a redelivery, changes nothing."""
    now = uow.clock.now()
    uow.upsert(
        ISSUING_OFFICES,
        (
            {
                "division_code": e.division,
                "abbreviation": e.abbreviation,
                "name": e.name,
                "version": e.version,
                "updated_at": now,
            }
            for e in events
        ),
        keys=["division_code"],
        only_newer="version",
    )


def consumers(service_name: str) -> list[Consumer]:
    """The projection's consumer for the service ``service_name``: one durable per service, since each
    keeps its own copy in its schema."""
    return [
        batch_consumer(SupervisionOfficeRecorded.event_type, durable=f"{service_name}-issuing-offices")(
            record_offices
        )
    ]
