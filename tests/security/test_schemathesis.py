"""Every operation of every service, fuzzed from its own OpenAPI by schemathesis with a development token of
a city's supervision office: no 5xx, and every answer's status, content type and body as documented."""

from __future__ import annotations

from datetime import timedelta
from importlib.metadata import entry_points
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as settings_of
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dudao.auth.tokens import issue_dev_token
from dudao.config import Settings
from dudao.http.app import create_service_app

FUZZER_DIVISION = "451000"  # 百色市: no other test's records live there
# A few examples per operation, none shrunk: the four services' run stays within minutes; a failure is
# reported as found.
BOUNDED = settings_of(
    max_examples=5,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SPECS = {spec.name: spec for spec in (ep.load() for ep in entry_points(group="dudao.services"))}


@pytest.fixture(scope="module")
def fuzzer(settings: Settings) -> dict[str, str]:
    token = issue_dev_token(
        settings,
        sub="schemathesis",
        name="模糊测试",
        roles=["supervision_office"],
        division=FUZZER_DIVISION,
        ttl=timedelta(hours=1),
    )
    return {"Authorization": f"Bearer {token}"}


def fuzz(operation: Any, headers: dict[str, str]) -> None:
    """Run the operation's bounded examples; raise what schemathesis found."""
    # Readiness answers its documented 503 while a dependency is down; every other 5xx is a defect.
    checks = CHECKS if operation.path != "/readyz" else CHECKS[1:]

    @given(case=operation.as_strategy())
    @BOUNDED
    def answers_as_documented(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=checks)

    answers_as_documented()


@pytest.mark.parametrize("service", sorted(SPECS))
def test_every_operation_answers_as_documented(
    service: str, unlimited: Settings, fuzzer: dict[str, str]
) -> None:
    # Served in process by schemathesis, which runs the app's lifespan on an event loop of its own.
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_service_app(SPECS[service], unlimited))
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            fuzz(operation, fuzzer)
        except (
            Exception,
            BaseExceptionGroup,
        ) as exc:  # every operation runs; the report names all that failed
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n".join(failures)
