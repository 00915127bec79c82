"""Bulk import and export of the school register: whole or nothing, an error per bad cell, bulk writes."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import delete, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.config import Settings
from school_inspection.db import kit
from school_inspection.school.importing import COLUMNS
from school_inspection.school.models import School
from tests.conftest import TokenFactory, bearer, random_school_code
from tests.school_inspection.registry.conftest import COUNTY, OTHER_COUNTY, assert_problem, counts, register

BULK_COUNTY = "450521"  # 合浦县: only the bulk tests register schools here
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def row(code: str | None = None, **cells: Any) -> dict[str, Any]:
    return {
        "school_code": code or random_school_code(),
        "name": "合浦县测试小学",
        "school_type": "primary",
        "ownership": "public",
        "division_code": COUNTY,
        "address": "廉州镇中山路1号",
        "enrolment": 600,
        **cells,
    }


def csv_file(rows: list[dict[str, Any]], header: list[str] | None = None, encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header or list(COLUMNS), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_file(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for cells in rows:
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], data: bytes, name: str = "schools.csv"
) -> httpx.Response:
    media = XLSX if name.endswith(".xlsx") else "text/csv"
    return await client.post("/v1/schools/import", files={"file": (name, data, media)}, headers=headers)


async def events_for(engine: AsyncEngine, codes: list[str]) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(kit.outbox.c.type).where(kit.outbox.c.envelope["data"]["school_code"].astext.in_(codes))
        )
    return sorted(t.split(".")[3] for t in rows.scalars())


async def test_a_valid_file_registers_and_updates_every_row_in_one_go_with_an_event_each(
    inspection: httpx.AsyncClient, office: dict[str, str], engine: AsyncEngine
) -> None:
    known = await register(inspection, office)
    rows = [
        row(
            known["school_code"], name="改名后的小学", principal_name="黄校长", principal_phone="13907790001"
        ),
        row(school_type="nine_year", enrolment="", pupils_primary=400, pupils_junior=350),
        row(school_type="kindergarten", enrolment=120, ownership="private"),
    ]
    response = await upload(inspection, office, csv_file(rows))
    assert response.status_code == 200, response.text
    assert response.json() == {"rows": 3, "inserted": 2, "updated": 1, "unchanged": 0}
    codes = [r["school_code"] for r in rows]
    assert await events_for(engine, codes) == ["registered", "registered", "registered", "updated"]

    updated = (await inspection.get(f"/v1/schools/{known['id']}", headers=office)).json()
    assert (updated["name"], updated["version"]) == ("改名后的小学", 2)
    assert updated["principal"] == {"name": "黄校长", "phone": "13907790001"}
    listed = (
        await inspection.get("/v1/schools", params={"limit": 500, "within": COUNTY}, headers=office)
    ).json()
    nine_year = next(s for s in listed["items"] if s["school_code"] == codes[1])
    assert (nine_year["enrolment"], nine_year["enrolment_by_stage"]["junior"]) == (750, 350)

    again = await upload(inspection, office, csv_file(rows))
    assert again.json() == {"rows": 3, "inserted": 0, "updated": 0, "unchanged": 3}
    assert await events_for(engine, codes) == ["registered", "registered", "registered", "updated"]


async def test_a_file_with_bad_rows_is_refused_whole_with_an_error_for_each(
    inspection: httpx.AsyncClient, office: dict[str, str], other_office: dict[str, str], engine: AsyncEngine
) -> None:
    elsewhere = await register(inspection, other_office, division_code=OTHER_COUNTY)
    known = await register(inspection, office)
    duplicate = random_school_code()
    rows = [
        row(),  # row 2: good, and still not written
        row(duplicate),  # 3
        row(duplicate),  # 4: duplicate inside the file
        row(division_code="450599"),  # 5: no such division
        row(division_code=OTHER_COUNTY),  # 6: outside the caller's jurisdiction
        row(school_type="university"),  # 7
        row(enrolment=-5),  # 8
        row(enrolment="many", ownership="state"),  # 9: every bad cell of a row is named
        row(elsewhere["school_code"]),  # 10: registered in another jurisdiction
        row(pupils_junior=20, enrolment=""),  # 11: a primary school with junior pupils
        row(known["school_code"], division_code="450512"),  # 12: an import does not move a school
        row(school_code="12345"),  # 13
        row(name=""),  # 14
        row(division_code="450500"),  # 15: a city, not a county
    ]
    before = await counts(engine, "school")
    problem = assert_problem(await upload(inspection, office, csv_file(rows)), 422, "school-import-rejected")
    found = {(e["row"], e["column"]) for e in problem["errors"]}
    assert found == {
        (4, "school_code"),
        (5, "division_code"),
        (6, "division_code"),
        (7, "school_type"),
        (8, "enrolment"),
        (9, "enrolment"),
        (9, "ownership"),
        (10, "school_code"),
        (11, "pupils_junior"),
        (12, "division_code"),
        (13, "school_code"),
        (14, "name"),
        (15, "division_code"),
    }
    assert problem["error_count"] == len(found)
    reasons = {(e["row"], e["column"]): e["reason"] for e in problem["errors"]}
    assert "row 3" in reasons[(4, "school_code")]
    assert "outside your jurisdiction" in reasons[(10, "school_code")]
    assert await counts(engine, "school") == before


async def test_a_bad_header_is_reported_on_row_one(
    inspection: httpx.AsyncClient, office: dict[str, str], engine: AsyncEngine
) -> None:
    header = [c for c in COLUMNS if c != "address"] + ["remarks"]
    before = await counts(engine, "school")
    problem = assert_problem(await upload(inspection, office, csv_file([row()], header)), 422)
    assert {(e["row"], e["column"]) for e in problem["errors"]} == {(1, "address"), (1, "remarks")}
    assert await counts(engine, "school") == before


@pytest.mark.parametrize(
    ("name", "data"),
    [("schools.xls", b"\xd0\xcf\x11\xe0 an old binary workbook"), ("schools.xlsx", b"PK\x03\x04 not a zip")],
)
async def test_a_file_that_is_not_a_register_is_a_problem(
    inspection: httpx.AsyncClient, office: dict[str, str], name: str, data: bytes
) -> None:
    assert_problem(await upload(inspection, office, data, name), 422, "unreadable-import-file")


async def test_empty_files_and_other_roles_are_refused(
    inspection: httpx.AsyncClient, office: dict[str, str], inspector: dict[str, str]
) -> None:
    assert_problem(await upload(inspection, office, csv_file([])), 422, "school-import-rejected")
    assert_problem(await upload(inspection, inspector, csv_file([row()])), 403)
    missing = await inspection.post("/v1/schools/import", headers=office)
    assert_problem(missing, 422)


async def test_excel_workbooks_and_gb18030_csv_are_read(
    inspection: httpx.AsyncClient, office: dict[str, str]
) -> None:
    code = "4" + random_school_code()[1:]  # a number keeps no leading zero
    # Excel keeps a code typed into a cell as a number; the import reads it back as the code.
    # A blank header cell (an empty formatted column) is ignored.
    workbook = xlsx_file(
        [[*COLUMNS, None], [int(code), "钦州路小学", "primary", "public", int(COUNTY), "钦州路2号", 300]]
    )
    response = await upload(inspection, office, workbook, "register.xlsx")
    assert response.json() == {"rows": 1, "inserted": 1, "updated": 0, "unchanged": 0}, response.text
    gbk = csv_file([row(name="银滩中学", school_type="junior")], encoding="gb18030")
    assert (await upload(inspection, office, gbk)).json()["inserted"] == 1


async def test_the_export_holds_the_callers_jurisdiction_and_imports_back_unchanged(
    inspection: httpx.AsyncClient, office: dict[str, str], other_office: dict[str, str]
) -> None:
    ours = await register(
        inspection, office, school_type="twelve_year", enrolment=None,
        enrolment_by_stage={"primary": 100, "junior": 80, "senior": 60}, principal={"name": "周校长"},
    )  # fmt: skip
    theirs = await register(inspection, other_office, division_code=OTHER_COUNTY)

    exported = await inspection.get("/v1/schools/export", params={"format": "csv"}, headers=office)
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    text = exported.content.decode("utf-8-sig")
    lines = list(csv.DictReader(io.StringIO(text)))
    codes = {line["school_code"] for line in lines}
    assert ours["school_code"] in codes
    assert theirs["school_code"] not in codes
    mine = next(line for line in lines if line["school_code"] == ours["school_code"])
    assert (mine["pupils_senior"], mine["enrolment"], mine["principal_name"]) == ("60", "240", "周校长")

    back = await upload(inspection, office, exported.content)
    assert back.status_code == 200, back.text
    assert back.json()["unchanged"] == back.json()["rows"] == len(lines)

    workbook = await inspection.get("/v1/schools/export", params={"format": "xlsx"}, headers=office)
    assert workbook.headers["content-type"] == XLSX
    sheet = load_workbook(io.BytesIO(workbook.content), read_only=True).worksheets[0]
    cells = list(sheet.iter_rows(values_only=True))
    assert list(cells[0]) == list(COLUMNS)
    assert {c[0] for c in cells[1:]} == codes
    assert (await upload(inspection, office, workbook.content, "back.xlsx")).json()["unchanged"] == len(lines)

    narrowed = await inspection.get("/v1/schools/export", params={"within": OTHER_COUNTY}, headers=office)
    assert narrowed.content.decode("utf-8-sig").strip() == ",".join(COLUMNS)
    assert_problem(await inspection.get("/v1/schools/export", params={"format": "pdf"}, headers=office), 422)


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every statement sent to the database while the fixture is active, from any engine."""
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    yield seen
    event.remove(Engine, "before_cursor_execute", count)


