"""School registers as files: CSV or Excel (.xlsx) in, the same columns out.

Only the file format lives here: reading cells into ``SchoolCreate`` rows (with an error per bad cell) and
writing schools back as rows. The rules of an import (divisions, jurisdiction, duplicates) are the service's.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from pydantic import ValidationError

from dudao.errors import InvalidInput
from dudao.http.storable import UNSTORABLE, unstorable
from school_inspection.school.models import School, Stage
from school_inspection.school.schemas import SchoolCreate

STAGE_COLUMNS = {f"pupils_{s.value}": s for s in Stage}
REQUIRED = ("school_code", "name", "school_type", "ownership", "division_code", "address")
COLUMNS = (*REQUIRED, "enrolment", *STAGE_COLUMNS, "principal_name", "principal_phone", "teaching_point")
# How a yes/no cell may read (教学点: 是/否); an empty cell is no.
_YES_NO = {
    "true": True,
    "yes": True,
    "1": True,
    "是": True,
    "false": False,
    "no": False,
    "0": False,
    "否": False,
}
_WHOLE_NUMBERS = frozenset({"enrolment", *STAGE_COLUMNS})
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
MAX_ROWS = 100_000
HEADER_ROW = 1

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


class UnreadableFile(InvalidInput):
    type = "unreadable-import-file"
    title = "The file is neither a CSV file nor an Excel workbook (.xlsx)"


@dataclass(frozen=True)
class RowError:
    """One bad cell (or row, with no column): rows count as a spreadsheet shows them, the header is 1."""

    row: int
    column: str | None
    reason: str


@dataclass(frozen=True)
class ParsedRow:
    row: int
    school: SchoolCreate | None
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class Table:
    header: list[str]
    body: Iterator[tuple[int, Sequence[Any]]]
    estimated_rows: int | None  # for progress bars; None when the file does not say


def open_table(filename: str | None, data: bytes) -> Table:
    """The first sheet of a workbook, or a CSV file in UTF-8 (with or without BOM) or GB18030."""
    name = (filename or "").lower()
    if name.endswith(".xls"):
        raise UnreadableFile("Save the workbook as .xlsx (Excel 2007 or later); .xls is not read")
    if name.endswith(".xlsx") or data.startswith(b"PK\x03\x04"):
        return _xlsx_table(data)
    return _csv_table(data)


def _csv_table(data: bytes) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # what Excel saves as "CSV" on Chinese Windows
        except UnicodeDecodeError:
            raise UnreadableFile("The CSV file is neither UTF-8 nor GB18030 text") from None
    lines = csv.reader(io.StringIO(text, newline=""))
    header = next(lines, [])
    return Table(
        header=[h.strip() for h in header],
        body=((number, cells) for number, cells in enumerate(lines, start=HEADER_ROW + 1)),
        estimated_rows=max(text.count("\n") - 1, 0),
    )


def _xlsx_table(data: bytes) -> Table:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise UnreadableFile(f"The workbook cannot be opened: {exc}") from None
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [_text(cell) or "" for cell in next(rows, ())]

    def body() -> Iterator[tuple[int, Sequence[Any]]]:
        try:
            yield from enumerate(rows, start=HEADER_ROW + 1)
        finally:
            workbook.close()

    estimate = sheet.max_row - HEADER_ROW if sheet.max_row else None
    return Table(header=header, body=body(), estimated_rows=estimate)


def _text(cell: Any) -> str | None:
    """A cell as text; Excel stores codes typed as numbers as floats, so 4501020001.0 reads 4501020001."""
    if cell is None:
        return None
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    text = str(cell).strip()
    return text or None


def _header_errors(header: list[str]) -> list[RowError]:
    # Blank header cells are ignored: spreadsheets often carry empty formatted columns.
    errors = [
        RowError(HEADER_ROW, h, "is not a column of the school register")
        for h in header
        if h and h not in COLUMNS
    ]
    errors += [
        RowError(HEADER_ROW, c, "this required column is missing") for c in REQUIRED if c not in header
    ]
    errors += [
        RowError(HEADER_ROW, h, "appears twice") for i, h in enumerate(header) if h and h in header[:i]
    ]
    return errors


def _column(loc: tuple[int | str, ...]) -> str | None:
    """The file column a validation error's location points at."""
    if not loc:
        return None
    head = str(loc[0])
    if head == "enrolment_by_stage" and len(loc) > 1:
        return f"pupils_{loc[1]}"
    if head == "principal" and len(loc) > 1:
        return f"principal_{loc[1]}"
    return head


