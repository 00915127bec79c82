"""``dudao up`` and ``dudao down``: the whole suite on one machine, in the foreground.

``run_suite`` starts the embedded PostgreSQL and NATS (unless ``DUDAO_DATABASE_URL`` and
``DUDAO_NATS_URL`` point at real ones), migrates, declares the stream, then runs every service and
its worker as processes of their own and supervises them until Ctrl-C or SIGTERM. Everything lives
under the data folder: ``postgres/``, ``nats/``, ``logs/<process>.log`` and ``suite.json``, which
lists the processes so that ``stop_suite`` (``dudao down``, from another terminal) can stop them.

Once the suite is up, a process or embedded server that dies is started again, the rest running on:
the servers on the ports the processes know, after a delay that doubles with every quick death in a
row. One that keeps dying is reported on stderr at every death from the fifth in a row on, and still
retried. Before the suite is up a death stops it: it is a mistake to fix, not a crash to ride out.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from dudao.auth.tokens import issue_dev_token
from dudao.config import Settings
from dudao.db import asyncpg_url
from dudao.dev.embedded import (
    ServerError,
    create_database,
    log_tail,
    pid_alive,
    running_nats,
    running_postgres,
    start_nats,
    start_postgres,
    stop_nats,
    stop_postgres,
    wait_gone,
)

HEALTH_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
# Long enough for the supervisor to stop the processes, NATS and PostgreSQL in turn.
SUPERVISOR_STOP_TIMEOUT_SECONDS = 90.0
DATABASE = "dudao"
# The first restart waits a second; each death in a row doubles it up to the maximum.
RESTART_DELAY_SECONDS = 1.0
MAX_RESTART_DELAY_SECONDS = 30.0
# A death this soon after the start counts as one in a row; a later one starts the count again.
QUICK_DEATH_SECONDS = 30.0
# From this many quick deaths in a row on, each is reported as an error.
REPORTED_DEATHS = 5
# The request the banner shows with the development token.
EXAMPLE_REQUEST = ("school-inspection", "/v1/schools")


@dataclass(frozen=True)
class Service:
    name: str
    package: str
    default_port: int

    @property
    def port_variable(self) -> str:
        return "DUDAO_" + self.name.upper().replace("-", "_") + "_PORT"

    def port(self) -> int:
        value = os.environ.get(self.port_variable, str(self.default_port))
        try:
            return int(value)
        except ValueError:
            raise SuiteError(f"{self.port_variable}={value!r} is not a port number") from None


SERVICES = (
    Service("governance", "governance", 8101),
    Service("school-inspection", "school_inspection", 8102),
    Service("monitoring", "monitoring", 8103),
    Service("accountability", "accountability", 8104),
)


class SuiteError(RuntimeError):
    """The suite cannot start (a port is taken, a step failed, a process died while starting); the
    message says which and why."""


@dataclass
class _Restarts:
    """When one supervised process or server started, its quick deaths in a row, its next start."""

    started: float = field(default_factory=time.monotonic)
    deaths: int = 0
    due: float | None = None  # None while it runs

    def died(self, now: float) -> float:
        """Count a death and schedule the next start; the delay until then."""
        self.deaths = self.deaths + 1 if now - self.started < QUICK_DEATH_SECONDS else 1
        delay = min(MAX_RESTART_DELAY_SECONDS, RESTART_DELAY_SECONDS * 2.0 ** (self.deaths - 1))
        self.due = now + delay
        return delay

    def starting(self, now: float) -> None:
        self.started, self.due = now, None


@dataclass
class _Process:
    name: str
    argv: list[str]
    log: Path
    log_start: int
    popen: subprocess.Popen[bytes]
    restarts: _Restarts = field(default_factory=_Restarts)


@dataclass
class _Server:
    """An embedded server: ``start`` starts it on its port again and answers its pid."""

    name: str
    start: Callable[[], int]
    pid: int
    log: Path
    restarts: _Restarts = field(default_factory=_Restarts)


def run_suite(settings: Settings) -> int:
    """Run the suite until Ctrl-C, SIGTERM or SIGHUP, then stop it all; the exit code for ``dudao up``."""
    supervisor = _Supervisor(settings)
    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {signum: signal.signal(signum, _interrupt) for signum in handled}
    code = 0
    try:
        supervisor.run()
    except KeyboardInterrupt:
        print("\nStopping Dudao…", flush=True)
    except (SuiteError, ServerError) as exc:
        print(f"\ndudao up failed: {exc}", file=sys.stderr, flush=True)
        code = 1
    # A second Ctrl-C must not cut the shutdown short and leave servers behind.
    for signum in handled:
        signal.signal(signum, signal.SIG_IGN)
    try:
        supervisor.stop()
    except ServerError as exc:
        print(f"dudao up could not stop cleanly: {exc}", file=sys.stderr, flush=True)
        code = 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return code


def stop_suite(data_dir: Path) -> None:
    """Stop the suite that ``dudao up`` runs on ``data_dir``, and whatever a crashed one left behind."""
    data_dir = data_dir.resolve()
    record = _read_record(data_dir)
    supervisor = _live_supervisor(record)
    if supervisor is not None:
        print(f"Stopping dudao up (pid {supervisor})…", flush=True)
        os.kill(supervisor, signal.SIGTERM)
        if wait_gone(supervisor, SUPERVISOR_STOP_TIMEOUT_SECONDS):
            print("Dudao stopped.", flush=True)
            return
        print(f"dudao up (pid {supervisor}) did not stop; stopping its processes directly", flush=True)
    leftovers = [
        (entry["name"], entry["pid"])
        for entry in record.get("processes", [])
        if _runs(entry["pid"], entry["argv"])
    ]
    nats, postgres = running_nats(data_dir / "nats"), running_postgres(data_dir / "postgres")
    if not leftovers and nats is None and postgres is None:
        print(f"Dudao is not running on {data_dir}.", flush=True)
    _terminate(leftovers)
    if nats is not None:
        print(f"  stopping NATS (pid {nats.pid})", flush=True)
    stop_nats(data_dir / "nats")
    if postgres is not None:
        print(f"  stopping PostgreSQL (pid {postgres.pid})", flush=True)
    stop_postgres(data_dir / "postgres")
    (data_dir / "suite.json").unlink(missing_ok=True)


class _Supervisor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir.resolve()
        self.logs = self.data_dir / "logs"
        self.processes: list[_Process] = []
        self.servers: list[_Server] = []
        self.env: dict[str, str] = {}
        self.embedded_postgres = False
        self.embedded_nats = False
        # Shown in the banner; only embedded servers, as a real database URL may carry a password.
        self.embedded_urls: dict[str, str] = {}
        self.owns_record = False

    def run(self) -> None:
        self._refuse_second_suite()
        host = self.settings.host
        ports = {service.name: service.port() for service in SERVICES}
        for service in SERVICES:
            _require_free(host, ports[service.name], service)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.env = self._environment()
        for command in (["migrate"], ["events", "declare-stream"]):
            _run_step(command, self.env)
        for service in SERVICES:
            port = str(ports[service.name])
            serve = ["-m", "uvicorn", f"{service.package}.main:app", "--host", host, "--port", port]
            self._spawn(service.name, [sys.executable, *serve, "--no-access-log"])
            self._spawn(f"{service.name}-worker", [sys.executable, "-m", f"{service.package}.worker"])
        self._write_record()
        self._wait_healthy(_reachable(host), ports)
        self._print_banner(_reachable(host), ports)
        while True:
            time.sleep(1.0)
            self._heal()

    def stop(self) -> None:
        """Stop the processes, then NATS, then PostgreSQL: each only if this supervisor started it."""
        _terminate([(p.name, p.popen.pid) for p in self.processes if p.popen.poll() is None])
        try:
            if self.embedded_nats:
                print("  stopping NATS", flush=True)
                stop_nats(self.data_dir / "nats")
        finally:
            if self.embedded_postgres:
                print("  stopping PostgreSQL", flush=True)
                stop_postgres(self.data_dir / "postgres")
        if self.owns_record:
            (self.data_dir / "suite.json").unlink(missing_ok=True)
        if self.processes or self.embedded_nats or self.embedded_postgres:
            print("Dudao stopped.", flush=True)

    def _refuse_second_suite(self) -> None:
        supervisor = _live_supervisor(_read_record(self.data_dir))
        if supervisor is not None:
            raise SuiteError(
                f"dudao up already runs on {self.data_dir} (pid {supervisor}); stop it with `dudao down`"
            )

    def _environment(self) -> dict[str, str]:
        """The children's environment, with the database and NATS the suite uses."""
        env = dict(os.environ, DUDAO_DATA_DIR=str(self.data_dir), PYTHONUNBUFFERED="1")
        # No process starts in an unnamed environment: the suite names its own (development, unless
        # `dudao up` was run in another) for every process it starts.
        env["DUDAO_ENVIRONMENT"] = self.settings.environment or "development"
        if not self.settings.production:
            # A development suite lets `dudao demo` and testers move time forward in every process.
            env.setdefault("DUDAO_CLOCK_ADJUSTABLE", "true")
        if self.settings.database_url is None:
            self.embedded_postgres = True  # set first: a Ctrl-C during the start must still stop it
            pg_dir = self.data_dir / "postgres"
            pg = start_postgres(pg_dir, durable=True)
            create_database(pg, DATABASE)
            self.servers.append(
                _Server(
                    "PostgreSQL",
                    lambda: start_postgres(pg_dir, port=pg.port, durable=True).pid,
                    pg.pid,
                    pg_dir / "postgres.log",
                )
            )
            env["DUDAO_DATABASE_URL"] = asyncpg_url(pg.url(DATABASE))
            self.embedded_urls["PostgreSQL"] = pg.url(DATABASE)
        else:
            env["DUDAO_DATABASE_URL"] = self.settings.database_url.get_secret_value()
        if self.settings.nats_url is None:
            self.embedded_nats = True
            nats_dir = self.data_dir / "nats"
            nats = start_nats(nats_dir)
            env["DUDAO_NATS_URL"] = self.embedded_urls["NATS"] = nats.url
            env |= nats.environment()  # each service its own NATS user, the CLI steps the administrator
            self.servers.append(
                _Server(
                    "NATS", lambda: start_nats(nats_dir, port=nats.port).pid, nats.pid, nats_dir / "nats.log"
                )
            )
        else:
            env["DUDAO_NATS_URL"] = self.settings.nats_url
        return env

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = self.logs / f"{name}.log"
        self.processes.append(_Process(name, argv, log, *self._popen(argv, log)))

    def _popen(self, argv: list[str], log: Path) -> tuple[int, subprocess.Popen[bytes]]:
        """Start ``argv`` with its output appended to ``log``; where its output begins, and the process."""
        with log.open("ab") as out:
            # A session of its own: the supervisor stops the processes in order, not the terminal's Ctrl-C.
            return out.tell(), subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )

    def _write_record(self) -> None:
        record = {
            "supervisor": os.getpid(),
            "supervisor_argv": sys.orig_argv,
            "processes": [{"name": p.name, "pid": p.popen.pid, "argv": p.argv} for p in self.processes],
        }
        (self.data_dir / "suite.json").write_text(json.dumps(record, indent=2) + "\n")
        self.owns_record = True

    def _heal(self) -> None:
        """Start again what died, once its delay is over: the servers first, as the processes need them."""
        now = time.monotonic()
        for server in self.servers:
            if server.restarts.due is None and not pid_alive(server.pid):
                self._died(server.name, server.restarts, now, "died", server.log)
            if server.restarts.due is not None and now >= server.restarts.due:
                server.restarts.starting(now)
                try:
                    server.pid = server.start()
                except ServerError as exc:
                    self._died(server.name, server.restarts, time.monotonic(), f"did not start: {exc}", None)
                else:
                    _say(f"{server.name} started again (pid {server.pid})")
        restarted = False
        for process in self.processes:
            code = process.popen.poll()
            if process.restarts.due is None and code is not None:
                self._died(
                    process.name, process.restarts, now, _exit_status(code), process.log, process.log_start
                )
            if process.restarts.due is not None and now >= process.restarts.due:
                process.restarts.starting(now)
                process.log_start, process.popen = self._popen(process.argv, process.log)
                _say(f"{process.name} started again (pid {process.popen.pid})")
                restarted = True
        if restarted:
            self._write_record()  # so that `dudao down` finds the new pids

    def _died(
        self, name: str, restarts: _Restarts, now: float, how: str, log: Path | None, log_start: int = 0
    ) -> None:
        delay = restarts.died(now)
        if restarts.deaths < REPORTED_DEATHS:
            _say(f"{name} {how}; starting it again in {delay:g} s")
            return
        tail = "" if log is None else "\n" + log_tail(log, log_start)
        _say(
            f"ERROR {name} keeps dying: {restarts.deaths} times in a row within"
            f" {QUICK_DEATH_SECONDS:g} s of its start, the last time {how};"
            f" starting it again in {delay:g} s{tail}",
            error=True,
        )

    def _check_processes(self) -> None:
        """While the suite starts, a death is a mistake to report, not a crash to heal."""
        for process in self.processes:
            code = process.popen.poll()
            if code is not None:
                raise SuiteError(
                    f"{process.name} exited with code {code}\n" + log_tail(process.log, process.log_start)
                )

    def _wait_healthy(self, host: str, ports: dict[str, int]) -> None:
        pending = {name: f"http://{host}:{port}/healthz" for name, port in ports.items()}
        deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while pending:
                self._check_processes()
                for name, url in list(pending.items()):
                    try:
                        if client.get(url).status_code == 200:
                            del pending[name]
                    except httpx.HTTPError:
                        pass
                if pending and time.monotonic() > deadline:
                    raise SuiteError(
                        f"not healthy after {HEALTH_TIMEOUT_SECONDS:.0f} s: {', '.join(pending)};"
                        f" see the logs in {self.logs}"
                    )
                time.sleep(0.25)

    def _print_banner(self, host: str, ports: dict[str, int]) -> None:
        lines = ["", f"Dudao is up. Data and logs: {self.data_dir}", ""]
        lines += [f"  {name:<18} http://{host}:{port}/docs" for name, port in ports.items()]
        lines += [f"  {name:<18} {url}" for name, url in self.embedded_urls.items()]
        if not self.settings.production:
            token = issue_dev_token(
                self.settings,
                sub="dev-admin",
                name="开发管理员",
                roles=["platform_admin", "supervision_office"],
                division="450000",
            )
            service, path = EXAMPLE_REQUEST
            lines += [
                "",
                f"A development token (platform_admin, supervision_office; division 450000;"
                f" {self.settings.dev_token_hours} h):",
                f"  export DUDAO_TOKEN={token}",
                f'  curl -H "Authorization: Bearer $DUDAO_TOKEN" http://{host}:{ports[service]}{path}',
            ]
        lines += ["", "Stop with Ctrl-C, or `dudao down` from another terminal.", ""]
        print("\n".join(lines), flush=True)


