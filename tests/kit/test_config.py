"""Configuration fails closed: an unnamed environment starts nothing, production trusts no development
secret, and a DUDAO_ variable nothing reads is named."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from dudao.auth.tokens import issue_dev_token
from dudao.config import DEVELOPMENT_SECRETS, ConfigurationError, Settings, unknown_variables
from dudao.dev import embedded
from dudao.http.app import create_service_app
from school_inspection.main import spec as inspection_spec
from tests.conftest import bearer, serve


def _environ(**changes: str | None) -> dict[str, str]:
    """This process's environment with ``changes``; None removes a variable."""
    env = dict(os.environ)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _shell() -> dict[str, str]:
    """A developer's shell: no DUDAO_ variable but the environment's name, none of the tests' servers."""
    return {k: v for k, v in os.environ.items() if not k.startswith("DUDAO_")} | {"DUDAO_ENVIRONMENT": "test"}


def _run(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False
    )


def _own_secrets() -> dict[str, SecretStr]:
    return {name: SecretStr(f"production {name} {secrets.token_hex(16)}") for name in DEVELOPMENT_SECRETS}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "uvicorn", "school_inspection.main:app", "--port", "0"],
        ["-m", "school_inspection.worker"],
        ["-m", "dudao.cli", "apikey", "list"],
    ],
    ids=["service", "worker", "cli"],
)
def test_no_process_starts_in_an_unnamed_environment_and_a_misspelling_is_named(argv: list[str]) -> None:
    result = _run(argv, _environ(DUDAO_ENVIRONMENT=None, DUDAO_ENV="production"))
    assert result.returncode == 2, result.stderr
    # One line, no traceback; it names the variable to set and the one that was set instead.
    (line,) = result.stderr.strip().splitlines()
    assert "refusing to start: DUDAO_ENVIRONMENT is not set" in line
    assert "DUDAO_ENV is not a Dudao variable" in line


def test_an_environment_nobody_knows_is_refused_in_one_line() -> None:
    result = _run(["-m", "school_inspection.worker"], _environ(DUDAO_ENVIRONMENT="prod"))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "DUDAO_ENVIRONMENT: Input should be 'development', 'test' or 'production'" in line


def test_production_refuses_to_start_with_the_development_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run(["-m", "school_inspection.worker"], _environ(DUDAO_ENVIRONMENT="production"))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "production needs secrets of its own" in line
    assert "DUDAO_JWT_SECRET" in line
    assert "DUDAO_FIELD_ENCRYPTION_KEY" in line

    monkeypatch.setenv("DUDAO_ENVIRONMENT", "production")
    for name in DEVELOPMENT_SECRETS:
        monkeypatch.setenv(f"DUDAO_{name.upper()}", f"a secret of production's own for {name}")
    monkeypatch.setenv("DUDAO_FIELD_INDEX_KEY", DEVELOPMENT_SECRETS["field_index_key"])
    with pytest.raises(SystemExit) as refused:
        Settings.for_service("school-inspection")
    assert refused.value.code == 2
    monkeypatch.setenv("DUDAO_SCHOOL_INSPECTION_FIELD_INDEX_KEY", "school-inspection's own index key")
    assert Settings.for_service("school-inspection").production


async def test_a_production_app_rejects_development_tokens_and_will_not_start_with_dev_secrets(
    settings: Settings,
) -> None:
    production = settings.model_copy(
        update={
            "environment": "production",
            "jwks_url": "http://127.0.0.1:9/jwks.json",
            "jwt_algorithms": ["RS256"],
            **_own_secrets(),
        }
    )
    # Signed with the development secret, which the source publishes; and with production's own secret.
    forged = [
        issue_dev_token(settings, sub="intruder", name="x", roles=["platform_admin"], division="450000"),
        issue_dev_token(
            settings.model_copy(update={"jwt_secret": production.jwt_secret}),
            sub="intruder",
            name="x",
            roles=["platform_admin"],
            division="450000",
        ),
    ]
    async with serve(create_service_app(inspection_spec, production)) as client:
        for token in forged:
            response = await client.get("/v1/schools", headers=bearer(token))
            assert response.status_code == 401, response.text
            assert "not accepted" in response.json()["detail"]
    with pytest.raises(RuntimeError, match="not issued in production"):
        issue_dev_token(production, sub="x", name="x", roles=["platform_admin"], division="450000")

    with_dev_secrets = settings.model_copy(update={"environment": "production"})
    with pytest.raises(ConfigurationError, match="DUDAO_JWT_SECRET"):
        async with serve(create_service_app(inspection_spec, with_dev_secrets)):
            pass
    with pytest.raises(ConfigurationError, match="DUDAO_ENVIRONMENT is not set"):
        async with serve(
            create_service_app(inspection_spec, settings.model_copy(update={"environment": None}))
        ):
            pass


def test_unnamed_settings_are_trusted_with_nothing() -> None:
    unnamed = Settings(environment=None)
    assert unnamed.production
    with pytest.raises(RuntimeError):
        issue_dev_token(unnamed, sub="x", name="x", roles=["inspector"], division="450102")


