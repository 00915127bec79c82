"""Set-based writes: one prepared statement per table, whether it writes one row or 100,000.

Rows travel as one typed array per column and come back as rows through ``unnest``, so the SQL text of a
write depends only on its table, columns and kind, never on how many rows it carries: PostgreSQL
prepares it once per connection, asyncpg sends the arrays in its binary format, and no statement comes
near the server's limit of 32,767 parameters. Several writes can be joined into one statement as
data-modifying CTEs, which is how a typical request writes its row, its outbox row and its audit entry
in one round trip.

The statements go to the driver as they are (``exec_driver_sql``), inside the session's transaction:
the rows are already plain values, so SQLAlchemy's compilation and per-value bind processing would
only repeat work.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any, Literal

import asyncpg
from sqlalchemy import ARRAY, JSON, Column, Float, Numeric, String, Table
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql.schema import ColumnDefault

Kind = Literal["insert", "insert_ignore", "upsert", "update"]
_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Shape:
    """What a write's SQL depends on: its table (in the schema it is written to), kind and columns."""

    table: Table
    schema: str
    kind: Kind
    columns: tuple[str, ...]
    # upsert: the conflict target; update: the columns that find the row
    keys: tuple[str, ...] = ()
    # upsert: a version column; the row there is updated only by a row with a greater version
    only_newer: str | None = None


@dataclass
class Write:
    shape: Shape
    # One array per column, in the shape's column order, values as asyncpg takes them.
    arrays: list[list[Any]]

    def merged(self, other: Write) -> Write:
        """This write and ``other`` (of the same shape) as one."""
        return Write(self.shape, [a + b for a, b in zip(self.arrays, other.arrays, strict=True)])


def write(
    kind: Kind,
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    *,
    schema: str,
    keys: Sequence[str] = (),
    only_newer: str | None = None,
) -> Write | None:
    """The write of ``rows`` (all with the same keys), or None if there are none.

    Columns no row names get their Python-side default (ids, timestamps) where they have one, and are
    left to the server otherwise. Upserts keep one row per conflict target, as a sequence of single-row
    upserts would leave it: the last, or with ``only_newer`` the newest.
    """
    rows = list(rows)
    if not rows:
        return None
    named = tuple(rows[0])
    if any(len(row) != len(named) for row in rows):
        raise ValueError(f"rows for {table.name} must all name the same columns: {sorted(named)}")
    if kind == "upsert":
        rows = _one_per_key(rows, keys, only_newer)
    converters, defaults = _plan(table, named, kind == "update")
    # Column by column, straight from the rows: no row tuples in between.
    arrays = [
        values if convert is None else [None if v is None else convert(v) for v in values]
        for convert, values in zip(converters, ([row[name] for row in rows] for name in named), strict=True)
    ]
    arrays += [[make() for _ in rows] for make in defaults.values()]
    return Write(Shape(table, schema, kind, named + tuple(defaults), tuple(keys), only_newer), arrays)


@cache
def _plan(
    table: Table, named: tuple[str, ...], update: bool
) -> tuple[tuple[Callable[[Any], Any] | None, ...], dict[str, Any]]:
    """Once per table and set of columns: each named column's converter, and the defaults of the others."""
    return tuple(_converter(table.c[name]) for name in named), {} if update else _python_defaults(
        table, named
    )


def _one_per_key(
    rows: list[Mapping[str, Any]], keys: Sequence[str], only_newer: str | None
) -> list[Mapping[str, Any]]:
    if only_newer is not None:
        rows = sorted(rows, key=lambda r: r[only_newer])
    return list({tuple(r[k] for k in keys): r for r in rows}.values())


async def execute(session: AsyncSession, writes: Sequence[Write]) -> None:
    """``writes`` as one statement, in order: all but the last as CTEs."""
    args = tuple(a for w in writes for a in w.arrays)
    connection = await session.connection()
    await connection.exec_driver_sql(_statement(tuple(w.shape for w in writes)), args)


async def execute_alone(engine: AsyncEngine, writes: Sequence[Write]) -> None:
    """``writes`` as one statement in a transaction of its own: a change that read nothing and fits one
    statement needs no BEGIN and no COMMIT, one round trip where a transaction costs three."""
    args = [a for w in writes for a in w.arrays]
    statement = _statement(tuple(w.shape for w in writes))
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: asyncpg.Connection = raw.driver_connection  # type: ignore[assignment]
        try:
            await driver.execute(statement, *args)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(statement, None, exc) from exc


async def fetch(session: AsyncSession, one: Write, returning: Sequence[str]) -> Sequence[Row[Any]]:
    """A single write, with ``RETURNING returning``."""
    connection = await session.connection()
    result = await connection.exec_driver_sql(_returning(one.shape, tuple(returning)), tuple(one.arrays))
    return result.all()