def _say(message: str, *, error: bool = False) -> None:
    """One line of the supervisor's own log, on stdout, or on stderr for an error."""
    stamp = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
    print(f"{stamp} {message}", file=sys.stderr if error else sys.stdout, flush=True)


def _exit_status(code: int) -> str:
    """How a process ended, from its return code (negative: the signal that killed it)."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name} (exit code {code})"
    return f"exited with code {code}"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM and SIGHUP stop the suite the way Ctrl-C does."""
    raise KeyboardInterrupt


def _run_step(command: list[str], env: dict[str, str]) -> None:
    """One setup command of the CLI, in this interpreter, its output shown as it comes."""
    print(f"dudao {' '.join(command)}", flush=True)
    code = subprocess.run([sys.executable, "-m", "dudao.cli", *command], env=env, check=False).returncode
    if code != 0:
        raise SuiteError(f"`dudao {' '.join(command)}` exited with code {code}")


def _require_free(host: str, port: int, service: Service) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # As uvicorn binds: a port left in TIME_WAIT by a previous run is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise SuiteError(
                f"port {port} ({service.name}) is not free on {host}: {exc.strerror};"
                f" stop what uses it (`dudao down` if an earlier `dudao up` left it running)"
                f" or set {service.port_variable}"
            ) from None


