"""Set-based writes: one precompiled statement per table, whether it writes one row or 100,000.

Rows travel as one typed array per column and come back as rows through ``unnest``, so the SQL text of a
write depends only on its table, columns and kind, never on how many rows it carries: PostgreSQL
prepares it once per connection, asyncpg sends the arrays in its binary format, and no statement comes
near the server's limit of 32,767 parameters. Several writes can be joined into one statement as
data-modifying CTEs (``joined``), which is how a typical request writes its row, its outbox row and its
audit entry in one round trip.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any, Literal

from sqlalchemy import ARRAY, JSON, Column, Table, Text, TextClause, bindparam, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.schema import ColumnDefault
from sqlalchemy.types import TypeEngine

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


@dataclass
class Write:
    shape: Shape
    rows: list[tuple[Any, ...]]

    def params(self, prefix: str) -> dict[str, list[Any]]:
        columns = self.shape.table.c
        return {
            f"{prefix}{i}": [_bind_value(columns[name], row[i]) for row in self.rows]
            for i, name in enumerate(self.shape.columns)
        }


def write(
    kind: Kind,
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    *,
    schema: str,
    keys: Sequence[str] = (),
) -> Write | None:
    """The write of ``rows`` (all with the same keys), or None if there are none.

    Columns no row names get their Python-side default (ids, timestamps) where they have one, and are
    left to the server otherwise. Upserts keep the last row of each conflict target, as a sequence of
    single-row upserts would.
    """
    rows = list(rows)
    if not rows:
        return None
    named = tuple(rows[0])
    defaults = _python_defaults(table, named) if kind != "update" else {}
    columns = named + tuple(defaults)
    values: list[tuple[Any, ...]] = []
    for row in rows:
        if len(row) != len(named):
            raise ValueError(f"rows for {table.name} must all name the same columns: {sorted(row)}")
        values.append(tuple(row[c] for c in named) + tuple(default() for default in defaults.values()))
    if kind == "upsert":
        at = [columns.index(k) for k in keys]
        values = list({tuple(v[i] for i in at): v for v in values}.values())
    return Write(Shape(table, schema, kind, columns, tuple(keys)), values)


def statement(shapes: Sequence[Shape]) -> TextClause:
    """One statement for ``shapes``, in order: all but the last as CTEs (parameters ``w<i>_<column>``)."""
    return _statement(tuple(shapes))


@cache
def _statement(shapes: tuple[Shape, ...]) -> TextClause:
    parts = [_sql(shape, f"w{i}_") for i, shape in enumerate(shapes)]
    *ctes, last = parts
    sql = last if not ctes else "WITH " + ", ".join(f"w{i} AS ({p})" for i, p in enumerate(ctes)) + " " + last
    params = [
        bindparam(f"w{i}_{j}", type_=_array_type(shape.table.c[name]))
        for i, shape in enumerate(shapes)
        for j, name in enumerate(shape.columns)
    ]
    return text(sql).bindparams(*params)


def parameters(writes: Sequence[Write]) -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = {}
    for i, w in enumerate(writes):
        merged.update(w.params(f"w{i}_"))
    return merged


def returning(shape: Shape, columns: Sequence[str]) -> TextClause:
    """A single write's statement with ``RETURNING columns`` (parameters ``w0_<i>``)."""
    return _returning(shape, tuple(columns))


@cache
def _returning(shape: Shape, columns: tuple[str, ...]) -> TextClause:
    sql = _sql(shape, "w0_") + " RETURNING " + ", ".join(_q(c) for c in columns)
    params = [bindparam(f"w0_{j}", type_=_array_type(shape.table.c[n])) for j, n in enumerate(shape.columns)]
    return text(sql).bindparams(*params)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql(shape: Shape, prefix: str) -> str:
    table = f"{_q(shape.schema)}.{_q(shape.table.name)}"
    columns = ", ".join(_q(c) for c in shape.columns)
    arrays = ", ".join(
        f"CAST(:{prefix}{i} AS {_cast(shape.table.c[name])})" for i, name in enumerate(shape.columns)
    )
    source = f"unnest({arrays}) AS v({columns})"
    if shape.kind == "update":
        assigned = [c for c in shape.columns if c not in shape.keys]
        sets = ", ".join(f"{_q(c)} = {_value(shape.table.c[c])}" for c in assigned)
        match = " AND ".join(f"t.{_q(k)} = v.{_q(k)}" for k in shape.keys)
        return f"UPDATE {table} AS t SET {sets} FROM {source} WHERE {match}"  # noqa: S608 (identifiers of the model)
    values = ", ".join(_value(shape.table.c[c]) for c in shape.columns)
    sql = f"INSERT INTO {table} ({columns}) SELECT {values} FROM {source}"  # noqa: S608
    if shape.kind == "insert_ignore":
        sql += " ON CONFLICT DO NOTHING"
    elif shape.kind == "upsert":
        assigned = [c for c in shape.columns if c not in shape.keys]
        target = ", ".join(_q(k) for k in shape.keys)
        action = (
            "DO UPDATE SET " + ", ".join(f"{_q(c)} = EXCLUDED.{_q(c)}" for c in assigned)
            if assigned
            else "DO NOTHING"
        )
        sql += f" ON CONFLICT ({target}) {action}"
    return sql


def _is_json(column: Column[Any]) -> bool:
    return isinstance(column.type, JSON)


def _is_array(column: Column[Any]) -> bool:
    return isinstance(column.type, ARRAY)


def _cast(column: Column[Any]) -> str:
    if _is_json(column):
        return "TEXT[]"  # cast below, after unnest: JSON travels as text
    if _is_array(column):
        return "TEXT[]"  # an array per row travels as its text form: unnest would flatten a 2-D array
    return f"{column.type.compile(dialect=_DIALECT)}[]"


def _value(column: Column[Any]) -> str:
    """The unnested value of ``column``, cast back from text where it travelled as text."""
    value = f"v.{_q(column.key)}"
    if _is_json(column) or _is_array(column):
        return f"CAST({value} AS {column.type.compile(dialect=_DIALECT)})"
    return value


def _array_type(column: Column[Any]) -> TypeEngine[Any]:
    if _is_json(column) or _is_array(column):
        return ARRAY(Text())
    return ARRAY(column.type)


def _bind_value(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if _is_json(column):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    if _is_array(column):
        return _array_literal(value)
    return value


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
