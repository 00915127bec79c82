"""No log line carries a request's data: a statement that fails on a person's name and phone number logs
its SQLSTATE and statement, never the values, neither in our log lines nor in uvicorn's."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx

from dudao.auth.tokens import issue_dev_token
from dudao.config import Settings
from tests.conftest import Infra, random_school_code

PHONE = "13907715678"
PRINCIPAL = "覃晓燕"

# PostgreSQL quotes the refused row in its message, as a failing check or cast quotes its value.
REFUSE_SCHOOLS = """
CREATE FUNCTION inspection.refuse_school() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'refused %', row_to_json(NEW);
END $$;
CREATE TRIGGER refuse_school BEFORE INSERT ON inspection.school
    FOR EACH ROW EXECUTE FUNCTION inspection.refuse_school();
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _post_a_school(env: dict[str, str], log: Path) -> httpx.Response:
    """Start school-inspection under uvicorn, logging to ``log``; register a school with a principal."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "school_inspection.main:app", "--port", str(port)]
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            office = issue_dev_token(
                Settings(environment="test"),
                sub="office-1",
                name="办公室",
                roles=["supervision_office"],
                division="450102",
            )
            school = {
                "school_code": random_school_code(),
                "name": "兴宁区测试小学",
                "school_type": "primary",
                "ownership": "public",
                "division_code": "450102",
                "address": f"民族大道1号（联系人{PRINCIPAL} {PHONE}）",
                "principal": {"name": PRINCIPAL, "phone": PHONE},
            }
            return client.post("/v1/schools", json=school, headers={"Authorization": f"Bearer {office}"})
    finally:
        server.terminate()
        server.wait(10)


async def test_a_failed_statement_logs_neither_the_name_nor_the_phone(
    infra: Infra, own_database: str, tmp_path: Path
) -> None:
    conn = await asyncpg.connect(own_database)
    try:
        await conn.execute(REFUSE_SCHOOLS)
    finally:
        await conn.close()
    env = {
        **os.environ,
        "DUDAO_ENVIRONMENT": "test",
        "DUDAO_DATABASE_URL": own_database,
        "DUDAO_NATS_URL": infra.nats_url,
        "DUDAO_LOG_LEVEL": "INFO",
    }
    log = tmp_path / "school-inspection.log"
    response = await asyncio.to_thread(_post_a_school, env, log)
    assert response.status_code == 500, response.text
    written = log.read_text(encoding="utf-8")
    assert "unhandled error" in written  # the failure is logged,
    assert "P0001" in written  # by its SQLSTATE,
    assert "Exception in ASGI application" in written  # and uvicorn logged its traceback too
    for value in (PHONE, PHONE[-4:] + "）", PRINCIPAL):
        assert value not in written, written
