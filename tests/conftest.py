"""Real infrastructure for every test: PostgreSQL and NATS JetStream, never mocks.

Embedded servers from the wheels by default, on free ports; or the servers named by
``DUDAO_DATABASE_URL`` and ``DUDAO_NATS_URL``. Either way the suite migrates a fresh database of its own.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.auth.tokens import issue_dev_token
from dudao.calendar.service import seed_from_package
from dudao.config import Settings
from dudao.db import create_engine, session_factory
from dudao.dev import embedded
from dudao.divisions.seed import seed_divisions
from dudao.http.app import create_service_app
from dudao.migrations import upgrade_all

# The tests name their environment, before any service is imported: no process starts in an unnamed one,
# and the processes the tests start (e2e, the CLI) inherit it.
os.environ["DUDAO_ENVIRONMENT"] = "test"


@dataclass(frozen=True)
class Infra:
    database_url: str  # postgresql://… of the suite's own database
    nats_url: str
    template: str  # a migrated and seeded database no one connects to, to clone for a test of its own
    # The embedded NATS server's users and passwords (none for a server given by DUDAO_NATS_URL).
    nats_passwords: dict[str, str] = field(default_factory=dict)


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _recreate_database(server_url: str, name: str, template: str | None = None) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        await conn.close()


async def _seed(database_url: str) -> None:
    eng = create_engine(Settings(database_url=database_url), application_name="tests", pool_size=1)
    try:
        await seed_divisions(eng)
        async with session_factory(eng)() as session, session.begin():
            await seed_from_package(session)
    finally:
        await eng.dispose()


async def _declare_stream(nats_url: str) -> None:
    from dudao.events.nats import connect
    from dudao.events.stream import declare_stream

    nc = await connect(nats_url, name="tests")
    try:
        await declare_stream(nc.jetstream())
    finally:
        await nc.close()


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    given_db, given_nats = os.environ.get("DUDAO_DATABASE_URL"), os.environ.get("DUDAO_NATS_URL")
    with tempfile.TemporaryDirectory(prefix="dudao-test-") as scratch:
        data = Path(scratch)
        pg_dir, nats_dir = data / "postgres", data / "nats"
        if given_db:
            server_url = _plain(given_db)
        else:
            server_url = embedded.start_postgres(pg_dir, durable=False).url("postgres")
        nats_url, bus, nats_passwords = given_nats or "", dict[str, str](), dict[str, str]()
        if not given_nats:
            # The tests connect as the administrator; the processes they start, as their services' users.
            nats = embedded.start_nats(nats_dir)
            nats_url, bus, nats_passwords = nats.admin_url, nats.environment(), nats.passwords()
        name = f"dudao_test_{secrets.token_hex(4)}"
        asyncio.run(_recreate_database(server_url, name))
        database_url = server_url.rsplit("/", 1)[0] + "/" + name
        saved = {
            k: os.environ.get(k) for k in ("DUDAO_DATABASE_URL", "DUDAO_NATS_URL", "DUDAO_LOG_JSON", *bus)
        }
        os.environ.update(DUDAO_DATABASE_URL=database_url, DUDAO_NATS_URL=nats_url, DUDAO_LOG_LEVEL="WARNING")
        os.environ.update(bus)
        template = f"{name}_template"
        try:
            upgrade_all(database_url)
            asyncio.run(_seed(database_url))
            # Cloned before any test connects: CREATE DATABASE … TEMPLATE needs a template no one uses.
            asyncio.run(_recreate_database(server_url, template, template=name))
            asyncio.run(_declare_stream(nats_url))
            yield Infra(
                database_url=database_url,
                nats_url=nats_url,
                template=template,
                nats_passwords=nats_passwords,
            )
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            if not given_nats:
                embedded.stop_nats(nats_dir)
            if given_db:
                asyncio.run(_drop_database(server_url, name))
                asyncio.run(_drop_database(server_url, template))
            else:
                embedded.stop_postgres(pg_dir)


@pytest.fixture
async def own_database(infra: Infra) -> AsyncIterator[str]:
    """A database of this test's own, cloned from the migrated and seeded template: for a test that checks
    a whole table (the audit chain), where no other test's rows may count."""
    name = f"{infra.template.removesuffix('_template')}_{secrets.token_hex(3)}"
    # Created and dropped from a connection to the suite's database: the template must stay unused.
    await _recreate_database(infra.database_url, name, template=infra.template)
    try:
        yield infra.database_url.rsplit("/", 1)[0] + "/" + name
    finally:
        await _drop_database(infra.database_url, name)


@pytest.fixture(scope="session")
def settings(infra: Infra) -> Settings:
    # The session's apps serve every test from one address: limits far above what a test sends, kept in the
    # path all the same (tests/kit/test_rate_limits.py sets low ones).
    return Settings(
        database_url=infra.database_url,
        nats_url=infra.nats_url,
        environment="test",
        log_level="WARNING",
        rate_limit_per_address="1000000/minute",
        rate_limit_per_api_key="1000000/minute",
        rate_limit_per_subject="1000000/minute",
        rate_limit_auth_failures="1000000/minute",
        # The test client stands for a portal's proxy: tests name their clients in X-Forwarded-For.
        trusted_proxies=["127.0.0.0/8"],
    )


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(settings, application_name="tests", pool_size=5)
    yield eng
    await eng.dispose()


TokenFactory = Callable[..., str]


@pytest.fixture(scope="session")
def token(settings: Settings) -> TokenFactory:
    """``token("supervision_office", division="450102")`` → a bearer token for that person."""

    def make(*roles: str, division: str = "450000", sub: str | None = None, org: str | None = None) -> str:
        return issue_dev_token(
            settings,
            sub=sub or f"user-{secrets.token_hex(3)}",
            name="测试用户",
            roles=list(roles),
            division=division,
            org=org,
        )

    return make


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Drive an app in process over HTTP semantics (ASGI transport), with its lifespan running."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture(scope="session")
async def inspection(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from school_inspection.main import spec

    async with serve(create_service_app(spec, settings)) as client:
        yield client


@pytest.fixture(scope="session")
async def governance(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from governance.main import spec

    async with serve(create_service_app(spec, settings)) as client:
        yield client


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def random_school_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(10))
