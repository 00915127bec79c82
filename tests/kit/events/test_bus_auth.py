"""An authenticated bus: each service is a NATS user of its own, allowed its own subjects, its own durables
and nothing more; consumers dead-letter an event whose envelope claims another origin than its subject."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from uuid import UUID

import pytest
from nats.aio.client import Client
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import select

from dudao.clock import Clock
from dudao.contracts.rectification import RectificationOverdue, event_for
from dudao.dev import embedded
from dudao.dev.embedded import EmbeddedNats
from dudao.events.consumer import ConsumerRunner, batch_consumer, consumer
from dudao.events.envelope import CloudEvent
from dudao.events.nats import STREAM, connect
from dudao.events.permissions import may_claim, source_of
from dudao.events.relay import OutboxRelay, publish_envelope
from dudao.events.stream import declare_stream
from dudao.ids import uuid7
from dudao.uow import UnitOfWork
from tests.kit.events.support import DIVISION, Happened, World, eventually, happened_class, running

FAST_RETRIES = {
    "consumer_max_deliver": 2,
    "consumer_backoff_seconds": [0.1],
    "consumer_ack_wait_seconds": 5.0,
}
# Refused on the wire: the server drops a message or request the user may not send, so no answer comes.
REFUSED = (NatsTimeoutError, NoRespondersError, TimeoutError)


@pytest.fixture
async def secured(tmp_path: Path) -> AsyncIterator[EmbeddedNats]:
    """A server of the test's own, configured as dudao up configures it, with the stream declared: whatever
    ``DUDAO_NATS_URL`` names, and with durables no other test's workers consume."""
    server = embedded.start_nats(tmp_path / "nats")
    try:
        admin = await connect(server.admin_url, "tests-admin")
        await declare_stream(admin.jetstream())
        await admin.close()
        yield server
    finally:
        embedded.stop_nats(tmp_path / "nats")


async def _as(url: str, user: str, passwords: dict[str, str]) -> Client:
    return await connect(url, f"tests-as-{user}", user=user, password=passwords[user])


async def _count(admin: Client, subject: str) -> int:
    info = await admin.jetstream().stream_info(STREAM, subjects_filter=subject)
    return (info.state.subjects or {}).get(subject, 0)


async def test_an_anonymous_client_or_a_wrong_password_is_refused(secured: EmbeddedNats) -> None:
    with pytest.raises(PermissionError, match="without credentials"):
        await connect(secured.url, "tests-anonymous", first_connect_seconds=5)
    with pytest.raises(PermissionError, match="user monitoring"):
        await connect(secured.url, "tests-wrong", user="monitoring", password="guessed")
    nc = await _as(secured.url, "monitoring", secured.passwords())
    assert nc.is_connected
    await nc.close()


async def test_a_service_publishes_its_own_subjects_and_no_other_services(secured: EmbeddedNats) -> None:
    probe = f"probe{secrets.token_hex(4)}"
    own, forged = f"dudao.monitoring.{probe}.seen.v1", f"dudao.school-inspection.{probe}.overdue.v1"
    admin = await connect(secured.admin_url, "tests-admin")
    monitoring = await _as(secured.url, "monitoring", secured.passwords())
    js = monitoring.jetstream()
    try:
        ack = await js.publish(own, b"{}", stream=STREAM)
        assert ack.stream == STREAM
        with pytest.raises(REFUSED):
            await js.publish(forged, b"{}", stream=STREAM, timeout=1.0)
        assert f'permissions violation for publish to "{forged}"' in str(monitoring.last_error)
        assert (await _count(admin, own), await _count(admin, forged)) == (1, 0)

        # Nor may it change the stream, or look into another service's durable.
        with pytest.raises(REFUSED):
            await js.purge_stream(STREAM, subject=own)
        with pytest.raises(REFUSED):
            await js.consumer_info(STREAM, "accountability-school-inspection-overdue", timeout=1.0)
        assert await _count(admin, own) == 1
    finally:
        await admin.jetstream().purge_stream(STREAM, subject=own)
        await monitoring.close()
        await admin.close()


def _overdue(rectification_id: str) -> RectificationOverdue:
    cls = event_for("school-inspection", "overdue")
    assert issubclass(cls, RectificationOverdue)
    return cls(
        division=DIVISION,
        origin="school-inspection",
        rectification_id=rectification_id,
        finding_id=f"finding-{rectification_id}",
        category="school_safety",
        severity="major",
        unit_id="school-bus-auth",
        unit_kind="school",
        unit_name="南宁市兴宁区测试小学",
        competent_department=None,
        office_division=DIVISION,
        deadline=Clock().today(),
        provisional_deadline=False,
    )


