"""The rectification capability as a service mounts it: timed facts claimed set-wise, and steps received
only by the service they concern. In a database of the test's own (monitoring's schema), so that no other
test's due rectifications count."""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import SecretStr
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dudao import rectification
from dudao.auth.principal import Principal, Role
from dudao.clock import Clock
from dudao.config import Settings
from dudao.contracts.rectification import EscalationStepTaken, Origin
from dudao.db import create_engine, session_factory
from dudao.divisions.tree import load_tree
from dudao.events.consumer import ConsumerRunner
from dudao.events.envelope import CloudEvent
from dudao.events.nats import STREAM, connect
from dudao.events.relay import publish_envelope
from dudao.ids import uuid7
from dudao.rectification.models import (
    DeadlineKind,
    Finding,
    OriginKind,
    Rectification,
    RectificationStatus,
    RectificationStep,
    Severity,
    UnitKind,
)
from dudao.rectification.schemas import DeadlineSpec, FindingCreate, SupervisedUnit
from dudao.uow import UnitOfWork
from monitoring.db import kit
from school_inspection.main import spec as inspection_spec
from tests.kit.events.support import eventually, running

COUNTY = "450102"
clock = Clock()
monitoring = rectification.capability(
    origin="monitoring",
    visibility=rectification.units_see_their_own,
    resolve_unit=rectification.as_given,
    settings=Settings(rectification_reminder_days=[7, 1]),
)


@contextlib.asynccontextmanager
async def engine_in(database_url: str, schema: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=SecretStr(database_url)), pool_size=3, schema=schema)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def own_engine(own_database: str) -> AsyncIterator[AsyncEngine]:
    async with engine_in(own_database, "monitoring") as engine:
        yield engine


@pytest.fixture
async def own_inspection_engine(own_database: str) -> AsyncIterator[AsyncEngine]:
    async with engine_in(own_database, "inspection") as engine:
        yield engine


async def seed(
    engine: AsyncEngine, *deadlines: date, status: RectificationStatus = RectificationStatus.OPEN
) -> list[UUID]:
    """Rectifications with these deadlines, raised a while ago."""
    now, ids = clock.now(), []
    async with session_factory(engine)() as session:
        for deadline in deadlines:
            finding = Finding(
                id=uuid7(),
                origin_kind=OriginKind.EVALUATION,
                category="curriculum",
                severity=Severity.MINOR,
                description="体育课时未开足",
                evidence_ids=[],
                unit_id=f"school-{secrets.token_hex(4)}",
                unit_kind=UnitKind.SCHOOL,
                unit_name="测试学校",
                competent_department="兴宁区教育局",
                division_code=COUNTY,
                office_division=COUNTY,
                raised_by="tests",
                raised_at=now,
            )
            rect = Rectification(
                id=uuid7(),
                finding_id=finding.id,
                requirement="开足体育课时",
                deadline_kind=DeadlineKind.CALENDAR,
                deadline_days=30,
                started_on=deadline - timedelta(days=30),
                deadline=deadline,
                provisional_deadline=False,
                status=status,
                unit_id=finding.unit_id,
                competent_department=finding.competent_department,
                division_code=COUNTY,
                office_division=COUNTY,
                created_at=now,
                updated_at=now,
            )
            session.add_all([finding, rect])
            ids.append(rect.id)
        await session.commit()
    return ids


def uow_of(session: AsyncSession) -> UnitOfWork:
    return UnitOfWork(session, kit, "/tests", clock)


