"""Every service documents every route: a summary or description, and its problem responses."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from dudao.config import Settings
from dudao.http.app import create_service_app
from dudao.migrations import service_specs


@pytest.mark.parametrize("spec", service_specs(), ids=lambda s: s.name)
def test_every_route_has_a_description(spec: object, settings: Settings) -> None:
    app: FastAPI = create_service_app(spec, settings)  # type: ignore[arg-type]
    document = app.openapi()
    assert document["info"]["description"]
    undocumented = [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if not operation.get("description") and not operation.get("summary")
    ]
    assert not undocumented
    for path in ("/healthz", "/readyz", "/metrics", "/v1/divisions"):
        assert path in document["paths"]


def test_the_four_services_are_installed_on_their_ports() -> None:
    assert [(s.name, s.port) for s in service_specs()] == [
        ("governance", 8101),
        ("school-inspection", 8102),
        ("monitoring", 8103),
        ("accountability", 8104),
    ]
