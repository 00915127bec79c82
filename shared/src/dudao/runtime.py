"""What one service process holds while it runs: engine, sessions, NATS, verifiers, caches."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field

import asyncpg
import nats
import structlog
from nats.aio.client import Client as Nats
from nats.aio.msg import Msg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dudao.apikeys.authenticator import ApiKeyAuthenticator
from dudao.apikeys.events import ApiKeyRevoked
from dudao.auth.tokens import TokenVerifier
from dudao.clock import Clock
from dudao.clock_sync import ClockSync, ensure_allowed
from dudao.common.models import DivisionRow
from dudao.config import Settings, report_unknown_variables
from dudao.db import create_engine, session_factory
from dudao.divisions.tree import Division, DivisionTree, load_tree
from dudao.events.nats import credentials
from dudao.service import ServiceSpec

log = structlog.get_logger("dudao.runtime")


class OutboxNotifier:
    """Wakes the outbox relays after commits, one NOTIFY per channel per burst of requests.

    A NOTIFY's commit costs milliseconds and takes a database-wide lock, so under load one NOTIFY
    serves every commit of the last ``min_interval``; the relays also poll, so nothing waits on it.
    """

    min_interval = 0.01

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._pending: set[str] = set()
        self._wake = asyncio.Event()

    def poke(self, channel: str) -> None:
        self._pending.add(channel)
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            channels, self._pending = self._pending, set()
            try:
                async with self._engine.connect() as conn:
                    # One statement straight to the driver, outside any transaction: it commits itself.
                    raw = await conn.get_raw_connection()
                    driver: asyncpg.Connection = raw.driver_connection  # type: ignore[assignment]
                    await driver.execute(
                        "SELECT pg_notify(c, '') FROM unnest($1::text[]) AS c", sorted(channels)
                    )
            except Exception:
                # The relays also poll, so a lost wake-up only delays publishing.
                log.warning("could not notify the outbox relays", exc_info=True)
            await asyncio.sleep(self.min_interval)

    async def run_until(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set (a worker's part); what is poked until then is still sent."""
        task = asyncio.create_task(self.run())
        try:
            await stop.wait()
            await asyncio.sleep(self.min_interval * 2)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@dataclass
class Runtime:
    spec: ServiceSpec
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tokens: TokenVerifier
    api_keys: ApiKeyAuthenticator
    divisions: DivisionTree
    notifier: OutboxNotifier
    nats: Nats | None = None
    clock_sync: ClockSync | None = None  # only where the clock is adjustable
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def start(cls, spec: ServiceSpec, settings: Settings, clock: Clock) -> Runtime:
        ensure_allowed(settings)
        settings.require_startable()
        report_unknown_variables()
        engine = create_engine(settings, application_name=spec.name, schema=spec.schema)
        sessions = session_factory(engine)
        runtime = cls(
            spec=spec,
            settings=settings,
            clock=clock,
            engine=engine,
            sessions=sessions,
            tokens=TokenVerifier(settings),
            api_keys=ApiKeyAuthenticator(
                sessions,
                spec.name,
                clock,
                settings.api_key_cache_seconds,
                settings.api_key_last_used_resolution_seconds,
            ),
            divisions=await load_divisions(sessions),
            notifier=OutboxNotifier(engine),
            clock_sync=ClockSync(clock, sessions) if settings.clock_adjustable else None,
        )
        if runtime.clock_sync is not None:
            await runtime.clock_sync.refresh()  # before the first request asks the time
            runtime._tasks.append(asyncio.create_task(runtime.clock_sync.run(), name="clock-sync"))
        runtime._tasks.append(asyncio.create_task(runtime.notifier.run(), name="outbox-notifier"))
        runtime._tasks.append(asyncio.create_task(runtime._connect_nats(), name="nats-connect"))
        runtime._tasks.append(asyncio.create_task(runtime._flush_key_use(), name="api-key-last-used"))
        return runtime

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.api_keys.flush_last_used()
        if self.nats is not None and not self.nats.is_closed:
            await self.nats.close()
        await self.engine.dispose()

    async def _connect_nats(self) -> None:
        """Connect in the background, so a service starts (and says it is not ready) while NATS is away."""
        url = self.settings.nats_url or "nats://127.0.0.1:4222"
        while True:
            try:
                self.nats = await nats.connect(
                    url,
                    name=f"{self.spec.name}-api",
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    connect_timeout=2,
                    **credentials(self.settings),
                )
                break
            except Exception as exc:
                log.warning("NATS not reachable yet", url=url, error=str(exc))
                await asyncio.sleep(1.0)
        # Core subscription: every process gets every revocation, unlike a shared durable consumer.
        await self.nats.subscribe(ApiKeyRevoked.event_type, cb=self._on_revoked)
        if self.clock_sync is not None:
            await self.clock_sync.subscribe(self.nats)

    async def _on_revoked(self, msg: Msg) -> None:
        try:
            data = json.loads(msg.data)["data"]
            self.api_keys.forget(ApiKeyRevoked.model_validate(data).key_hash)
        except Exception:
            log.warning("unreadable revocation event", exc_info=True)

    async def _flush_key_use(self) -> None:
        while True:
            await asyncio.sleep(5.0)
            await self.api_keys.flush_last_used()

    @property
    def nats_ready(self) -> bool:
        return self.nats is not None and self.nats.is_connected


async def load_divisions(sessions: async_sessionmaker[AsyncSession]) -> DivisionTree:
    """The deployment's divisions as seeded in the database; the packaged Guangxi tree until then."""
    try:
        async with sessions() as session:
            rows = (await session.execute(select(DivisionRow))).scalars().all()
    except Exception:
        log.warning("divisions not readable from the database; using the packaged tree", exc_info=True)
        return load_tree()
    if not rows:
        return load_tree()
    return DivisionTree([Division(r.code, r.name, r.level, r.parent_code) for r in rows])  # type: ignore[arg-type]
