"""End to end: the services as processes on real PostgreSQL and NATS, over HTTP."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao import audit
from dudao.config import Settings
from dudao.contracts.audit import checkpoint_subject
from dudao.events.nats import connect
from school_inspection.db import kit as inspection_kit
from tests.conftest import TokenFactory, bearer, random_school_code
from tests.e2e.conftest import Suite, eventually

pytestmark = pytest.mark.e2e


async def test_every_service_is_healthy_ready_and_measured(suite: Suite) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        for service in suite.urls:
            health = await client.get(suite.url(service, "/healthz"))
            assert health.json() == {"status": "ok", "service": service}
            ready = await client.get(suite.url(service, "/readyz"))
            assert ready.json() == {"status": "ready", "database": True, "nats": True}
            metrics = await client.get(suite.url(service, "/metrics"))
            assert "dudao_http_requests_total" in metrics.text
            request_id = (
                await client.get(suite.url(service, "/healthz"), headers={"X-Request-ID": "trace-me-1"})
            ).headers["x-request-id"]
            assert request_id == "trace-me-1"


async def test_a_revoked_api_key_is_refused_by_all_four_services_within_a_second(
    suite: Suite, token: TokenFactory
) -> None:
    admin = bearer(token("platform_admin", division="450000"))
    async with httpx.AsyncClient(timeout=5) as client:
        issued = await client.post(
            suite.url("governance", "/v1/api-keys"),
            headers=admin,
            json={
                "name": "省级门户",
                "org": "广西壮族自治区人民政府门户网站",
                "roles": ["portal"],
                "division_code": "450000",
                "scope_services": ["*"],
                "scope_operations": ["read"],
            },
        )
        assert issued.status_code == 201, issued.text
        key = {"X-API-Key": issued.json()["key"]}
        # Every service has now verified the key and holds it in its cache.
        for service in suite.urls:
            assert (await client.get(suite.url(service, "/v1/divisions"), headers=key)).status_code == 200

        revoked_at = time.monotonic()
        revoke = await client.post(
            suite.url("governance", f"/v1/api-keys/{issued.json()['id']}/revoke"), headers=admin
        )
        assert revoke.status_code == 200

        async def all_refuse() -> bool:
            answers = await asyncio.gather(
                *(client.get(suite.url(s, "/v1/divisions"), headers=key) for s in suite.urls)
            )
            return all(a.status_code == 401 for a in answers)

        await eventually(all_refuse, within=3.0, interval=0.02)
        elapsed = time.monotonic() - revoked_at
    assert elapsed < 1.0, f"the last service refused the key after {elapsed:.2f} s"


async def test_a_school_registered_in_inspection_reaches_monitoring_over_nats(
    suite: Suite, token: TokenFactory
) -> None:
    office = bearer(token("supervision_office", division="450300"))  # 桂林市
    async with httpx.AsyncClient(timeout=5) as client:
        created = await client.post(
            suite.url("school-inspection", "/v1/schools"),
            headers=office,
            json={
                "school_code": random_school_code(),
                "name": "桂林市象山区实验小学",
                "school_type": "primary",
                "ownership": "public",
                "division_code": "450304",
                "address": "象山区",
                "enrolment": 1500,
            },
        )
        assert created.status_code == 201, created.text
        school_id = created.json()["id"]

        async def in_roster() -> bool:
            page = (
                await client.get(
                    suite.url("monitoring", "/v1/school-roster"), params={"limit": 500}, headers=office
                )
            ).json()
            return school_id in {s["school_id"] for s in page["items"]}

        await eventually(in_roster, within=10.0)
        # Another city's office does not see it in monitoring either.
        nanning = bearer(token("supervision_office", division="450100"))
        page = (
            await client.get(
                suite.url("monitoring", "/v1/school-roster"), params={"limit": 500}, headers=nanning
            )
        ).json()
        assert school_id not in {s["school_id"] for s in page["items"]}


async def test_the_worker_seals_the_audit_log(
    suite: Suite, token: TokenFactory, engine: AsyncEngine, settings: Settings
) -> None:
    office = bearer(token("supervision_office", division="450102"))
    registered = []
    async with httpx.AsyncClient(timeout=5) as client:
        for _ in range(3):
            response = await client.post(
                suite.url("school-inspection", "/v1/schools"),
                headers=office,
                json={
                    "school_code": random_school_code(),
                    "name": "兴宁区封存测试学校",
                    "school_type": "junior",
                    "ownership": "public",
                    "division_code": "450102",
                    "address": "兴宁区",
                },
            )
            assert response.status_code == 201
            registered.append(response.json()["id"])

    async def sealed() -> audit.Verification | None:
        async with engine.connect() as conn:
            result = await audit.verify(
                conn, inspection_kit.audit_log, audit.AuditKeys.from_settings(settings)
            )
        return result if result.unsealed == 0 else None

    result = await eventually(sealed, within=10.0, interval=0.2)
    assert result.broken is None
    table = inspection_kit.audit_log
    async with engine.connect() as conn:
        ours = select(table.c.chain_seq).where(
            table.c.action == "school.registered", table.c.record_id.in_(registered)
        )
        chained = [row.chain_seq for row in await conn.execute(ours)]
    assert len(chained) == 3  # our three entries, each in the chain that holds
    assert None not in chained

    # The worker checkpoints the log, and its relay publishes the checkpoint as the service's own NATS user.
    async with engine.connect() as conn:
        database = (await conn.execute(select(func.current_database()))).scalar_one()
    subject = checkpoint_subject("school-inspection", audit.log_id(database, "inspection"))
    nc = await connect(settings.nats_url or "", "tests-e2e-audit")
    try:

        async def published() -> audit.Checkpoint | None:
            found = await audit.latest_published(nc.jetstream(), subject)
            return found if found is not None and found.count >= max(chained) else None

        checkpoint = await eventually(published, within=settings.audit_checkpoint_seconds + 15, interval=1.0)
    finally:
        await nc.close()
    assert checkpoint.genuine(audit.AuditKeys.from_settings(settings))