async def test_a_worker_relays_and_consumes_as_its_own_user(world: World, secured: EmbeddedNats) -> None:
    passwords = secured.passwords()
    admin = await connect(secured.admin_url, "tests-admin")
    inspection = await _as(secured.url, "school-inspection", passwords)
    accountability = await _as(secured.url, "accountability", passwords)
    try:
        event = _overdue(str(uuid7()))
        async with world.sessions() as session:
            uow = UnitOfWork(session, world.kit, source_of("school-inspection"), world.clock)
            uow.emit(event)
            await uow.commit()
        relay = OutboxRelay(world.engine, world.kit, inspection.jetstream(), world.settings())
        assert await relay.publish_batch() == 1

        seen: list[str] = []

        async def escalate(events: Sequence[RectificationOverdue], uow: UnitOfWork) -> None:
            seen.extend(e.rectification_id for e in events)

        overdue = batch_consumer(event.event_type, durable="accountability-school-inspection-overdue")(
            escalate
        )
        js = accountability.jetstream()
        runner = ConsumerRunner(
            world.sessions,
            world.kit,
            js,
            [overdue],
            "/dudao/accountability",
            world.clock,
            world.settings(),
        )
        async with running(runner):

            async def acked() -> bool:
                return bool(seen) and await _all_acked(js, overdue.durable)

            await eventually(acked, what="the fact handled and acknowledged")
        assert seen == [event.rectification_id]

        # It may not take over another service's durable.
        with pytest.raises(REFUSED):
            await js.consumer_info(STREAM, "monitoring-roster-registered", timeout=1.0)
    finally:
        for nc in (accountability, inspection, admin):
            await nc.close()


async def test_an_event_claiming_another_origin_is_dead_lettered(world: World) -> None:
    happened = happened_class(world.subject("origin"))
    calls: list[UUID] = []

    @consumer(happened.event_type, durable=world.durable("origin"))
    async def apply(event: Happened, uow: UnitOfWork) -> None:
        calls.append(event.thing_id)

    honest, forged = (happened(thing_id=uuid7(), division=DIVISION) for _ in range(2))
    envelopes = {}
    for event, source in ((honest, world.source), (forged, source_of("school-inspection"))):
        envelope = CloudEvent(
            id=str(uuid7()),
            source=source,
            type=event.event_type,
            time=world.clock.now(),
            data=event.model_dump(mode="json"),
            division=event.division,
        )
        envelopes[source] = envelope
        await publish_envelope(
            world.js, event.event_type, envelope.model_dump(mode="json"), msg_id=envelope.id
        )

    settings = world.settings(**FAST_RETRIES)
    runner = ConsumerRunner(world.sessions, world.kit, world.js, [apply], world.source, world.clock, settings)
    dead_letter = world.kit.dead_letter

    async def dead_lettered() -> bool:
        return await world.count(dead_letter, dead_letter.c.consumer == apply.durable) > 0

    async with running(runner):
        await eventually(dead_lettered, what="the forged event dead-lettered")
        await eventually(lambda: _all_acked(world.js, apply.durable), what="both events settled")

    assert calls == [honest.thing_id]
    async with world.engine.connect() as conn:
        [row] = (
            await conn.execute(select(dead_letter).where(dead_letter.c.consumer == apply.durable))
        ).mappings()
    assert row["event_id"] == UUID(envelopes[source_of("school-inspection")].id)
    assert row["deliveries"] == 1  # at once: no retry makes it come from its subject's service
    assert f"/dudao/school-inspection may not publish on {happened.event_type}" in row["error"]


async def _all_acked(js: JetStreamContext, durable: str) -> bool:
    try:
        info = await js.consumer_info(STREAM, durable)
    except NotFoundError:  # the runner has not created it yet
        return False
    return info.num_pending == 0 and info.num_ack_pending == 0


def test_a_subject_names_the_one_service_its_events_come_from() -> None:
    assert may_claim("dudao.school-inspection.rectification.overdue.v1", "/dudao/school-inspection")
    assert not may_claim("dudao.school-inspection.rectification.overdue.v1", "/dudao/monitoring")
    assert may_claim("dudao.accountability.escalation.step_taken.v1.governance", "/dudao/accountability")
    # The kit's common events: any service of the suite, or the CLI; nobody else.
    assert may_claim("dudao.common.calendar.year_published.v1", "/dudao/cli")
    assert may_claim("dudao.common.apikey.revoked.v1", "/dudao/governance")
    assert not may_claim("dudao.common.apikey.revoked.v1", "/dudao/somebody")
    assert not may_claim("elsewhere.governance.x.y.v1", "/dudao/governance")
