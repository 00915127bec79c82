"""``python -m <package>.worker``: a service's relay, consumers and scheduled jobs in one process."""

from __future__ import annotations

import asyncio
import importlib

from dudao.clock import clock
from dudao.common.models import common_kit
from dudao.config import Settings, report_unknown_variables
from dudao.events.worker import run_worker
from dudao.logging import configure_logging
from dudao.service import ServiceSpec


def load_spec(path: str) -> ServiceSpec:
    module, _, attribute = path.partition(":")
    spec = getattr(importlib.import_module(module), attribute)
    assert isinstance(spec, ServiceSpec)
    return spec


def main(spec_path: str) -> None:
    spec = load_spec(spec_path)
    settings = Settings.for_service(spec.name)
    configure_logging(f"{spec.name}-worker", level=settings.log_level, json=settings.log_json)
    report_unknown_variables()
    # Every worker also relays the kit's own outbox (API key events); relays are safe side by side.
    asyncio.run(
        run_worker(
            service_name=spec.name,
            source=spec.event_source,
            kit=spec.kit,
            extra_kits=[common_kit],
            consumers=spec.consumers,
            jobs=spec.jobs,
            settings=settings,
            clock=clock,
        )
    )
