"""The embedded servers and the supervisor: real PostgreSQL and NATS from the wheels, no mocks."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import nats
import pytest

from dudao.config import Settings
from dudao.dev import embedded, suite
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


def test_postgres_keeps_its_data_and_its_port_across_a_stop_and_a_crash(tmp_path: Path) -> None:
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

        again = embedded.start_postgres(data_dir, durable=False)
        assert again.port == pg.port, "the port recorded in server.json, not a new one"
        assert asyncio.run(_read_rows(again.url("dudao"))) == [(1, "南宁市第一中学")]

        _crash(again.pid)
        pg = embedded.start_postgres(data_dir, durable=False)
        assert pg.pid != again.pid
        assert pg.port == again.port
        assert asyncio.run(_read_rows(pg.url("dudao"))) == [(1, "南宁市第一中学")]
    finally:
        embedded.stop_postgres(data_dir)
    assert not embedded.pid_alive(pg.pid)


def _crash(pid: int) -> None:
    """SIGKILL, as the kernel's OOM killer would: no chance to clean up."""
    os.kill(pid, signal.SIGKILL)
    assert embedded.wait_gone(pid, 10.0)


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


def test_nats_keeps_jetstream_messages_and_its_ports_across_a_stop_and_a_crash(tmp_path: Path) -> None:
    data_dir = tmp_path / "nats"
    server = embedded.start_nats(data_dir)
    try:
        assert server.port != 4222
        assert embedded.start_nats(data_dir) == server, "a second start reuses the running server"
        asyncio.run(_publish(server.admin_url))

        embedded.stop_nats(data_dir)
        assert embedded.running_nats(data_dir) is None
        assert not embedded.pid_alive(server.pid)
        assert not _accepts(server.port)

        again = embedded.start_nats(data_dir)
        assert (again.port, again.monitor_port) == (server.port, server.monitor_port)
        assert asyncio.run(_first_message(again.admin_url)) == b"visit-1"

        _crash(again.pid)
        assert embedded.running_nats(data_dir) is None
        server = embedded.start_nats(data_dir)
        assert server.pid != again.pid
        assert (server.port, server.monitor_port) == (again.port, again.monitor_port)
        assert asyncio.run(_first_message(server.admin_url)) == b"visit-1"
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


def test_a_recorded_port_taken_since_is_given_up_for_a_free_one(tmp_path: Path) -> None:
    data_dir = tmp_path / "nats"
    first = embedded.start_nats(data_dir)
    embedded.stop_nats(data_dir)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", first.port))
        taken.listen()
        server = embedded.start_nats(data_dir)
        try:
            assert server.port != first.port
            assert json.loads((data_dir / "server.json").read_text())["port"] == server.port
        finally:
            embedded.stop_nats(data_dir)


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


def test_the_supervisor_restarts_a_dying_process_and_says_so_loudly_when_it_keeps_dying(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(suite, "RESTART_DELAY_SECONDS", 0.01)
    supervisor = suite._Supervisor(Settings(data_dir=tmp_path, environment="test"))
    supervisor.logs.mkdir(parents=True)
    supervisor.env = dict(os.environ)
    supervisor._spawn("flaky", [sys.executable, "-c", "print('no database'); raise SystemExit(3)"])
    supervisor._spawn("steady", [sys.executable, "-c", "import time; time.sleep(60)"])
    flaky, steady = supervisor.processes
    steady_pid = steady.popen.pid
    try:
        deadline = time.monotonic() + 30
        while flaky.restarts.deaths < suite.REPORTED_DEATHS and time.monotonic() < deadline:
            supervisor._heal()
            time.sleep(0.02)
        out, err = capsys.readouterr()
        assert "flaky exited with code 3; starting it again in 0.01 s" in out
        assert "flaky exited with code 3; starting it again in 0.08 s" in out, "the delay doubles"
        assert "ERROR flaky keeps dying: 5 times in a row" in err
        assert "the last time exited with code 3" in err
        assert "no database" in err, "with the tail of its log"
        # The rest keeps running, and `dudao down` would find the restarted process.
        assert steady.popen.poll() is None
        assert steady.popen.pid == steady_pid
        recorded = json.loads((tmp_path / "suite.json").read_text())["processes"]
        assert {p["name"]: p["pid"] for p in recorded}["flaky"] == flaky.popen.pid
    finally:
        supervisor.stop()
    assert steady.popen.poll() is not None


def test_the_supervisor_restarts_the_embedded_servers_on_their_ports(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DUDAO_DATABASE_URL", raising=False)
    monkeypatch.delenv("DUDAO_NATS_URL", raising=False)
    # Not under tmp_path: another pytest run may make its root private to PostgreSQL's system user.
    with tempfile.TemporaryDirectory(prefix="dudao-test-heal-") as scratch:
        supervisor = suite._Supervisor(Settings(data_dir=Path(scratch), environment="test"))
        try:
            env = supervisor._environment()
            pg, nats_server = (
                embedded.running_postgres(Path(scratch) / "postgres"),
                embedded.running_nats(Path(scratch) / "nats"),
            )
            assert pg is not None
            assert nats_server is not None
            _crash(pg.pid)
            _crash(nats_server.pid)
            deadline = time.monotonic() + 60
            while (
                not all(embedded.pid_alive(s.pid) for s in supervisor.servers) and time.monotonic() < deadline
            ):
                supervisor._heal()
                time.sleep(0.1)

            again = embedded.running_postgres(Path(scratch) / "postgres")
            assert again is not None
            assert again.pid != pg.pid
            assert again.port == pg.port
            assert f":{again.port}/dudao" in env["DUDAO_DATABASE_URL"], "where the services connect"
            assert asyncio.run(_database_name(again.url("dudao"))) == "dudao"
            nats_again = embedded.running_nats(Path(scratch) / "nats")
            assert nats_again is not None
            assert nats_again.pid != nats_server.pid
            assert f":{nats_again.port}" in env["DUDAO_NATS_URL"]
            out = capsys.readouterr().out
            assert "PostgreSQL died; starting it again in 1 s" in out
            assert "NATS died; starting it again in 1 s" in out
        finally:
            supervisor.stop()


async def _database_name(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        name: str = await conn.fetchval("SELECT current_database()")
        return name
    finally:
        await conn.close()
