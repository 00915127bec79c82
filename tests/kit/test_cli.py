"""The ``dudao`` command as an operator uses it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import jwt
import pytest

from dudao.config import Settings
from tests.conftest import Infra


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
