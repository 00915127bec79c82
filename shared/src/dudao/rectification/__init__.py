"""Findings and rectifications (问题 · 整改): a kit capability each supervising service mounts with
``capability`` and runs in its own schema.

A finding belongs to a supervised unit and to the supervision, visit or evaluation that found it; its
rectification requirement carries a deadline that escalates through accountability until the unit's
report is accepted (销号). Evidence ids in findings and reports name files of the evidence capability
(``dudao.evidence``), which the service mounts beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter

from dudao.config import Settings
from dudao.contracts.rectification import Origin
from dudao.events.consumer import Consumer
from dudao.rectification import endpoints, handlers, scheduled
from dudao.rectification.repository import Visibility, units_see_their_own
from dudao.rectification.service import Rectifications, ResolveUnit, as_given
from dudao.scheduler import ScheduledJob

__all__ = ["Capability", "Rectifications", "as_given", "capability", "units_see_their_own"]


@dataclass(frozen=True)
class Capability:
    """What a service mounts: its routes, consumers and timed jobs, and the rules its own code calls."""

    service: Rectifications
    routers: Sequence[APIRouter]
    consumers: Sequence[Consumer]
    jobs: Sequence[ScheduledJob]


def capability(
    *,
    origin: Origin,
    visibility: Visibility,
    resolve_unit: ResolveUnit,
    settings: Settings | None = None,
) -> Capability:
    """Rectification as the service named ``origin`` runs it: who sees which of its rectifications
    (``units_see_their_own``, say), how the unit of a finding raised over HTTP is resolved (``as_given``,
    or from the service's register), and ``settings`` (the service's own, by default)."""
    rectifications = Rectifications(origin=origin, visibility=visibility, resolve_unit=resolve_unit)
    return Capability(
        service=rectifications,
        routers=[endpoints.router(rectifications)],
        consumers=handlers.consumers(rectifications),
        jobs=scheduled.jobs(rectifications, settings or Settings.for_service(origin)),
    )
