"""The OpenAPI document as the app answers: every error, request validation's 422 included, is documented as
the problem+json the one handler renders, with its shape; a route that authenticates or checks roles
documents its 401 and 403, and every rate-limited one its 429, so that clients and schemathesis can rely
on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from dudao.errors import PROBLEM_JSON, Forbidden, Unauthenticated
from dudao.http.dependencies import ROLE_CHECKS, authenticated
from dudao.http.ratelimit import UNLIMITED_PATHS, RateLimited, admit_address

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; a validation problem names the offending fields in `errors`",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def _refusals(route: RouteContext) -> dict[str, str]:
    """The statuses the route's dependencies answer before its endpoint runs, with their titles."""
    calls = set(_calls(route.dependant))
    out = {}
    if authenticated in calls:
        out[str(Unauthenticated.status)] = Unauthenticated.title
    if calls & ROLE_CHECKS:
        out[str(Forbidden.status)] = Forbidden.title
    if admit_address in calls and route.path_format not in UNLIMITED_PATHS:
        out[str(RateLimited.status)] = RateLimited.title
    return out


def problem_documented_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """``app.openapi`` with FastAPI's default 422 (``application/json``, its own error shape) replaced by
    problem+json, the 401 and 403 of authentication and role checks added, and every problem response given
    the Problem schema."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        paths = document.get("paths", {})
        # Routes as the app serves them, included routers' prefixes and dependencies applied.
        for route in iter_route_contexts(app.routes):
            if not isinstance(route.original_route, APIRoute) or route.path_format not in paths:
                continue
            for method in route.methods or ():
                responses = paths[route.path_format].get(method.lower(), {}).setdefault("responses", {})
                for status, title in _refusals(route).items():
                    responses.setdefault(status, {"description": title, "content": {PROBLEM_JSON: {}}})
        for operations in paths.values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status == "422" and "application/json" in content:
                        del content["application/json"]
                        content[PROBLEM_JSON] = {}
                    if PROBLEM_JSON in content:
                        content[PROBLEM_JSON] = {"schema": PROBLEM_REF}
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        schemas["Problem"] = PROBLEM_SCHEMA
        app.openapi_schema = document
        return document

    return openapi
