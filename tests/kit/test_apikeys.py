"""API keys: issued by the admin endpoint, checked by every service, scoped, expiring, revocable."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.apikeys import keys
from dudao.common.models import ApiKey, common_kit
from dudao.config import Settings
from dudao.http.app import create_service_app
from school_inspection.main import spec as inspection_spec
from tests.conftest import TokenFactory, bearer, random_school_code, serve


@pytest.fixture
def admin(token: TokenFactory) -> dict[str, str]:
    return bearer(token("platform_admin", division="450000"))


def _key_request(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "南宁质量监测数据报送",
        "org": "广西教育评估院",
        "roles": ["agency"],
        "division_code": "450100",
        "scope_services": ["school-inspection"],
        "scope_operations": ["read"],
        **overrides,
    }


async def _issue(governance: httpx.AsyncClient, admin: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = await governance.post("/v1/api-keys", json=_key_request(**overrides), headers=admin)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_keys_are_recognisable_and_checksummed() -> None:
    key = keys.generate()
    assert key.startswith("ddk_")
    assert keys.well_formed(key)
    tampered = key[:10] + ("A" if key[10] != "A" else "B") + key[11:]
    assert not keys.well_formed(tampered)
    assert not keys.well_formed("ddk_short")


async def test_only_the_hash_is_stored_and_the_key_is_shown_once(
    governance: httpx.AsyncClient, admin: dict[str, str], engine: AsyncEngine
) -> None:
    issued = await _issue(governance, admin)
    secret = issued["key"]
    async with engine.connect() as conn:
        row = (await conn.execute(select(ApiKey.__table__).where(ApiKey.id == issued["id"]))).mappings().one()
        outbox = (
            await conn.execute(
                select(common_kit.outbox.c.type).order_by(common_kit.outbox.c.seq.desc()).limit(1)
            )
        ).scalar_one()
    assert row["key_hash"] == keys.key_hash(secret)
    assert secret not in {str(v) for v in row.values()}
    assert outbox == "dudao.common.apikey.issued.v1"
    listed = (await governance.get("/v1/api-keys", headers=admin)).json()
    assert issued["id"] in {k["id"] for k in listed["items"]}
    assert all("key" not in k for k in listed["items"])


async def test_a_key_reads_within_its_scope_and_nowhere_else(
    governance: httpx.AsyncClient, inspection: httpx.AsyncClient, admin: dict[str, str], token: TokenFactory
) -> None:
    office = bearer(token("supervision_office", division="450000"))
    nanning = await inspection.post(
        "/v1/schools",
        headers=office,
        json={
            "school_code": random_school_code(),
            "name": "南宁某校",
            "school_type": "primary",
            "ownership": "public",
            "division_code": "450102",
            "address": "南宁",
        },
    )
    liuzhou = await inspection.post(
        "/v1/schools",
        headers=office,
        json={
            "school_code": random_school_code(),
            "name": "柳州某校",
            "school_type": "primary",
            "ownership": "public",
            "division_code": "450202",
            "address": "柳州",
        },
    )
    key = {"X-API-Key": (await _issue(governance, admin))["key"]}

    assert (await inspection.get(f"/v1/schools/{nanning.json()['id']}", headers=key)).status_code == 200
    assert (await inspection.get(f"/v1/schools/{liuzhou.json()['id']}", headers=key)).status_code == 404
    as_bearer = {"Authorization": f"Bearer {key['X-API-Key']}"}
    assert (await inspection.get("/v1/schools", headers=as_bearer)).status_code == 200
    write = await inspection.post("/v1/schools", headers=key, json={})
    assert write.status_code == 403
    assert "may not write" in write.json()["detail"]
    other_service = await governance.get("/v1/divisions", headers=key)
    assert other_service.status_code == 403
    assert other_service.json()["detail"] == "The API key is not scoped to the governance service"


async def test_expired_unknown_and_malformed_keys_are_refused(
    governance: httpx.AsyncClient, inspection: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    issued = await _issue(governance, admin, expires_at=soon)
    await asyncio.sleep(1.2)
    expired = await inspection.get("/v1/schools", headers={"X-API-Key": issued["key"]})
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]
    unknown = await inspection.get("/v1/schools", headers={"X-API-Key": keys.generate()})
    assert (unknown.status_code, unknown.json()["detail"]) == (401, "The API key is not known")
    malformed = await inspection.get("/v1/schools", headers={"X-API-Key": "ddk_guess"})
    assert (malformed.status_code, malformed.json()["detail"]) == (401, "The API key is malformed")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"roles": ["platform_admin"]}, "roles.0"),
        ({"roles": []}, "roles"),
        ({"scope_operations": ["delete"]}, "scope_operations.0"),
        ({"scope_services": ["payroll"]}, "scope_services.0"),
        ({"division_code": 450100}, "division_code"),
        ({"expires_at": 1767225600}, "expires_at"),
        ({"expires_at": "2020-01-01T00:00:00+00:00"}, "expires_at"),
    ],
)
async def test_bad_key_requests_are_refused_and_write_nothing(
    governance: httpx.AsyncClient,
    admin: dict[str, str],
    engine: AsyncEngine,
    overrides: dict[str, Any],
    field: str,
) -> None:
    async with engine.connect() as conn:
        before = len((await conn.execute(select(ApiKey.id))).all())
    response = await governance.post("/v1/api-keys", json=_key_request(**overrides), headers=admin)
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}
    async with engine.connect() as conn:
        assert len((await conn.execute(select(ApiKey.id))).all()) == before


async def test_only_administrators_manage_keys_and_only_within_their_jurisdiction(
    governance: httpx.AsyncClient, token: TokenFactory
) -> None:
    inspector = bearer(token("inspector", division="450000"))
    assert (await governance.post("/v1/api-keys", json=_key_request(), headers=inspector)).status_code == 403
    liuzhou_office = bearer(token("supervision_office", division="450200"))
    outside = await governance.post("/v1/api-keys", json=_key_request(), headers=liuzhou_office)
    assert outside.status_code == 422
    assert outside.json()["type"] == "urn:dudao:problem:api-key-outside-jurisdiction"


async def test_revocation_and_rotation(
    governance: httpx.AsyncClient, admin: dict[str, str], settings: Settings
) -> None:
    issued = await _issue(governance, admin)
    rotated = await governance.post(f"/v1/api-keys/{issued['id']}/rotate", headers=admin)
    assert rotated.status_code == 201
    assert rotated.json()["replaces_id"] == issued["id"]
    assert rotated.json()["key"] != issued["key"]

    revoked = await governance.post(f"/v1/api-keys/{issued['id']}/revoke", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    again = await governance.post(f"/v1/api-keys/{issued['id']}/revoke", headers=admin)
    assert again.status_code == 409
    # A process that never cached the key refuses it straight from the database.
    async with serve(create_service_app(inspection_spec, settings)) as fresh:
        refused = await fresh.get("/v1/schools", headers={"X-API-Key": issued["key"]})
        assert (refused.status_code, refused.json()["detail"]) == (401, "The API key has been revoked")
        successor = await fresh.get("/v1/schools", headers={"X-API-Key": rotated.json()["key"]})
        assert successor.status_code == 200
    missing = await governance.post("/v1/api-keys/01900000-0000-7000-8000-000000000000/revoke", headers=admin)
    assert missing.status_code == 404


async def test_use_of_a_key_is_recorded_as_its_last_used_time(
    governance: httpx.AsyncClient, inspection: httpx.AsyncClient, admin: dict[str, str], engine: AsyncEngine
) -> None:
    issued = await _issue(governance, admin)
    assert issued["last_used_at"] is None
    assert (await inspection.get("/v1/schools", headers={"X-API-Key": issued["key"]})).status_code == 200
    runtime = inspection._transport.app.state.runtime  # type: ignore[attr-defined]
    await runtime.api_keys.flush_last_used()
    async with engine.connect() as conn:
        used = (await conn.execute(select(ApiKey.last_used_at).where(ApiKey.id == issued["id"]))).scalar_one()
    assert used is not None


async def test_a_retried_key_issue_returns_the_same_key_once(
    governance: httpx.AsyncClient, admin: dict[str, str], engine: AsyncEngine
) -> None:
    headers = {**admin, "Idempotency-Key": f"issue-{keys.generate()[-8:]}"}
    first = await governance.post("/v1/api-keys", json=_key_request(), headers=headers)
    second = await governance.post("/v1/api-keys", json=_key_request(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["key"] == second.json()["key"]
    async with engine.connect() as conn:
        assert len((await conn.execute(select(ApiKey.id).where(ApiKey.id == first.json()["id"]))).all()) == 1


async def test_a_key_scoped_to_divisions_outside_its_home_division_is_refused(
    governance: httpx.AsyncClient, admin: dict[str, str], engine: AsyncEngine
) -> None:
    async with engine.connect() as conn:
        before = (await conn.execute(select(func.count()).select_from(ApiKey))).scalar_one()
    for outside in (["450102", "450202"], ["450000"]):  # another city's county; the region above the home
        refused = await governance.post(
            "/v1/api-keys", json=_key_request(scope_divisions=outside), headers=admin
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["type"] == "urn:dudao:problem:api-key-scope-outside-home"
        [error] = refused.json()["errors"]
        assert (error["field"], error["in"]) == ("scope_divisions", "body")
        assert outside[-1] in error["message"]
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(ApiKey))).scalar_one() == before
    within = await _issue(governance, admin, scope_divisions=["450102", "450103"])
    assert within["scope_divisions"] == ["450102", "450103"]
