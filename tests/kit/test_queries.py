"""The query helpers every domain shares: cursor pages, the mobile-sync walk, jurisdiction and addressees,
and the policy row in force. Run against a temporary table of the real database, rolled back per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from pydantic import BaseModel, ConfigDict
from sqlalchemy import DateTime, String, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dudao.auth.principal import Principal, Role
from dudao.divisions.tree import InvalidDivisionCode, load_tree
from dudao.errors import InvalidInput, field_error
from dudao.ids import uuid7
from dudao.jurisdiction import DivisionOutsideJurisdiction, listed, require_within, visible_to
from dudao.pagination import page, page_of
from dudao.policies import in_force

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class _Base(DeclarativeBase):
    pass


class Row(_Base):
    __tablename__ = "kit_query_row"
    __table_args__ = {"prefixes": ["TEMPORARY"]}  # noqa: RUF012 - SQLAlchemy's declarative hook

    id: Mapped[UUID] = mapped_column(primary_key=True)
    division_code: Mapped[str] = mapped_column(String(6))
    unit_id: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Rule(_Base):
    __tablename__ = "kit_query_rule"
    __table_args__ = {"prefixes": ["TEMPORARY"]}  # noqa: RUF012 - SQLAlchemy's declarative hook

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    division_prefix: Mapped[str] = mapped_column(String(6), unique=True)
    value: Mapped[int]


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with engine.connect() as conn:
        await conn.begin()
        await conn.run_sync(_Base.metadata.create_all)
        yield AsyncSession(bind=conn)
        await conn.rollback()  # the temporary tables go with it


def _who(division: str, *roles: Role, org: str | None = None) -> Principal:
    return Principal(sub="t", name="t", roles=frozenset(roles), division=division, org=org)


async def _rows(session: AsyncSession, *specs: tuple[str, str | None, str, datetime]) -> list[UUID]:
    ids = [uuid7() for _ in specs]
    values = [
        {"id": i, "division_code": d, "unit_id": u, "kind": k, "updated_at": at}
        for i, (d, u, k, at) in zip(ids, specs, strict=True)
    ]
    await session.execute(insert(Row), values)
    return ids


async def _ids(session: AsyncSession, stmt: object) -> list[UUID]:
    return list((await session.execute(stmt)).scalars())  # type: ignore[call-overload]


async def test_pages_follow_the_cursor_in_id_order_both_ways(session: AsyncSession) -> None:
    ids = await _rows(session, *[("450102", None, "a", T0)] * 5)
    first = await _ids(session, page(select(Row.id), Row.id, after=None, limit=2))
    rest = await _ids(session, page(select(Row.id), Row.id, after=first[-1], limit=10))
    newest = await _ids(session, page(select(Row.id), Row.id, after=ids[3], limit=10, newest_first=True))
    assert (first, rest, newest) == (ids[:2], ids[2:], [ids[2], ids[1], ids[0]])


async def test_equal_filters_narrow_a_page_and_none_does_not(session: AsyncSession) -> None:
    ids = await _rows(session, ("450102", None, "a", T0), ("450102", None, "b", T0))
    only_b = await _ids(session, page(select(Row.id), Row.id, after=None, limit=10, equal=[(Row.kind, "b")]))
    both = await _ids(session, page(select(Row.id), Row.id, after=None, limit=10, equal=[(Row.kind, None)]))
    assert (only_b, both) == ([ids[1]], ids)


async def test_the_sync_walk_skips_no_row_changed_in_the_same_instant(session: AsyncSession) -> None:
    later = T0 + timedelta(seconds=1)
    ids = await _rows(
        session, ("450102", None, "a", later), ("450102", None, "a", T0), ("450102", None, "a", later)
    )
    stale = await _rows(session, ("450102", None, "a", T0 - timedelta(days=1)))

    def walk(after: UUID | None) -> object:
        return page(select(Row.id), Row.id, after=after, limit=2, updated_at=Row.updated_at, updated_since=T0)

    first = await _ids(session, walk(None))
    second = await _ids(session, walk(first[-1]))
    assert first + second == [ids[1], ids[0], ids[2]]
    assert stale[0] not in first + second


def test_a_sync_walk_refuses_newest_first() -> None:
    with pytest.raises(ValueError, match="oldest change first"):
        page(select(Row.id), Row.id, after=None, limit=2, newest_first=True, updated_at=Row.updated_at,
             updated_since=T0)  # fmt: skip


async def test_a_principal_sees_its_jurisdiction_and_within_narrows_it(session: AsyncSession) -> None:
    nanning, city, liuzhou = await _rows(
        session, ("450102", None, "a", T0), ("450103", None, "a", T0), ("450202", None, "a", T0)
    )
    office = _who("450100", Role.SUPERVISION_OFFICE)
    seen = await _ids(session, visible_to(select(Row.id), office, Row.division_code).order_by(Row.id))
    within = await _ids(session, listed(select(Row.id), office, Row.division_code, "450103"))
    assert (seen, within) == ([nanning, city], [city])
    assert liuzhou not in seen


async def test_a_supervised_unit_sees_only_rows_addressed_to_it(session: AsyncSession) -> None:
    mine, neighbours = await _rows(session, ("450102", "unit-a", "a", T0), ("450102", "unit-b", "a", T0))
    unit = _who("450102", Role.SUPERVISED_UNIT, org="unit-a")
    nameless = _who("450102", Role.SUPERVISED_UNIT)
    office = _who("450102", Role.SUPERVISION_OFFICE)

    async def seen(who: Principal) -> list[UUID]:
        return await _ids(
            session, visible_to(select(Row.id), who, Row.division_code, Row.unit_id).order_by(Row.id)
        )

    assert (await seen(unit), await seen(nameless), await seen(office)) == ([mine], [], [mine, neighbours])


async def test_the_policy_row_with_the_longest_prefix_is_in_force(session: AsyncSession) -> None:
    await session.execute(
        insert(Rule), [{"division_prefix": p, "value": v} for p, v in [("", 1), ("45", 2), ("4501", 3)]]
    )

    async def value_for(code: str) -> int:
        stmt = in_force(select(Rule.value), Rule.division_prefix, code)
        return (await session.execute(stmt)).scalar_one()

    assert [await value_for(c) for c in ("450102", "450202", "110101")] == [3, 2, 1]


def test_acting_needs_a_known_division_within_the_jurisdiction() -> None:
    tree = load_tree()
    office = _who("450100", Role.SUPERVISION_OFFICE)
    assert require_within(tree, office, "450102").code == "450102"
    with pytest.raises(DivisionOutsideJurisdiction):
        require_within(tree, office, "450202")
    with pytest.raises(InvalidDivisionCode):
        require_within(tree, office, "450199")


class _Item(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID


class _Page(BaseModel):
    items: list[_Item]
    next_cursor: str | None


def test_a_page_has_a_cursor_only_when_a_row_lies_beyond_it() -> None:
    rows = [_Item(id=uuid7()) for _ in range(3)]
    full, last = page_of(_Page, _Item, rows, 2), page_of(_Page, _Item, rows, 3)
    assert ([i.id for i in full.items], last.next_cursor) == ([r.id for r in rows[:2]], None)
    assert full.next_cursor is not None


def test_a_field_error_names_the_body_field_and_its_rule() -> None:
    class TooLate(InvalidInput):
        type = "too-late"

    error = field_error(TooLate, "ended_at", "lies in the future")
    assert (error.detail, error.extensions["errors"]) == (
        "ended_at: lies in the future",
        [{"field": "ended_at", "in": "body", "message": "lies in the future", "code": "too-late"}],
    )
