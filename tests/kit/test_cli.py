"""The ``dudao`` command as an operator uses it."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.config import Settings
from tests.conftest import Infra, random_school_code


def dudao(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dudao.cli", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
        check=False,
    )


def test_token_issues_a_development_jwt_with_the_asked_claims(settings: Settings) -> None:
    result = dudao(
        "token", "--sub", "insp-9", "--name", "张督学", "--role", "inspector", "--division", "450102"
    )
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), settings.jwt_secret.get_secret_value(), algorithms=["HS256"])
    assert (claims["sub"], claims["name"], claims["roles"], claims["division"]) == (
        "insp-9",
        "张督学",
        ["inspector"],
        "450102",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--role", "emperor"), "emperor"),
        (("--division", "45"), "division code"),
    ],
)
def test_token_refuses_unknown_roles_and_bad_divisions(args: tuple[str, ...], message: str) -> None:
    result = dudao("token", *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_apikey_create_list_rotate_and_revoke(infra: Infra) -> None:
    created = dudao(
        "apikey",
        "create",
        "--name",
        "监测数据报送",
        "--org",
        "第三方评估机构A",
        "--division",
        "450100",
        "--role",
        "agency",
        "--service",
        "monitoring",
        "--operation",
        "read",
        "--operation",
        "write",
    )
    assert created.returncode == 0, created.stderr
    key = re.search(r"key \(shown once\): (ddk_\w+)", created.stdout)
    key_id = re.search(r'"id": "([0-9a-f-]+)"', created.stdout)
    assert key
    assert key_id
    listed = dudao("apikey", "list")
    assert key_id.group(1) in listed.stdout
    assert key.group(1) not in listed.stdout
    rotated = dudao("apikey", "rotate", key_id.group(1))
    assert rotated.returncode == 0
    assert "key (shown once): ddk_" in rotated.stdout
    revoked = dudao("apikey", "revoke", key_id.group(1))
    assert revoked.returncode == 0
    assert '"revoked_at": null' not in revoked.stdout
    again = dudao("apikey", "revoke", key_id.group(1))
    assert again.returncode == 2
    assert "already revoked" in again.stderr or "was revoked" in again.stderr


def test_service_commands_are_mounted_from_their_entry_points() -> None:
    result = dudao("--help")
    assert result.returncode == 0, result.stderr
    assert re.search(r"schools\s+The school register", result.stdout)
    assert "warning" not in result.stderr


async def test_dudao_schools_import_registers_the_schools_of_a_csv_file(
    infra: Infra, engine: AsyncEngine, tmp_path: Path
) -> None:
    county = "450126"  # 宾阳县: no other test registers schools here
    codes = [random_school_code() for _ in range(2)]
    register = tmp_path / "schools.csv"
    with register.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["school_code", "name", "school_type", "ownership", "division_code", "address"])
        writer.writerow([codes[0], "宾阳县测试小学", "primary", "public", county, "宾州镇南街1号"])
        writer.writerow([codes[1], "宾阳县测试中学", "junior", "private", county, "宾州镇北街2号"])

    result = dudao("schools", "import", str(register), "--as-division", county)

    assert result.returncode == 0, result.stderr
    assert "2 rows: 2 registered, 0 updated, 0 unchanged" in result.stdout
    query = "SELECT school_code, name, division_code FROM inspection.school WHERE school_code = ANY(:c)"
    async with engine.connect() as conn:
        rows = await conn.execute(text(query), {"c": codes})
    assert {tuple(r) for r in rows} == {
        (codes[0], "宾阳县测试小学", county),
        (codes[1], "宾阳县测试中学", county),
    }


def test_dudao_schools_import_refuses_a_division_outside_the_deployment(infra: Infra, tmp_path: Path) -> None:
    register = tmp_path / "schools.csv"
    register.write_text("school_code,name,school_type,ownership,division_code,address\n", encoding="utf-8")
    result = dudao("schools", "import", str(register), "--as-division", "459999")
    assert result.returncode == 2
    assert "459999" in result.stderr
