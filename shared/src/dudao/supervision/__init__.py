"""The supervision procedure (督导, RULES.md §3): a kit capability each supervising service mounts with
``capability`` and runs in its own schema.

One procedure for every kind of supervision (comprehensive, special, emergency, random, unannounced) of
one or more units: plan and checklist → written notice (not for unannounced or emergency ones) → team
of at least 3 inspectors, recusal and training checked against a projection of school-inspection's
inspector events → the units' self-evaluations with evidence → on-site work and hearings →
preliminary opinion → feedback by meeting or written notice → the units' replies (申辩) → the
supervision opinion (督导意见书), numbered, whose rectification requirements become findings of the
service's rectification loop → the report (二七), approved, then published on the public API.
Statuses: see ``SupervisionStatus``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter

from dudao.config import Settings
from dudao.contracts.supervision import SupervisionOrigin
from dudao.errors import DomainError, NotFound
from dudao.events.consumer import Consumer
from dudao.rectification import Rectifications
from dudao.scheduler import ScheduledJob
from dudao.supervision import endpoints, handlers, schemas
from dudao.supervision.models import Supervision, SupervisionKind, SupervisionStatus
from dudao.supervision.service import LookupUnit, Supervisions

__all__ = [
    "Capability",
    "LookupUnit",
    "Supervision",
    "SupervisionKind",
    "SupervisionStatus",
    "Supervisions",
    "capability",
    "schemas",
]


@dataclass(frozen=True)
class Capability:
    """What a service mounts: its routes and consumers, and the rules its own code calls."""

    service: Supervisions
    routers: Sequence[APIRouter]
    consumers: Sequence[Consumer]
    jobs: Sequence[ScheduledJob]


def capability(
    *,
    origin: SupervisionOrigin,
    rectifications: Rectifications,
    lookup_unit: LookupUnit,
    settings: Settings | None = None,
    unit_not_found: type[DomainError] = NotFound,
) -> Capability:
    """Supervisions as the service named ``origin`` runs them: the opinion's findings go to
    ``rectifications``, units are found by ``lookup_unit`` (which raises ``unit_not_found``, named in the
    OpenAPI document), thresholds come from ``settings`` (the service's own, by default). The procedure
    has no timed facts yet: ``jobs`` is empty."""
    supervisions = Supervisions(
        origin=origin,
        rectifications=rectifications,
        lookup_unit=lookup_unit,
        settings=settings or Settings.for_service(origin),
    )
    return Capability(
        service=supervisions,
        routers=[endpoints.router(supervisions, unit_not_found)],
        consumers=handlers.consumers(supervisions),
        jobs=[],
    )
