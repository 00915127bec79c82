"""BOLA/BFLA: every route of every service whose path names a record, called on a real record of one county
by everyone who must not reach it: offices of another county and of another city, and lesser roles of the
county itself. Generated from each service's OpenAPI, so that a new route is covered the day it is added."""

from __future__ import annotations

import json
import secrets
from typing import Any
from uuid import UUID

import httpx
import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase

from dudao.ids import uuid7
from tests.conftest import TokenFactory, bearer, random_school_code
from tests.monitoring.collection.conftest import agency_key
from tests.security.conftest import CITY, MARK, NEIGHBOUR, OTHER_CITY, OWNER, Headers, Owned, office

SERVICES = ["governance", "school-inspection", "monitoring", "accountability"]
WRITES = {"post", "put", "patch", "delete"}
LESSER = [
    "the staff of another school",
    "the staff of another unit",
    "an inspector without assignment",
    "a committee member unit",
    "a portal",
]
# Nothing else is a refusal: a 409 or 412 answers from the record's state, which an outsider must not learn.
REFUSED = {401, 403, 404, 405, 422, 428}
# Public by design (portals read them without credentials); what they show is checked by their own tests.
# The abbreviation an office numbers its documents with is printed on every one it publishes.
PUBLIC = {
    ("governance", "/v1/public/supervision-reports/{supervision_id}"),
    ("school-inspection", "/v1/public/supervision-reports/{supervision_id}"),
    ("school-inspection", "/v1/plates/{school_code}"),
    ("accountability", "/v1/public/documents/{document_id}"),
    ("accountability", "/v1/issuing-offices/{division_code}"),
}
# Shared by every jurisdiction by design: the platform's default evaluation scheme (the published criteria of
# duty evaluation) is every office's to use.
SHARED = {("governance", "get", "/v1/evaluation-schemes/{scheme_id}")}
# What a lesser role of the county may do by design, not a reach: in the escalation loop an inspector accepts,
# rejects and rechecks a rectification (DESIGN.md); the jurisdiction's inspectors hold a supervision's
# hearings, write its preliminary opinion and file an emergency's first report. Indicator systems are the
# published standards: whoever is in the county reads them, and evaluating values against one writes nothing.
DUTIES = {
    ("an inspector without assignment", "post", "/v1/rectifications/{rectification_id}/accept"),
    ("an inspector without assignment", "post", "/v1/rectifications/{rectification_id}/reject"),
    ("an inspector without assignment", "post", "/v1/rectifications/{rectification_id}/rechecks"),
    ("an inspector without assignment", "post", "/v1/supervisions/{supervision_id}/hearings"),
    ("an inspector without assignment", "post", "/v1/supervisions/{supervision_id}/preliminary-opinion"),
    ("an inspector without assignment", "post", "/v1/emergency-supervisions/{emergency_id}/first-report"),
    *(
        (who, method, path)
        for who in LESSER
        for method, path in (
            ("get", "/v1/indicator-systems/{system_id}"),
            ("get", "/v1/indicator-systems/{system_id}/elements"),
            ("post", "/v1/indicator-systems/{system_id}/evaluate"),
        )
    ),
}


def outsiders(token: TokenFactory, agency: Headers) -> dict[str, Headers]:
    """Who works outside the owner's county: refused on every route, read or write (BOLA)."""
    return {
        "the office of another county of the city": office(token, NEIGHBOUR),
        "the office of another city": office(token, OTHER_CITY),
        "the agency key of another commission": agency,
    }


def lesser(token: TokenFactory) -> dict[str, tuple[Headers, bool]]:
    """Lesser roles of the owner's county itself, and whether they must not even read (BFLA). Inspectors and
    member units read within their jurisdiction, and units what is not addressed to another, by design
    (``dudao.jurisdiction.visible_to``); none of them may change another's records."""

    def person(role: str, org: str | None = None) -> Headers:
        return bearer(token(role, division=OWNER, org=org))

    people = {
        "the staff of another school": (person("supervised_unit", org=random_school_code()), False),
        "the staff of another unit": (person("supervised_unit", org=str(uuid7())), False),
        "an inspector without assignment": (person("inspector"), False),
        "a committee member unit": (person("member_unit", org=str(uuid7())), False),
        "a portal": (person("portal"), True),
    }
    assert list(people) == LESSER
    return people


def routes(openapi: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(method, path, its path parameters) of every operation whose path names something."""
    found = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            if names:
                found.append((method, path, names))
    return found


def valid_body(schema: Any, method: str, path: str) -> Any:
    """A body the operation's schema accepts, so that a refusal is about who asks, not about what they sent;
    None for an operation without a JSON body."""
    operation = schema[path][method.upper()]
    if operation.body is None or not any(b.media_type == "application/json" for b in operation.body):
        return None
    case = hypothesis.find(
        operation.as_strategy(media_type="application/json"),
        lambda _: True,
        # The first example found, as found: shrinking it to the simplest costs seconds an operation.
        settings=hypothesis.settings(
            database=None, derandomize=True, phases=[Phase.generate], suppress_health_check=list(HealthCheck)
        ),
    )
    return case.body


def leaked(response: httpx.Response) -> bool:
    """Whether the answer carries the owner's data (a name of theirs), however its JSON is escaped."""
    if MARK in response.text:
        return True
    try:
        decoded = response.json()
    except ValueError:
        return False
    return MARK in json.dumps(decoded, ensure_ascii=False)


@pytest.mark.parametrize("owned", SERVICES, indirect=True)
async def test_no_one_else_reaches_a_countys_records(
    owned: Owned,
    services: dict[str, httpx.AsyncClient],
    token: TokenFactory,
    system_id: UUID,
) -> None:
    client = services[owned.service]
    openapi = (await client.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(openapi)
    agency = await agency_key(services["monitoring"], office(token, NEIGHBOUR), system_id, [NEIGHBOUR])
    people = {who: (headers, True) for who, headers in outsiders(token, agency).items()} | lesser(token)
    owner = office(token, CITY)  # the city's office reads every record of its counties

    unresolved, reached = [], []
    calls = 0
    for method, path, names in routes(openapi):
        if (owned.service, path) in PUBLIC:
            continue
        values = owned.parameters(path, names)
        if values is None:
            unresolved.append(f"{method.upper()} {path}")
            continue
        url = path.format(**values)
        if method == "get":  # the record is real: its owners read it
            control = await client.get(url, headers=owner)
            assert control.status_code == 200, f"{owned.service} GET {url} as the owner: {control.text}"
        body = valid_body(schema, method, path) if method in WRITES else None
        for who, (headers, nor_read) in people.items():
            if (method == "get" and not nor_read) or (who, method, path) in DUTIES:
                continue
            if (owned.service, method, path) in SHARED:
                continue
            extra = {"If-Match": "*", "Idempotency-Key": secrets.token_hex(8)} if method in WRITES else {}
            response = await client.request(method, url, headers={**headers, **extra}, json=body)
            calls += 1
            if response.status_code not in REFUSED or leaked(response):
                reached.append(
                    f"{method.upper()} {url} as {who}: {response.status_code} {response.text[:300]}"
                )
    assert not unresolved, f"routes of {owned.service} whose ids the fixture cannot resolve: {unresolved}"
    assert not reached, "\n".join(reached)
    assert calls > 0
