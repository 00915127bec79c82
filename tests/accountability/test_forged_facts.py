"""Accountability obeys only facts it can verify: a step of a rectification it never saw opened, however
well-formed, opens no case, takes no step, draws no document number, and ends as a dead letter."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from nats.js import JetStreamContext
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from accountability.db import kit
from accountability.documents.models import Document
from dudao.config import Settings
from dudao.db import create_engine, session_factory
from dudao.events.consumer import Unverifiable
from dudao.numbering.models import DocumentSequence
from tests.accountability.conftest import (
    Desk,
    Rectification,
    case_of,
    consume,
    own,
    publish,
    steps_of,
    written,
)

OFFICE = "451024"  # 德保县: no other test's facts name it, on the stream or in the database


@pytest.fixture
async def own_engine(own_database: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database of this test's own, which no other test's openings reached."""
    engine = create_engine(
        Settings(database_url=SecretStr(own_database)), pool_size=4, schema="accountability"
    )
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_a_forged_overdue_fact_on_the_bus_opens_no_case_and_draws_no_number(
    js: JetStreamContext, own_engine: AsyncEngine, settings: Settings
) -> None:
    genuine, forged = (
        Rectification(division=OFFICE, office=OFFICE),
        Rectification(division=OFFICE, office=OFFICE),
    )
    consumers = own(*(genuine.event(kind).event_type for kind in ("opened", "overdue")))
    opened = genuine.event("opened")
    await publish(js, opened, opened.event_id())
    for rectification in (forged, genuine):  # the forgery first, for the number it would have drawn
        fact = rectification.event("overdue")
        await publish(js, fact, fact.event_id())

    await consume(js, own_engine, settings, consumers)

    assert await case_of(own_engine, forged) is None
    case = await case_of(own_engine, genuine)
    assert case is not None
    [step] = await steps_of(own_engine, case.id)
    async with session_factory(own_engine)() as session:
        documents = await session.scalar(
            select(func.count()).select_from(Document).where(Document.office_division == OFFICE)
        )
        serials = await session.scalar(
            select(func.sum(DocumentSequence.last_serial)).where(DocumentSequence.office_division == OFFICE)
        )
        letters = (
            await session.execute(
                select(kit.dead_letter).where(
                    kit.dead_letter.c.consumer.in_([c.durable for c in consumers]),
                    kit.dead_letter.c.event_id == forged.event("overdue").event_id(),
                )
            )
        ).mappings()
        [letter] = list(letters)
    assert (documents, serials) == (1, 1)  # the genuine urging order alone, with the first number
    assert (step.document.number or "").endswith("〕1号")
    assert f"never opened rectification {forged.id}" in letter["error"]
    assert letter["deliveries"] == 5  # retried first: an opening may overtake its step on the way


async def test_a_step_of_an_unknown_rectification_is_refused_and_writes_nothing(
    desk: Desk, engine: AsyncEngine
) -> None:
    forged = Rectification()
    before = await written(engine)
    for kind in ("overdue", "rejected", "due_soon", "accepted", "reopened"):
        with pytest.raises(Unverifiable, match="never opened"):
            await desk.deliver(forged.event(kind))
    assert await written(engine) == before
    assert await case_of(engine, forged) is None


async def test_a_step_naming_another_unit_than_the_opening_is_refused(
    desk: Desk, engine: AsyncEngine
) -> None:
    rectification = Rectification()
    await desk.open(rectification)
    before = await written(engine)
    with pytest.raises(Unverifiable, match="it was opened for"):
        await desk.deliver(rectification.event("overdue", unit_id="school-of-someone-else"))
    assert await written(engine) == before
    case = await case_of(engine, rectification)
    assert case is not None
    assert await steps_of(engine, case.id) == []
