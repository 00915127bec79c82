"""The embedded servers and the supervisor: real PostgreSQL and NATS from the wheels, no mocks."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import asyncpg
import nats
import pytest

from dudao.config import Settings
from dudao.dev import embedded
from dudao.dev.suite import run_suite


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


async def _write_row(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE visit (id int PRIMARY KEY, school text)")
        await conn.execute("INSERT INTO visit VALUES (1, '南宁市第一中学')")
    finally:
        await conn.close()


async def _read_rows(url: str) -> list[tuple[int, str]]:
    conn = await asyncpg.connect(url)
    try:
        return [(r["id"], r["school"]) for r in await conn.fetch("SELECT id, school FROM visit")]
    finally:
        await conn.close()


def test_postgres_keeps_its_data_across_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "postgres"
    pg = embedded.start_postgres(data_dir, durable=False)
    try:
        assert pg.port != 5432
        assert embedded.start_postgres(data_dir) == pg, "a second start reuses the running server"
        embedded.create_database(pg, "dudao")
        embedded.create_database(pg, "dudao")
        asyncio.run(_write_row(pg.url("dudao")))

        embedded.stop_postgres(data_dir)
        assert embedded.running_postgres(data_dir) is None
        assert not embedded.pid_alive(pg.pid)
        assert not _accepts(pg.port)

        pg = embedded.start_postgres(data_dir, durable=False)
        assert asyncio.run(_read_rows(pg.url("dudao"))) == [(1, "南宁市第一中学")]
    finally:
        embedded.stop_postgres(data_dir)
    assert not embedded.pid_alive(pg.pid)


async def _publish(url: str) -> None:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await js.add_stream(name="EMBEDDED", subjects=["embedded.>"])
        await js.publish("embedded.visit.recorded", b"visit-1")
    finally:
        await nc.close()


async def _first_message(url: str) -> bytes:
    nc = await nats.connect(url)
    try:
        return (await nc.jetstream().get_msg("EMBEDDED", 1)).data or b""
    finally:
        await nc.close()


def test_nats_keeps_jetstream_messages_across_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "nats"
    server = embedded.start_nats(data_dir)
    try:
        assert server.port != 4222
        assert embedded.start_nats(data_dir) == server, "a second start reuses the running server"
        asyncio.run(_publish(server.url))

        embedded.stop_nats(data_dir)
        assert embedded.running_nats(data_dir) is None
        assert not embedded.pid_alive(server.pid)
        assert not _accepts(server.port)

        server = embedded.start_nats(data_dir)
        assert asyncio.run(_first_message(server.url)) == b"visit-1"
    finally:
        embedded.stop_nats(data_dir)
    assert not embedded.pid_alive(server.pid)


def test_a_server_that_cannot_start_fails_with_its_log(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(embedded.ServerError, match="address already in use"):
            embedded.start_nats(tmp_path / "nats", port=port)
    assert embedded.running_nats(tmp_path / "nats") is None


def test_stopping_a_server_that_never_ran_is_a_no_op(tmp_path: Path) -> None:
    embedded.stop_postgres(tmp_path / "postgres")
    embedded.stop_nats(tmp_path / "nats")


def test_up_names_a_service_port_that_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for service in ("GOVERNANCE", "SCHOOL_INSPECTION", "MONITORING", "ACCOUNTABILITY"):
            monkeypatch.setenv(f"DUDAO_{service}_PORT", str(port))
        assert run_suite(Settings(data_dir=tmp_path)) == 1
    assert f"port {port} (governance)" in capsys.readouterr().err
    assert not (tmp_path / "postgres").exists(), "nothing starts when a port is taken"