@pytest.fixture
async def bulk_county(engine: AsyncEngine) -> AsyncIterator[str]:
    """A county for bulk imports, emptied afterwards: thousands of schools would slow every later test
    that walks all schools (the visit clock's scheduler, for one)."""
    yield BULK_COUNTY
    async with engine.begin() as conn:
        await conn.execute(delete(School).where(School.division_code == BULK_COUNTY))


def bulk_rows(count: int) -> list[dict[str, Any]]:
    return [
        row(f"9{n:09d}", division_code=BULK_COUNTY, name=f"合浦县第{n}小学", principal_name=f"校长{n}")
        for n in range(count)
    ]


async def test_ten_thousand_rows_import_in_bulk_statements_not_one_per_row(
    inspection: httpx.AsyncClient,
    token: TokenFactory,
    engine: AsyncEngine,
    statements: list[str],
    bulk_county: str,
) -> None:
    office = bearer(token("supervision_office", division=bulk_county))
    rows = bulk_rows(10_000)
    started = time.perf_counter()
    response = await upload(inspection, office, csv_file(rows))
    elapsed = time.perf_counter() - started
    assert response.json() == {"rows": 10_000, "inserted": 10_000, "updated": 0, "unchanged": 0}, (
        response.text
    )
    assert len(statements) < 100, f"{len(statements)} statements for 10,000 rows"
    assert elapsed < 60
    assert len(await events_for(engine, [r["school_code"] for r in rows[:50]])) == 50

    statements.clear()
    for r in rows[:4_000]:
        r["address"] = "廉州镇新址"
    again = await upload(inspection, office, csv_file(rows))
    assert again.json() == {"rows": 10_000, "inserted": 0, "updated": 4_000, "unchanged": 6_000}
    assert len(statements) < 100


def test_the_cli_imports_through_the_same_rules_and_refuses_bad_files_whole(
    settings: Settings, tmp_path: Path, bulk_county: str
) -> None:
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(csv_file([row(division_code=BULK_COUNTY) for _ in range(3)]))
    bad.write_bytes(csv_file([row(division_code=BULK_COUNTY), row(division_code=COUNTY)]))
    assert settings.database_url is not None
    env = {**os.environ, "DUDAO_DATABASE_URL": settings.database_url.get_secret_value()}

    def cli(path: Path) -> subprocess.CompletedProcess[str]:
        command = [
            sys.executable,
            "-m",
            "school_inspection.cli",
            "import",
            str(path),
            "--as-division",
            BULK_COUNTY,
        ]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)

    done = cli(good)
    assert done.returncode == 0, done.stderr
    assert "3 rows: 3 registered, 0 updated, 0 unchanged" in done.stdout
    refused = cli(bad)
    assert refused.returncode == 2
    assert "row 3, division_code" in refused.stderr
    assert cli(good).stdout.strip().endswith("3 rows: 0 registered, 0 updated, 3 unchanged")