@cache
def _statement(shapes: tuple[Shape, ...]) -> str:
    parts: list[str] = []
    first = 1
    for shape in shapes:
        parts.append(_sql(shape, first))
        first += len(shape.columns)
    *ctes, last = parts
    if not ctes:
        return last
    return "WITH " + ", ".join(f"w{i} AS ({p})" for i, p in enumerate(ctes)) + " " + last


@cache
def _returning(shape: Shape, columns: tuple[str, ...]) -> str:
    return _sql(shape, 1) + " RETURNING " + ", ".join(_q(c) for c in columns)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql(shape: Shape, first: int) -> str:
    """The statement of one write, its arrays the parameters ``$first`` on."""
    table = f"{_q(shape.schema)}.{_q(shape.table.name)}"
    names = [shape.table.c[c].name for c in shape.columns]
    columns = ", ".join(_q(n) for n in names)
    arrays = ", ".join(f"${first + i}::{_cast(shape.table.c[key])}" for i, key in enumerate(shape.columns))
    source = f"unnest({arrays}) AS v({columns})"
    if shape.kind == "update":
        keys = {shape.table.c[k].name for k in shape.keys}
        sets = ", ".join(f"{_q(n)} = {_value(shape.table.c[n])}" for n in names if n not in keys)
        match = " AND ".join(f"t.{_q(k)} = v.{_q(k)}" for k in sorted(keys))
        return f"UPDATE {table} AS t SET {sets} FROM {source} WHERE {match}"  # noqa: S608 (the model's names)
    values = ", ".join(_value(shape.table.c[n]) for n in names)
    sql = f"INSERT INTO {table} ({columns}) SELECT {values} FROM {source}"  # noqa: S608
    if shape.kind == "insert_ignore":
        sql += " ON CONFLICT DO NOTHING"
    elif shape.kind == "upsert":
        keys = {shape.table.c[k].name for k in shape.keys}
        assigned = [n for n in names if n not in keys]
        target = ", ".join(_q(shape.table.c[k].name) for k in shape.keys)
        action = (
            "DO UPDATE SET " + ", ".join(f"{_q(n)} = EXCLUDED.{_q(n)}" for n in assigned)
            if assigned
            else "DO NOTHING"
        )
        sql += f" ON CONFLICT ({target}) {action}"
        if shape.only_newer is not None and assigned:
            version = _q(shape.table.c[shape.only_newer].name)
            sql += f" WHERE {table}.{version} < EXCLUDED.{version}"
    return sql


def _travels_as_text(column: Column[Any]) -> bool:
    # JSON as its text; an array per row as its text form, since unnest would flatten a 2-D array;
    # decimals as their text, which asyncpg encodes several times faster than numeric[].
    return isinstance(column.type, JSON | ARRAY) or _decimal(column)


def _decimal(column: Column[Any]) -> bool:
    return isinstance(column.type, Numeric) and not isinstance(column.type, Float)


def _ddl_type(column: Column[Any]) -> str:
    return str(column.type.compile(dialect=_DIALECT))


def _cast(column: Column[Any]) -> str:
    # Strings as text, never varchar(n): an explicit cast to varchar(n) would silently cut a value
    # that the column's own assignment cast refuses.
    if _travels_as_text(column) or isinstance(column.type, String):
        return "text[]"
    return f"{_ddl_type(column)}[]"


def _value(column: Column[Any]) -> str:
    """The unnested value of ``column``, cast back from text where it travelled as text."""
    value = f"v.{_q(column.name)}"
    return f"CAST({value} AS {_ddl_type(column)})" if _travels_as_text(column) else value


def _converter(column: Column[Any]) -> Callable[[Any], Any] | None:
    """What a value of ``column`` needs before asyncpg takes it, if anything."""
    if isinstance(column.type, JSON):
        return _json_text
    if isinstance(column.type, ARRAY):
        return _array_literal
    if isinstance(column.type, SAEnum):
        return _enum_value
    if _decimal(column):
        return str
    return None


class Json(str):
    """A value of a JSON column that is JSON text already (e.g. a pydantic model's ``model_dump_json``)."""


def _json_text(value: Any) -> str:
    if isinstance(value, Json):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _array_literal(values: Sequence[Any]) -> str:
    """PostgreSQL's text form of a one-dimensional array, every element quoted."""
    items = []
    for v in values:
        if v is None:
            items.append("NULL")
        else:
            s = str(v.value if isinstance(v, Enum) else v).replace("\\", "\\\\").replace('"', '\\"')
            items.append(f'"{s}"')
    return "{" + ",".join(items) + "}"


def _python_defaults(table: Table, named: tuple[str, ...]) -> dict[str, Any]:
    """Zero-argument callables that make the Python-side defaults of the columns not named."""
    made: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.key in named or not isinstance(default, ColumnDefault):
            continue
        if default.is_callable:
            fn = default.arg
            made[column.key] = lambda fn=fn: fn(None)
        elif default.is_scalar:
            made[column.key] = lambda arg=default.arg: arg
    return made
