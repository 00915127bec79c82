"""Registering supervised units in tests: a department of a random name, or a division's government
(registered once per division, whichever test asks first); and the problem a refusal answers."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

Headers = dict[str, str]


async def register_department(
    governance: httpx.AsyncClient, office: Headers, division: str, **overrides: Any
) -> dict[str, Any]:
    body = {
        "kind": "department",
        "name": f"教育局{secrets.token_hex(3)}",
        "division_code": division,
        "responsible_people": [{"name": "李四", "post": "局长"}],
        **overrides,
    }
    response = await governance.post("/v1/supervised-units", json=body, headers=office)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def government_of(governance: httpx.AsyncClient, office: Headers, division: str) -> dict[str, Any]:
    """The people's government of ``division``, registered if it is not yet."""
    body = {
        "kind": "government",
        "name": f"{division}人民政府",
        "division_code": division,
        "responsible_people": [{"name": "张三", "post": "副区长"}],
    }
    response = await governance.post("/v1/supervised-units", json=body, headers=office)
    if response.status_code == 201:
        return dict(response.json())
    assert response.status_code == 409, response.text
    listed = await governance.get(
        "/v1/supervised-units", params={"within": division, "kind": "government"}, headers=office
    )
    (government,) = [u for u in listed.json()["items"] if u["division_code"] == division]
    return dict(government)


def assert_problem(response: httpx.Response, status: int, type_slug: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == f"urn:dudao:problem:{type_slug}"
    if field is not None:
        assert field in [e["field"] for e in problem["errors"]], problem