@contextlib.contextmanager
def counting(engine: AsyncEngine) -> Iterator[list[str]]:
    """The statements sent to the database inside the block."""
    sent: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def outbox_of(engine: AsyncEngine, kind: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        stmt = select(kit.outbox.c.envelope).where(
            kit.outbox.c.type == f"dudao.monitoring.rectification.{kind}.v1"
        )
        return [row[0] for row in await conn.execute(stmt)]


async def test_the_overdue_sweep_marks_a_batch_with_one_statement(own_engine: AsyncEngine) -> None:
    today = clock.today()
    due = await seed(own_engine, *(today - timedelta(days=1 + n % 5) for n in range(30)))
    await seed(own_engine, today, today + timedelta(days=3))  # not yet due
    await seed(own_engine, today - timedelta(days=2), status=RectificationStatus.CLOSED)

    marked = []
    for _ in range(3):
        async with session_factory(own_engine)() as session:
            uow = uow_of(session)
            with counting(own_engine) as sent:
                marked.append(await monitoring.service.mark_overdue(uow, today, limit=20))
            assert len(sent) == 1, sent
            await uow.commit()
    assert marked == [20, 10, 0]

    facts = await outbox_of(own_engine, "overdue")
    assert sorted(UUID(f["data"]["rectification_id"]) for f in facts) == sorted(due)
    first = facts[0]["data"]
    assert (first["origin"], first["unit_name"], first["competent_department"]) == (
        "monitoring",
        "测试学校",
        "兴宁区教育局",
    )
    async with session_factory(own_engine)() as session:
        rows = (await session.execute(select(Rectification).where(Rectification.id.in_(due)))).scalars()
        assert all(r.overdue and r.version == 2 for r in rows)


async def test_findings_raised_together_are_written_with_one_statement(own_engine: AsyncEngine) -> None:
    inspector = Principal(sub="tests", name="督学", roles=frozenset({Role.INSPECTOR}), division=COUNTY)
    bodies = [
        FindingCreate(
            unit=SupervisedUnit(
                id=f"school-{n}", kind=UnitKind.SCHOOL, name=f"测试学校{n}", division_code=COUNTY
            ),
            origin_kind=OriginKind.SUPERVISION,
            category="curriculum",
            severity=Severity.MINOR,
            description="体育课时未开足",
            requirement="开足体育课时",
            deadline=DeadlineSpec(days=30 + n % 2),
        )
        for n in range(5)
    ]
    async with session_factory(own_engine)() as session:
        uow = uow_of(session)
        with counting(own_engine) as sent:
            raised = await monitoring.service.raise_findings(uow, inspector, load_tree(), bodies)
            await uow.commit()
    # Findings, rectifications, audit entries and events: one statement (calendar deadlines read nothing).
    assert len(sent) == 1, sent
    assert [r.finding.unit_id for r in raised] == [f"school-{n}" for n in range(5)]
    async with session_factory(own_engine)() as session:
        stmt = select(Rectification).where(Rectification.id.in_([r.id for r in raised]))
        written = {r.id: r for r in (await session.execute(stmt)).scalars()}
    assert [(written[r.id].deadline_days, written[r.id].version) for r in raised] == [
        (30 + n % 2, 1) for n in range(5)
    ]
    opened = {f["data"]["rectification_id"] for f in await outbox_of(own_engine, "opened")}
    assert opened == {str(r.id) for r in raised}


def _step(rectification_id: UUID, index: int = 0) -> EscalationStepTaken:
    return EscalationStepTaken(
        division=COUNTY,
        case_id=str(uuid7()),
        step_id=str(uuid7()),
        origin="monitoring",
        rectification_id=str(rectification_id),
        step_index=index,
        step_kind="urging_order",
        reason="overdue",
        document_number=f"兴教督办〔2026〕{secrets.randbelow(9999)}号",
        new_deadline=clock.today() + timedelta(days=15),
    )


async def test_a_round_of_steps_is_applied_with_a_fixed_number_of_statements_and_once(
    own_engine: AsyncEngine,
) -> None:
    today = clock.today()
    sent_per_round = []
    for n in (3, 30):
        ids = await seed(own_engine, *(today - timedelta(days=1) for _ in range(n)))
        steps = [_step(i) for i in ids]
        for _ in range(2):  # the second time, a redelivery of the whole round changes nothing
            async with session_factory(own_engine)() as session:
                uow = uow_of(session)
                with counting(own_engine) as sent:
                    applied = await monitoring.service.apply_steps(uow, steps)
                    await uow.flush()
                await uow.commit()
            sent_per_round.append((applied, len(sent)))
        async with session_factory(own_engine)() as session:
            rows = (await session.execute(select(Rectification).where(Rectification.id.in_(ids)))).scalars()
            assert {(r.escalation_level, r.last_step_kind, r.deadline, r.version) for r in rows} == {
                (1, "urging_order", today + timedelta(days=15), 2)
            }
            recorded = select(RectificationStep).where(RectificationStep.rectification_id.in_(ids))
            assert len((await session.execute(recorded)).scalars().all()) == n
    # lock, insert steps, update rectifications and audit: the same for 3 and for 30
    [(three, first), (none, again), (thirty, second), (_, _)] = sent_per_round
    assert (three, none, thirty) == (3, 0, 30)
    assert first == second
    assert again < first


async def test_two_sweeps_at_once_take_disjoint_rows_and_each_fact_is_emitted_once(
    own_engine: AsyncEngine,
) -> None:
    today = clock.today()
    due = await seed(own_engine, *(today - timedelta(days=1) for _ in range(12)))
    sessions = session_factory(own_engine)
    async with sessions() as first_session, sessions() as second_session:
        first, second = uow_of(first_session), uow_of(second_session)
        # The first holds its rows until it commits; the second skips them and takes the rest.
        taken = [await monitoring.service.mark_overdue(first, today, limit=8)]
        taken.append(await monitoring.service.mark_overdue(second, today, limit=8))
        await first.commit()
        await second.commit()
    assert taken == [8, 4]
    facts = await outbox_of(own_engine, "overdue")
    assert sorted(UUID(f["data"]["rectification_id"]) for f in facts) == sorted(due)


async def test_reminders_are_claimed_with_one_statement_per_lead_time_and_once_per_deadline(
    own_engine: AsyncEngine,
) -> None:
    today = clock.today()
    [tomorrow] = await seed(own_engine, today + timedelta(days=1))
    [in_five_days] = await seed(own_engine, today + timedelta(days=5))
    await seed(own_engine, today + timedelta(days=20))

    sent_counts = []
    for _ in range(2):
        async with session_factory(own_engine)() as session:
            uow = uow_of(session)
            with counting(own_engine) as sent:
                sent_counts.append(await monitoring.service.remind(uow, today, [7, 1]))
            assert len(sent) == 2, sent  # one statement for the 7-day reminders, one for the 1-day
            await uow.commit()
    assert sent_counts == [3, 0]
    reminders = sorted(
        (f["data"]["rectification_id"], f["data"]["days_before"])
        for f in await outbox_of(own_engine, "due_soon")
    )
    assert reminders == sorted([(str(tomorrow), 7), (str(tomorrow), 1), (str(in_five_days), 7)])


def test_each_service_mounting_rectification_subscribes_to_its_own_steps_only() -> None:
    from governance.main import spec as governance_spec
    from monitoring.main import spec as monitoring_spec

    for spec in (governance_spec, inspection_spec, monitoring_spec):
        [steps] = [c for c in spec.consumers if c.event_type == EscalationStepTaken.event_type]
        assert steps.subject == f"dudao.accountability.escalation.step_taken.v1.{spec.name}"
        assert steps.durable == f"{spec.name}-rectification-steps"


@pytest.fixture
async def js(settings: Settings) -> AsyncIterator[JetStreamContext]:
    assert settings.nats_url
    nc = await connect(settings.nats_url, "tests-rectification")
    yield nc.jetstream()
    await nc.close()


async def publish_step(js: JetStreamContext, origin: Origin, rectification_id: UUID) -> tuple[UUID, UUID]:
    """Publish a step as accountability's relay does; return its event id and step id."""
    step = EscalationStepTaken(
        division=COUNTY,
        case_id=str(uuid7()),
        step_id=str(uuid7()),
        origin=origin,
        rectification_id=str(rectification_id),
        step_index=0,
        step_kind="urging_order",
        reason="overdue",
        document_number="兴教督办〔2026〕1号",
        new_deadline=clock.today() + timedelta(days=15),
    )
    event_id = uuid7()
    data = step.model_dump(mode="json")
    envelope = CloudEvent(
        id=str(event_id),
        source="/dudao/accountability",
        type=step.event_type,
        subject=step.subject(),
        time=clock.now(),
        data=data,
        division=COUNTY,
    )
    await publish_envelope(
        js, step.stream_subject(data), envelope.model_dump(mode="json"), msg_id=str(event_id)
    )
    return event_id, UUID(step.step_id)


async def test_a_service_receives_the_steps_on_its_own_rectifications_and_claims_no_other(
    js: JetStreamContext, own_inspection_engine: AsyncEngine, settings: Settings
) -> None:
    from school_inspection.db import kit as inspection_kit

    [rect] = await seed(own_inspection_engine, clock.today() + timedelta(days=3))
    ours, our_step = await publish_step(js, "school-inspection", rect)
    # The same rectification id in a step for monitoring: were it delivered, it would show here too.
    theirs, _ = await publish_step(js, "monitoring", rect)

    [steps] = [c for c in inspection_spec.consumers if c.event_type == EscalationStepTaken.event_type]
    own = dataclasses.replace(steps, durable=f"{secrets.token_hex(4)}-{steps.durable}")
    runner = ConsumerRunner(
        session_factory(own_inspection_engine), inspection_kit, js, [own], "/tests", clock, settings
    )
    try:
        async with running(runner):

            async def settled() -> bool:
                try:
                    info = await js.consumer_info(STREAM, own.durable)
                except NotFoundError:
                    return False
                return bool(info.num_pending == 0 and info.num_ack_pending == 0)

            await eventually(settled, within=20.0, what="the consumer settled")
    finally:
        with contextlib.suppress(NotFoundError):
            await js.delete_consumer(STREAM, own.durable)

    async with session_factory(own_inspection_engine)() as session:
        shown = (
            await session.execute(
                select(RectificationStep.step_id).where(RectificationStep.rectification_id == rect)
            )
        ).scalars()
        assert list(shown) == [our_step]
        inbox = inspection_kit.inbox
        claimed = await session.execute(
            select(inbox.c.event_id).where(
                inbox.c.consumer == own.durable, inbox.c.event_id.in_([ours, theirs])
            )
        )
        assert list(claimed.scalars()) == [ours]
