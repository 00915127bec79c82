"""Domain errors, and the one place that renders every error as RFC 9457 problem details."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any, ClassVar, TypeVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger("dudao.errors")


def problem_type(slug: str) -> str:
    return f"urn:dudao:problem:{slug}"


class DomainError(Exception):
    """A rule of the domain said no. Subclasses name the rule; the handler renders them."""

    status: ClassVar[int] = 400
    type: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "The request breaks a rule"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extensions = extensions
        self.headers: dict[str, str] = {}  # e.g. a 429's Retry-After


class NotFound(DomainError):
    status = 404
    type = "not-found"
    title = "No such record"


class Conflict(DomainError):
    status = 409
    type = "conflict"
    title = "The record is in a state that does not allow this"


class PreconditionFailed(DomainError):
    status = 412
    type = "precondition-failed"
    title = "The record has changed since you read it"


class PreconditionRequired(DomainError):
    status = 428
    type = "precondition-required"
    title = "Send If-Match with the ETag you read"


class Unauthenticated(DomainError):
    status = 401
    type = "unauthenticated"
    title = "Authentication is required"


class Forbidden(DomainError):
    status = 403
    type = "forbidden"
    title = "You may not do this"


class InvalidInput(DomainError):
    status = 422
    type = "validation-error"
    title = "The input is not valid"


class PayloadTooLarge(DomainError):
    """The one 413, whoever finds it: the body limit (middleware) or a file's limit (evidence)."""

    status = 413
    type = "payload-too-large"
    title = "The request is larger than allowed"


def problem(
    status: int, type_slug: str, title: str, detail: str, request: Request, **extensions: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(type_slug),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    body.update(extensions)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        out.append(
            {
                "field": ".".join(loc[1:]) if len(loc) > 1 else ".".join(loc),
                "in": loc[0] if loc else "body",
                "message": err.get("msg", ""),
                "code": err.get("type", ""),
            }
        )
    return out


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    response = problem(exc.status, exc.type, exc.title, exc.detail, request, **exc.extensions)
    response.headers.update(exc.headers)
    return response


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem(
            400,
            "malformed-json",
            "The body is not valid JSON",
            "The request body could not be parsed as JSON",
            request,
        )
    fields = _field_errors(errors)
    names = ", ".join(sorted({f["field"] or f["in"] for f in fields}))
    return problem(
        422, "validation-error", "The input is not valid", f"Invalid fields: {names}", request, errors=fields
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    slug = phrase.lower().replace(" ", "-")
    if status == PayloadTooLarge.status:  # a body over the limit while it streams in (middleware)
        slug, phrase = PayloadTooLarge.type, PayloadTooLarge.title
    detail = exc.detail if isinstance(exc.detail, str) else phrase
    response = problem(status, slug, phrase, detail, request)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    """A unique or check constraint caught what a service's own check could not (a concurrent twin)."""
    assert isinstance(exc, IntegrityError)
    from dudao.db import violated_constraint

    constraint = violated_constraint(exc)
    log.info("integrity error", path=request.url.path, constraint=constraint)
    return problem(
        409,
        "conflict",
        "The change conflicts with existing data",
        f"It breaks the constraint {constraint}" if constraint else "It conflicts with existing data",
        request,
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", path=request.url.path)
    return problem(
        500,
        "internal-error",
        "Internal Server Error",
        "An unexpected error occurred; it has been logged with the request id",
        request,
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(Exception, _unexpected_error)


def problems(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for the domain errors a route may raise."""
    out: dict[int | str, dict[str, Any]] = {}
    for err in errors:
        entry = out.setdefault(err.status, {"description": "", "content": {PROBLEM_JSON: {}}})
        entry["description"] = "; ".join(filter(None, [entry["description"], err.title]))
    return out


E = TypeVar("E", bound=InvalidInput)


def field_error(error: type[E], field: str, message: str) -> E:
    """``error`` naming the field of the request body at fault, in the shape request validation uses."""
    return error(
        f"{field}: {message}", errors=[{"field": field, "in": "body", "message": message, "code": error.type}]
    )
