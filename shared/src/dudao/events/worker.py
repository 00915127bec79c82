"""A service's worker process: its outbox relays, its consumers and its scheduler, until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog

from dudao import audit
from dudao.clock import Clock
from dudao.clock_sync import ClockSync, ensure_allowed
from dudao.config import Settings
from dudao.contracts.audit import CHECKPOINTED
from dudao.db import create_engine, session_factory
from dudao.events.consumer import Consumer, ConsumerRunner
from dudao.events.nats import connect, credentials
from dudao.events.relay import OutboxRelay
from dudao.events.stream import require_stream
from dudao.retention import prune_job
from dudao.runtime import OutboxNotifier
from dudao.scheduler import ScheduledJob, Scheduler, scheduled
from dudao.tables import KitTables
from dudao.uow import UnitOfWork

log = structlog.get_logger(__name__)


@scheduled(every=timedelta(seconds=1), name="audit-seal", drain=True)
async def seal_audit_log(uow: UnitOfWork, now: datetime) -> int:
    """Chain the audit entries committed since the last run (see dudao.audit)."""
    return await audit.seal(uow.session, uow.kit.audit_log, uow.kit.audit_lock_key, uow.audit_keys)


def checkpoint_audit_log(origin: str, settings: Settings) -> ScheduledJob:
    """Checkpoint the audit log whose head moved since its last checkpoint: appended to the file and
    published on ``origin``'s subjects (see dudao.audit)."""

    async def run(uow: UnitOfWork, now: datetime) -> int:
        made = await audit.checkpoint(
            uow.session, uow.kit.audit_log, uow.audit_keys, settings.audit_checkpoint_root, now
        )
        if made is None:
            return 0
        uow.emit(CHECKPOINTED[origin].of(made))
        return 1

    return ScheduledJob(
        name="audit-checkpoint", every=timedelta(seconds=settings.audit_checkpoint_seconds), run=run
    )


async def run_worker(
    *,
    service_name: str,
    source: str,
    kit: KitTables,
    extra_kits: Sequence[KitTables],
    consumers: Sequence[Consumer],
    jobs: Sequence[ScheduledJob],
    settings: Settings,
    clock: Clock,
) -> None:
    """Relay ``kit``'s and each of ``extra_kits``' outbox, consume, and run timed jobs, all concurrently.

    Stops cleanly on SIGINT/SIGTERM: in-flight transactions finish or roll back, NATS is drained and the
    engine disposed. If one part fails the others are stopped and the error is raised.
    """
    if settings.nats_url is None:
        raise RuntimeError("DUDAO_NATS_URL is not set (dudao up sets it for the embedded server)")
    ensure_allowed(settings)
    settings.require_startable()
    name = f"{service_name}-worker"
    engine = create_engine(settings, application_name=name, schema=kit.schema)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        nc = await connect(settings.nats_url, name, **credentials(settings))
        try:
            js = nc.jetstream()
            await require_stream(js)
            sessions = session_factory(engine)
            # Consumers and jobs wake the relays after their commits, never from inside them.
            notifier = OutboxNotifier(engine)
            notify = notifier.poke
            parts: list[Coroutine[Any, Any, None]] = [
                OutboxRelay(engine, k, js, settings).run(stop) for k in [kit, *extra_kits]
            ]
            parts.append(notifier.run_until(stop))
            if settings.clock_adjustable:
                clock_sync = ClockSync(clock, sessions)
                await clock_sync.refresh()  # before the scheduler's first tick asks the time
                await clock_sync.subscribe(nc)
                parts.append(clock_sync.run(stop))
            if consumers:
                parts.append(
                    ConsumerRunner(sessions, kit, js, consumers, source, clock, settings, notify).run(stop)
                )
            # Every schema this worker relays also gets its audit log sealed (sealers take turns) and
            # checkpointed; the kit's own schema (common) is the origin of its checkpoints.
            audit_jobs = [seal_audit_log, checkpoint_audit_log(service_name, settings)]
            parts.append(
                Scheduler(sessions, kit, [*jobs, *audit_jobs], source, clock, settings, notify).run(stop)
            )
            parts += [
                Scheduler(
                    sessions,
                    k,
                    [seal_audit_log, checkpoint_audit_log(k.schema, settings)],
                    source,
                    clock,
                    settings,
                ).run(stop)
                for k in extra_kits
            ]
            # Pruning has schedulers of its own, so that a backlog of it never delays the jobs above.
            prune = prune_job(settings)
            parts += [
                Scheduler(sessions, k, [prune], source, clock, settings).run(stop) for k in [kit, *extra_kits]
            ]
            gc.freeze()  # what start-up built lives as long as the process (see dudao.http.app)
            log.info(
                "worker started",
                service=service_name,
                consumers=len(consumers),
                jobs=len(jobs),
                outboxes=[k.schema for k in [kit, *extra_kits]],
            )
            results = await asyncio.gather(
                *(_stopping_on_failure(p, stop) for p in parts), return_exceptions=True
            )
            errors = [r for r in results if isinstance(r, Exception)]
            if errors:
                raise ExceptionGroup(f"{name} failed", errors)
            log.info("worker stopped", service=service_name)
        finally:
            try:
                await nc.drain()
            except Exception as exc:  # already closed: nothing left to flush
                log.warning("nats drain failed", error=repr(exc))
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        await engine.dispose()


async def _stopping_on_failure(part: Coroutine[Any, Any, None], stop: asyncio.Event) -> None:
    """On failure, stop the other parts the gentle way: they finish the work in hand."""
    try:
        await part
    except Exception:
        stop.set()
        raise
