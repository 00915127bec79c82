"""The unit of work's set-based changes: a broken constraint the service named raises its domain error, and
the change writes nothing. On a table of the test's own, in a schema of its own."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from uuid import UUID

import pytest
from sqlalchemy import Column, MetaData, String, Table, UniqueConstraint, Uuid, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import Clock
from dudao.db import session_factory
from dudao.errors import Conflict
from dudao.ids import uuid7
from dudao.uow import UnitOfWork
from governance.db import kit


class NameTaken(Conflict):
    title = "The name is taken"


@pytest.fixture
async def named(engine: AsyncEngine) -> AsyncIterator[Table]:
    """A table with a named unique constraint, holding the rows "a" and "b"."""
    schema = f"kit_uow_{secrets.token_hex(4)}"
    table = Table(
        "named",
        MetaData(schema=schema),
        Column("id", Uuid, primary_key=True),
        Column("name", String(20), nullable=False),
        Column("note", String(20), nullable=False),
        UniqueConstraint("name", name="uq_named_name"),
    )
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await conn.run_sync(table.metadata.create_all)
        await conn.execute(table.insert(), [{"id": uuid7(), "name": n, "note": "first"} for n in ("a", "b")])
    yield table
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def _update(uow: UnitOfWork, table: Table, rows: list[dict[str, object]], error: NameTaken) -> None:
    uow.update(table, rows, violations={"uq_named_name": error})


def _upsert(uow: UnitOfWork, table: Table, rows: list[dict[str, object]], error: NameTaken) -> None:
    uow.upsert(table, rows, keys=["id"], violations={"uq_named_name": error})


@pytest.mark.parametrize("change", [_update, _upsert], ids=["update", "upsert"])
async def test_a_change_breaking_a_named_unique_constraint_raises_its_error_and_writes_nothing(
    engine: AsyncEngine,
    named: Table,
    change: Callable[[UnitOfWork, Table, list[dict[str, object]], NameTaken], None],
) -> None:
    async with session_factory(engine)() as session:
        ids: dict[str, UUID] = dict((await session.execute(select(named.c.name, named.c.id))).all())
    before = {"a": "first", "b": "first"}
    taken = NameTaken("b is taken")
    async with session_factory(engine)() as session:
        uow = UnitOfWork(session, kit, "/tests", Clock())
        # "b" may change its note, but "a" may not take its name: the one statement fails as a whole.
        rows: list[dict[str, object]] = [
            {"id": ids["a"], "name": "b", "note": "second"},
            {"id": ids["b"], "name": "b", "note": "second"},
        ]
        change(uow, named, rows, taken)
        with pytest.raises(NameTaken) as raised:
            await uow.commit()
        assert raised.value is taken
    async with session_factory(engine)() as session:
        after = dict((await session.execute(select(named.c.name, named.c.note))).all())
    assert after == before