def _reachable(host: str) -> str:
    """Where a client on this machine reaches a server bound to ``host``."""
    return "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104 - compared, not bound


def _terminate(processes: list[tuple[str, int]]) -> None:
    """SIGTERM each process group, SIGKILL what is still there after the grace period."""
    for name, pid in processes:
        print(f"  stopping {name} (pid {pid})", flush=True)
        _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for name, pid in processes:
        if not wait_gone(pid, max(0.0, deadline - time.monotonic())):
            print(f"  {name} (pid {pid}) ignored SIGTERM; killing it", flush=True)
            _signal_group(pid, signal.SIGKILL)
            wait_gone(pid, 5.0)


def _signal_group(pid: int, signum: signal.Signals) -> None:
    # Each process leads a session of its own (start_new_session), so its group id is its pid.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


def _runs(pid: int, argv: list[str]) -> bool:
    """Whether ``pid`` still runs ``argv``: after a reboot a recorded pid can belong to anything."""
    if not pid_alive(pid):
        return False
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1] == [a.encode() for a in argv]
    except FileNotFoundError:
        return not Path("/proc").exists()  # no /proc (macOS): trust the record


def _live_supervisor(record: dict[str, Any]) -> int | None:
    """The pid of the ``dudao up`` that wrote ``record``, if it still runs (and is not this process)."""
    pid, argv = record.get("supervisor"), record.get("supervisor_argv")
    if isinstance(pid, int) and isinstance(argv, list) and pid != os.getpid() and _runs(pid, argv):
        return pid
    return None


def _read_record(data_dir: Path) -> dict[str, Any]:
    try:
        record = json.loads((data_dir / "suite.json").read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}