def parse_row(number: int, header: list[str], cells: Sequence[Any]) -> ParsedRow | None:
    """A row as a ``SchoolCreate``, or its errors; None for a blank row."""
    if not any(_text(c) for c in cells):
        return None
    values = {name: _text(cell) for name, cell in zip(header, cells, strict=False)}
    errors = [RowError(number, n, UNSTORABLE) for n, text in values.items() if text and unstorable(text)]
    numbers: dict[str, int] = {}
    for name in _WHOLE_NUMBERS:
        text = values.get(name)
        if text is None:
            continue
        if _INTEGER.match(text):
            numbers[name] = int(text)
        else:
            errors.append(RowError(number, name, f"{text!r} is not a whole number"))
    data: dict[str, Any] = {name: values[name] for name in REQUIRED if values.get(name) is not None}
    if "enrolment" in numbers:
        data["enrolment"] = numbers["enrolment"]
    stages = {STAGE_COLUMNS[c].value: n for c, n in numbers.items() if c in STAGE_COLUMNS}
    if stages:
        data["enrolment_by_stage"] = stages
    teaching_point = values.get("teaching_point")
    if teaching_point is not None:
        if teaching_point.lower() in _YES_NO:
            data["teaching_point"] = _YES_NO[teaching_point.lower()]
        else:
            errors.append(RowError(number, "teaching_point", f"{teaching_point!r} is not yes or no (是/否)"))
    principal = {k: values[f"principal_{k}"] for k in ("name", "phone") if values.get(f"principal_{k}")}
    if principal:
        data["principal"] = principal
    try:
        school = SchoolCreate.model_validate(data)
    except ValidationError as exc:  # reported with the cells that were not numbers, all at once
        errors += [RowError(number, _column(tuple(e["loc"])), e["msg"]) for e in exc.errors()]
    return ParsedRow(number, None, errors) if errors else ParsedRow(number, school)


def parse(table: Table, on_row: Callable[[int], None] | None = None) -> list[ParsedRow]:
    """Every non-blank row, parsed; a bad header is reported on row 1 and stops there."""
    errors = _header_errors(table.header)
    if errors:
        return [ParsedRow(HEADER_ROW, None, errors)]
    parsed: list[ParsedRow] = []
    for number, cells in table.body:
        row = parse_row(number, table.header, cells)
        if row is not None:
            if len(parsed) == MAX_ROWS:
                return [
                    *parsed,
                    ParsedRow(number, None, [RowError(number, None, f"more than {MAX_ROWS} rows")]),
                ]
            parsed.append(row)
        if on_row is not None:
            on_row(number)
    return parsed


def read(filename: str | None, data: bytes) -> list[ParsedRow]:
    return parse(open_table(filename, data))


ExportRow = list[str | int | None]


def as_row(school: School, principal_phone: str | None) -> ExportRow:
    """A school in the columns an import reads, so that an export can be edited and imported again."""
    stages = school.enrolment_by_stage
    return [
        school.school_code,
        school.name,
        school.school_type.value,
        school.ownership.value,
        school.division_code,
        school.address,
        school.enrolment,
        *(None if stages is None else stages[s] for s in STAGE_COLUMNS.values()),
        school.principal_name,
        principal_phone,
        "是" if school.teaching_point else "否",
    ]


async def csv_chunks(rows: AsyncIterable[ExportRow], rows_per_chunk: int = 500) -> AsyncIterator[str]:
    """The register as CSV, a few hundred rows per chunk; the BOM makes Excel read it as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow(COLUMNS)
    count = 0
    async for row in rows:
        writer.writerow(["" if c is None else c for c in row])
        count += 1
        if count % rows_per_chunk == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def xlsx_bytes(rows: Iterable[list[str | int | None]]) -> bytes:
    """The register as a workbook; codes are written as text so that Excel keeps them exact."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("schools")
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
