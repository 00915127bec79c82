"""The stack a benchmark runs on: embedded PostgreSQL and NATS on free ports, migrated, and the service
processes started from it (uvicorn APIs and ``<package>.worker`` processes), watched for their memory.

Benchmarks drive the services as a client would (HTTP, NATS, SQL); the only kit module used here is the
embedded servers. Every process started is stopped by ``Stack.close``, also when a benchmark fails.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from dudao.dev import embedded

BENCH_DIR = Path(__file__).parent
DATABASE = "bench"
# Nanning's urban counties: writes and imports spread over them, a county office sees one of them.
COUNTIES = ["450102", "450103", "450105", "450107", "450108", "450109", "450110"]
CITY = "450100"
COUNTY = COUNTIES[0]
REGION = "450000"
_RAISED = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Timeout)\w*: ")  # a traceback's "X: message" line


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


@dataclass
class Process:
    label: str
    popen: subprocess.Popen[bytes]
    log: Path
    service: bool  # a Dudao API or worker, whose memory counts; not the bare baseline
    rss_mb_max: float = 0.0


@dataclass
class Service:
    """An HTTP server this stack started."""

    process: Process
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Stack:
    root: Path
    processes: list[Process] = field(default_factory=list)
    _watching: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        """The servers, and the watch on the processes' memory."""
        self.pg = embedded.start_postgres(self.root / "pg", durable=True)
        self.nats = embedded.start_nats(self.root / "nats")
        embedded.create_database(self.pg, DATABASE)
        self.database_url = self.pg.url(DATABASE)  # for asyncpg, as the bare stack connects
        # Nothing of the machine's own configuration: its DUDAO_* variables could name other servers.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("DUDAO_")}
        self.env = {
            **inherited,
            # Named, as every process must: the benchmarks run a development suite.
            "DUDAO_ENVIRONMENT": "development",
            "DUDAO_DATABASE_URL": "postgresql+asyncpg://" + self.database_url.split("://", 1)[1],
            "DUDAO_NATS_URL": self.nats.url,
            "DUDAO_DATA_DIR": str(self.root / "data"),
            "DUDAO_LOG_LEVEL": "WARNING",
            "DUDAO_OUTBOX_POLL_SECONDS": "1",
            # One load generator, one address, one token: limits it never reaches, still counted on every
            # request, so that their cost is in the figures.
            "DUDAO_RATE_LIMIT_PER_ADDRESS": "100000000/minute",
            "DUDAO_RATE_LIMIT_PER_SUBJECT": "100000000/minute",
            "DUDAO_RATE_LIMIT_PER_API_KEY": "100000000/minute",
            "BENCH_PG_URL": self.database_url,
            **self.nats.environment(),  # each service its own NATS user, as dudao up has it
        }
        threading.Thread(target=self._watch, daemon=True).start()

    def migrate(self) -> None:
        """Every schema, the divisions, the holiday calendar and the stream, as ``dudao`` does them."""
        self.cli("migrate")
        self.cli("events", "declare-stream")

    def cli(self, *args: str) -> str:
        """The ``dudao`` command against this stack; its output."""
        result = subprocess.run(
            [sys.executable, "-m", "dudao.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            last = " | ".join(result.stderr.strip().splitlines()[-3:])
            raise RuntimeError(f"dudao {' '.join(args)} failed: {last}")
        return result.stdout.strip()

    def token(self, role: str, division: str) -> str:
        return self.cli("token", "--sub", f"bench-{role}-{division}", "--role", role, "--division", division)

    def _spawn(self, label: str, command: list[str], *, service: bool) -> Process:
        log = self.root / f"{label.replace(' ', '-')}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(command, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        process = Process(label, popen, log, service)
        self.processes.append(process)
        return process

    def serve(self, app: str, label: str, *, service: bool = True) -> Service:
        """``app`` under uvicorn (one process) on a free port, once it accepts connections."""
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--no-access-log"]
        command += ["--log-level", "warning"]
        if not service:  # the bare baseline lives beside the benchmarks
            command += ["--app-dir", str(BENCH_DIR)]
        process = self._spawn(label, command, service=service)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                raise RuntimeError(f"{label} exited: {self.log_tail(process)}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return Service(process, port)
            except OSError:
                time.sleep(0.1)
        self.stop(process)
        raise RuntimeError(f"{label} did not start within 60 s: {self.log_tail(process)}")

    def worker(self, package: str, index: int = 0) -> Process:
        """``python -m <package>.worker``: the service's relay, consumers and scheduled jobs."""
        return self._spawn(
            f"{package} worker {index}", [sys.executable, "-m", f"{package}.worker"], service=True
        )

    def stop(self, *processes: Process) -> None:
        for process in processes:
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.popen.wait(15)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait(5)

    def check_alive(self, *processes: Process) -> None:
        for process in processes:
            if process.popen.poll() is not None:
                raise RuntimeError(f"{process.label} exited: {self.log_tail(process)}")

    def log_tail(self, process: Process, lines: int = 4) -> str:
        try:
            text = process.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:]) or "(empty log)"

    def last_error(self, *processes: Process) -> str:
        """The last exception each of ``processes`` logged (its structured log's final exception line)."""
        found = []
        for process in processes:
            try:
                lines = process.log.read_text(errors="replace").splitlines()
            except OSError:
                continue
            for line in reversed(lines):
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                exception = record.get("exception", "") if isinstance(record, dict) else ""
                raised = [x for x in exception.splitlines() if _RAISED.match(x)]
                if raised:
                    found.append(f"{process.label}: {record.get('event')}: {raised[-1][:300]}")
                    break
        return "; ".join(found) or "no exception in the workers' logs"

    def _watch(self) -> None:
        while not self._watching.wait(0.25):
            for process in list(self.processes):
                if process.popen.poll() is None:
                    rss = _rss_mb(process.popen.pid)
                    if rss is not None and rss > process.rss_mb_max:
                        process.rss_mb_max = rss

    def rss_by_process(self) -> dict[str, float]:
        return {p.label: p.rss_mb_max for p in self.processes if p.service and p.rss_mb_max}

    def close(self) -> None:
        self._watching.set()
        try:
            self.stop(*self.processes)
        finally:
            try:
                embedded.stop_nats(self.root / "nats")
            finally:
                embedded.stop_postgres(self.root / "pg")
