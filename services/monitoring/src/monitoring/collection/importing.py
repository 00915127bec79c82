"""Bulk submissions as files: JSON, CSV (UTF-8 or GB18030) or Excel (.xlsx) in, rows of unit values out.

Only the formats live here: reading cells into ``UnitRow``s, with an error per bad cell. A file has one
row per unit: the column ``unit`` (a school code, or a county's code) and one column per element code of
the task's form; a blank cell is a blank value. CSV and workbook rows count as a spreadsheet shows them
(the header is row 1); JSON rows count from 1. The rules of a submission are the service's.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from pydantic import TypeAdapter, ValidationError

from dudao.errors import InvalidInput
from monitoring.collection.schemas import MAX_VALUE, BulkSubmission

MAX_VALUES = 100_000
HEADER_ROW = 1
UNIT_COLUMN = "unit"

JSON_MEDIA_TYPE = "application/json"
CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_UNIT = re.compile(r"^([0-9]{10}|[1-9][0-9]{5})$")
_BULK = TypeAdapter(BulkSubmission)


class UnreadableSubmission(InvalidInput):
    type = "unreadable-submission"
    title = "The body is not JSON, CSV or an Excel workbook (.xlsx) this API reads"


@dataclass(frozen=True)
class RowError:
    """One bad cell (or row, with no column)."""

    row: int
    column: str | None
    reason: str


@dataclass(frozen=True)
class UnitRow:
    row: int
    unit: str
    values: dict[str, Decimal | None]


@dataclass(frozen=True)
class Parsed:
    rows: list[UnitRow]
    errors: list[RowError]


def read(media_type: str, data: bytes) -> Parsed:
    """The rows of a body in ``media_type`` (JSON, CSV or .xlsx)."""
    kind = media_type.split(";")[0].strip().lower()
    if kind == JSON_MEDIA_TYPE:
        return _json(data)
    if kind == XLSX_MEDIA_TYPE or data.startswith(b"PK\x03\x04"):
        return _table(*_xlsx(data))
    if kind in (CSV_MEDIA_TYPE, "application/csv"):
        return _table(*_csv(data))
    raise UnreadableSubmission(f"Send {JSON_MEDIA_TYPE}, {CSV_MEDIA_TYPE} or {XLSX_MEDIA_TYPE}, not {kind!r}")


# ---- JSON ------------------------------------------------------------------------------------------


def _json(data: bytes) -> Parsed:
    try:
        body = _BULK.validate_json(data)
    except ValidationError as exc:
        errors = [_json_error(e) for e in exc.errors(include_url=False)]
        if any(e is None for e in errors):
            raise UnreadableSubmission(
                'The body is not the JSON of a bulk submission: {"rows": [...]}'
            ) from None
        return Parsed([], [e for e in errors if e is not None])
    rows = [UnitRow(i, r.unit, dict(r.values)) for i, r in enumerate(body.rows, start=1)]
    return Parsed(rows, _too_many(rows))


def _json_error(error: Any) -> RowError | None:
    """A validation error of ``rows.<i>.unit`` or ``rows.<i>.values.<code>`` as its row and column."""
    loc = tuple(error["loc"])
    if len(loc) >= 3 and loc[0] == "rows" and isinstance(loc[1], int):
        column = str(loc[3]) if loc[2] == "values" and len(loc) > 3 else str(loc[2])
        return RowError(loc[1] + 1, column, error["msg"])
    if loc[:1] == ("rows",):
        return RowError(HEADER_ROW, None, error["msg"])
    return None


def _too_many(rows: Sequence[UnitRow]) -> list[RowError]:
    count = sum(len(r.values) for r in rows)
    if count > MAX_VALUES:
        return [RowError(rows[-1].row, None, f"{count} values; one submission carries at most {MAX_VALUES}")]
    return []


# ---- tables (CSV and workbooks) --------------------------------------------------------------------


def _csv(data: bytes) -> tuple[list[str], Iterable[Sequence[Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # what Excel saves as "CSV" on Chinese Windows
        except UnicodeDecodeError:
            raise UnreadableSubmission("The CSV is neither UTF-8 nor GB18030 text") from None
    lines = csv.reader(io.StringIO(text, newline=""))
    header = next(lines, [])
    return [h.strip() for h in header], lines


def _xlsx(data: bytes) -> tuple[list[str], Iterable[Sequence[Any]]]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise UnreadableSubmission(f"The workbook cannot be opened: {exc}") from None
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    header = [_text(cell) or "" for cell in next(rows, ())]

    def body() -> Iterator[Sequence[Any]]:
        try:
            yield from rows
        finally:
            workbook.close()

    return header, body()


def _text(cell: Any) -> str | None:
    """A cell as text; Excel stores codes typed as numbers as floats, so 4501020001.0 reads 4501020001."""
    if cell is None:
        return None
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    text = str(cell).strip()
    return text or None


def _header_errors(header: list[str]) -> list[RowError]:
    errors = [RowError(HEADER_ROW, h, "appears twice") for i, h in enumerate(header) if h and h in header[:i]]
    if UNIT_COLUMN not in header:
        errors.append(RowError(HEADER_ROW, UNIT_COLUMN, "this required column is missing"))
    return errors


def _number(cell: Any) -> Decimal:
    """A cell's number: a workbook's numbers arrive as numbers, a CSV's as text (thousands separated by
    commas or not). Called for every cell of a file: the cheap checks come first."""
    if isinstance(cell, str):
        text = cell.replace(",", "") if "," in cell else cell
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{cell.strip()!r} is not a number") from None
        fractional = "." in text or "e" in text or "E" in text
    elif isinstance(cell, int | float) and not isinstance(cell, bool):
        value, fractional = Decimal(str(cell)), isinstance(cell, float)
    else:
        raise ValueError(f"{cell!r} is not a number")
    if not value.is_finite() or abs(value) > MAX_VALUE:
        raise ValueError(f"{cell!r} is not a number this form takes")
    if fractional and value.as_tuple().exponent < -4:  # type: ignore[operator]
        raise ValueError(f"{value} has more than 4 decimal places")
    return value


def _blank(cells: Sequence[Any]) -> bool:
    return not any(c is not None and (not isinstance(c, str) or c.strip()) for c in cells)


def _table(header: list[str], body: Iterable[Sequence[Any]]) -> Parsed:
    """Every non-blank row; a bad header is reported on row 1 and stops there."""
    errors = _header_errors(header)
    if errors:
        return Parsed([], errors)
    unit_at = header.index(UNIT_COLUMN)
    # Blank header cells are ignored: spreadsheets often carry empty formatted columns.
    columns = [(i, h) for i, h in enumerate(header) if h and i != unit_at]
    width = max(i for i, _ in columns) + 1 if columns else 0
    rows: list[UnitRow] = []
    count = 0
    for number, cells in enumerate(body, start=HEADER_ROW + 1):
        unit = _text(cells[unit_at]) if unit_at < len(cells) else None
        if unit is None and _blank(cells):
            continue
        if unit is None or not _UNIT.match(unit):
            errors.append(RowError(number, UNIT_COLUMN, f"{unit!r} is not a school code or a county code"))
            unit = unit or ""
        if len(cells) < width:  # a short CSV line: its missing cells are blank
            cells = [*cells, *([None] * (width - len(cells)))]
        values: dict[str, Decimal | None] = {}
        for index, name in columns:
            cell = cells[index]
            if cell is None or cell == "" or (isinstance(cell, str) and not cell.strip()):
                values[name] = None
                continue
            try:
                values[name] = _number(cell)
            except ValueError as exc:
                errors.append(RowError(number, name, str(exc)))
        count += len(values)
        if count > MAX_VALUES:
            errors.append(RowError(number, None, f"more than {MAX_VALUES} values in one submission"))
            break
        rows.append(UnitRow(number, unit, values))
    return Parsed(rows, errors)
