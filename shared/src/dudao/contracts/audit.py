"""Audit checkpoints (dudao.audit), published on the stream so that a log's length and head are kept
outside its database: ``dudao audit verify`` reads the latest one back.

Each log's checkpoints go out on the subjects of the service whose worker seals it (the kit's ``common``
log on the common ones), one class per origin as the catalog registers a class per type; the subject
ends with the log's id, so that the stream keeps the latest checkpoint of every log apart, even of
databases that share a stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from dudao.audit import Checkpoint
from dudao.events.catalog import Event
from dudao.ids import derived_id


class AuditCheckpointed(Event):
    """A log held ``count`` entries whose last one's MAC was ``head`` (the checkpoint's own ``mac``
    is the audit key's); ``division`` is empty: a log belongs to no division."""

    log: str
    database: str
    log_schema: str
    count: int
    head: str
    at: datetime
    mac: str

    @classmethod
    def of(cls, checkpoint: Checkpoint) -> AuditCheckpointed:
        return cls(division="", log=checkpoint.log, **checkpoint.as_json())

    def event_id(self) -> UUID:
        # Replicas that checkpoint the same head on the same day emit it once; a refresh is a new fact.
        return derived_id("audit-checkpoint", self.log, self.count, self.head, self.at.date())

    def subject(self) -> str:
        return self.log

    @classmethod
    def stream_subject(cls, data: Mapping[str, Any]) -> str:
        return f"{cls.event_type}.{data['log']}"


class CommonAuditCheckpointed(AuditCheckpointed):
    event_type = "dudao.common.audit.checkpoint.v1"


class GovernanceAuditCheckpointed(AuditCheckpointed):
    event_type = "dudao.governance.audit.checkpoint.v1"


class SchoolInspectionAuditCheckpointed(AuditCheckpointed):
    event_type = "dudao.school-inspection.audit.checkpoint.v1"


class MonitoringAuditCheckpointed(AuditCheckpointed):
    event_type = "dudao.monitoring.audit.checkpoint.v1"


class AccountabilityAuditCheckpointed(AuditCheckpointed):
    event_type = "dudao.accountability.audit.checkpoint.v1"


CHECKPOINTED: dict[str, type[AuditCheckpointed]] = {
    cls.source_service(): cls
    for cls in (
        CommonAuditCheckpointed,
        GovernanceAuditCheckpointed,
        SchoolInspectionAuditCheckpointed,
        MonitoringAuditCheckpointed,
        AccountabilityAuditCheckpointed,
    )
}


def checkpoint_subject(origin: str, log: str) -> str:
    """Where the checkpoints of ``log``, sealed by ``origin``'s worker, are published."""
    return CHECKPOINTED[origin].stream_subject({"log": log})
