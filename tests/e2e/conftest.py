"""The four services and their workers as separate processes, driven over HTTP like a portal or an app."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from dudao.dev.calls import eventually
from tests.conftest import Infra

__all__ = ["Suite", "eventually"]

SERVICES = [
    ("governance", "governance"),
    ("school-inspection", "school_inspection"),
    ("monitoring", "monitoring"),
    ("accountability", "accountability"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Suite:
    urls: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]]
    logs: Path
    env: dict[str, str]

    def url(self, service: str, path: str) -> str:
        return self.urls[service] + path

    def start_worker(self, package: str) -> None:
        self.processes[f"{package}-worker"] = _spawn(
            [sys.executable, "-m", f"{package}.worker"], self.logs / f"{package}-worker.log", self.env
        )

    def kill(self, name: str) -> None:
        """A crash: SIGKILL, no chance to finish or clean up."""
        process = self.processes.pop(name)
        process.kill()
        process.wait()

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log_tails(self) -> str:
        return "\n".join(
            f"--- {p.name}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-15:])
            for p in sorted(self.logs.glob("*.log"))
        )


def _spawn(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)


# Package scope: the processes consume every event on the stream, so they must be gone before the
# in-process tests of other packages run, or they would escalate those tests' rectifications.
@pytest.fixture(scope="package")
def suite(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    logs = tmp_path_factory.mktemp("suite-logs")
    env = {
        **os.environ,
        "DUDAO_DATABASE_URL": infra.database_url,
        "DUDAO_NATS_URL": infra.nats_url,
        "DUDAO_LOG_LEVEL": "INFO",
        "DUDAO_OUTBOX_POLL_SECONDS": "2",
        "DUDAO_CLOCK_ADJUSTABLE": "true",
    }
    urls: dict[str, str] = {}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    running = Suite(urls, processes, logs, env)
    for name, package in SERVICES:
        port = _free_port()
        urls[name] = f"http://127.0.0.1:{port}"
        processes[name] = _spawn(
            [
                sys.executable,
                "-m",
                "uvicorn",
                f"{package}.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
            ],
            logs / f"{name}.log",
            env,
        )
        running.start_worker(package)
    try:
        deadline = time.monotonic() + 60
        for name, url in urls.items():
            while True:
                try:
                    if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or processes[name].poll() is not None:
                    pytest.fail(f"{name} did not become ready\n{running.log_tails()}")
                time.sleep(0.2)
        yield running
    finally:
        for name in list(processes):
            running.stop(name)