def test_variables_nothing_reads_are_told_from_per_service_overrides_and_the_suites_own() -> None:
    environ = {
        "DUDAO_LOG_LEVEL": "INFO",
        "DUDAO_MONITORING_DATABASE_URL": "postgresql://x",
        "DUDAO_SCHOOL_INSPECTION_PORT": "9102",
        "DUDAO_ACCOUNTABILITY_LOG_LEVEL": "DEBUG",
        "DUDAO_TOKEN": "eyJ…",
        "dudao_jwks_url": "https://idp.example/jwks.json",
        "DUDAO_ENV": "production",
        "DUDAO_MONITORING_PORTS": "1",
        "DUDAO_NOSUCH_DATABASE_URL": "postgresql://x",
        "PATH": "/usr/bin",
    }
    assert unknown_variables(environ) == ["DUDAO_ENV", "DUDAO_MONITORING_PORTS", "DUDAO_NOSUCH_DATABASE_URL"]


def test_a_worker_reports_a_variable_nothing_reads_when_it_starts(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    # Servers that do not exist: the worker reports as it starts, and must not consume the tests' events.
    env = _environ(
        DUDAO_ENV="production",
        DUDAO_LOG_LEVEL="INFO",
        DUDAO_DATA_DIR=str(tmp_path),
        DUDAO_DATABASE_URL=f"postgresql+asyncpg://nobody@127.0.0.1:{_free_port()}/nothing",
        DUDAO_NATS_URL=f"nats://127.0.0.1:{_free_port()}",
    )
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "school_inspection.worker"], stdout=out, stderr=subprocess.STDOUT, env=env
        )
    try:
        deadline = time.monotonic() + 60
        while "DUDAO_ENV" not in log.read_text() and time.monotonic() < deadline:
            assert worker.poll() is None, log.read_text()
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(30)
    (warning,) = [json.loads(line) for line in log.read_text().splitlines() if "DUDAO_ENV" in line]
    assert warning["level"] == "warning"
    assert "DUDAO_ENV" in warning["variables"]


@pytest.fixture
def suite_dir() -> Iterator[Path]:
    """A folder laid out as `dudao up` leaves it: ``.dudao/postgres`` and ``.dudao/nats`` running.

    Not under pytest's tmp_path: another pytest run makes its root private again, out of the reach of
    PostgreSQL's system user (as the shared infrastructure, tests/conftest.py, avoids it too)."""
    with tempfile.TemporaryDirectory(prefix="dudao-test-suite-") as scratch:
        data = Path(scratch) / ".dudao"
        pg = embedded.start_postgres(data / "postgres", durable=False)
        try:
            embedded.create_database(pg, "dudao")
            embedded.start_nats(data / "nats")
            yield Path(scratch)
        finally:
            embedded.stop_nats(data / "nats")
            embedded.stop_postgres(data / "postgres")


def test_the_cli_finds_the_servers_of_the_suite_on_its_data_folder(suite_dir: Path) -> None:
    env = _shell()
    migrated = _run(["-m", "dudao.cli", "migrate"], env, cwd=suite_dir)
    assert migrated.returncode == 0, migrated.stderr
    assert "divisions seeded" in migrated.stdout
    years = _run(["-m", "dudao.cli", "calendar", "years"], env, cwd=suite_dir)
    assert years.returncode == 0, years.stderr
    assert "2025  chinese-calendar" in years.stdout
    stream = _run(["-m", "dudao.cli", "events", "declare-stream"], env, cwd=suite_dir)
    assert stream.returncode == 0, stream.stderr

    # Production names its servers: it never takes a development suite's.
    production = {f"DUDAO_{name.upper()}": value.get_secret_value() for name, value in _own_secrets().items()}
    refused = _run(
        ["-m", "dudao.cli", "calendar", "years"],
        {**env, **production, "DUDAO_ENVIRONMENT": "production"},
        cwd=suite_dir,
    )
    assert refused.returncode == 2
    assert "DUDAO_DATABASE_URL is not set" in refused.stderr


def test_the_cli_says_which_url_is_missing_without_a_suite(tmp_path: Path) -> None:
    env = _shell()
    result = _run(["-m", "dudao.cli", "events", "replay", "--schema", "common"], env, cwd=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line == (
        "error: DUDAO_DATABASE_URL and DUDAO_NATS_URL are not set, and no `dudao up` runs on "
        f"{(tmp_path / '.dudao').resolve()}"
    )


def test_the_demo_asks_where_the_suite_listens_and_says_so_when_nothing_answers() -> None:
    port = _free_port()
    env = _environ(DUDAO_ENVIRONMENT=None, DUDAO_GOVERNANCE_PORT=str(port))
    result = _run(["-m", "dudao.cli", "demo"], env)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: governance does not answer at http://127.0.0.1:{port} (")
    assert "DUDAO_GOVERNANCE_PORT" in line
    assert result.stdout == ""
