"""Pure ASGI middleware: correlation id, access log, metrics and the request body and query string limits."""

from __future__ import annotations

import json
import re
import time

import structlog
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dudao.errors import PROBLEM_JSON, DomainError, PayloadTooLarge, problem_type
from dudao.ids import uuid7

log = structlog.get_logger("dudao.http")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_NOSNIFF = (b"x-content-type-options", b"nosniff")

REQUESTS = Counter("dudao_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
LATENCY = Histogram(
    "dudao_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


class BodyTooLarge(HTTPException):
    """An HTTPException, so that FastAPI's body parsing re-raises it instead of answering 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body exceeds {limit} bytes")


class QueryTooLong(DomainError):
    status = 414
    type = "uri-too-long"
    title = "The query string is longer than allowed"


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        max_body_bytes: int,
        max_query_bytes: int,
        max_upload_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.service = service
        self.max_body_bytes = max_body_bytes
        # Below the HTTP server's own limit, which would answer text/plain (see Settings.max_query_bytes).
        self.max_query_bytes = max_query_bytes
        # Multipart uploads (evidence files) may be larger than JSON bodies.
        self.max_upload_bytes = max_upload_bytes or max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        supplied = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = supplied if _REQUEST_ID.match(supplied) else str(uuid7())
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # nosniff on every response: a client never reads a download (or a JSON body) as HTML.
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                    _NOSNIFF,
                ]
            await send(message)

        limit = (
            self.max_upload_bytes
            if headers.get(b"content-type", b"").startswith(b"multipart/form-data")
            else self.max_body_bytes
        )
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                if len(scope["query_string"]) > self.max_query_bytes:
                    detail = f"The query string exceeds {self.max_query_bytes} bytes"
                    await _problem(scope, send_with_id, request_id, QueryTooLong, detail)
                    return
                declared = headers.get(b"content-length")
                if declared is not None and declared.isdigit() and int(declared) > limit:
                    await self._too_large(scope, send_with_id, request_id, limit)
                    return
                await self.app(scope, self._limited(receive, limit), send_with_id)
            except BodyTooLarge:
                await self._too_large(scope, send_with_id, request_id, limit)
            finally:
                route = scope.get("route")
                template = getattr(route, "path", "unmatched")
                elapsed = time.perf_counter() - started
                REQUESTS.labels(self.service, scope["method"], template, str(status)).inc()
                LATENCY.labels(self.service, scope["method"], template).observe(elapsed)
                if status >= 500:
                    log.error("request failed", method=scope["method"], path=scope["path"], status=status)
                else:
                    log.debug(
                        "request",
                        method=scope["method"],
                        path=scope["path"],
                        status=status,
                        ms=round(elapsed * 1000, 2),
                    )

    def _limited(self, receive: Receive, limit: int) -> Receive:
        """Counts streamed (chunked) bodies too, which carry no Content-Length to check up front."""
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        return limited_receive

    async def _too_large(self, scope: Scope, send: Send, request_id: str, limit: int) -> None:
        await _problem(scope, send, request_id, PayloadTooLarge, f"The request body exceeds {limit} bytes")


async def _problem(scope: Scope, send: Send, request_id: str, error: type[DomainError], detail: str) -> None:
    """``error`` answered before the app runs, in the shape the app's handler renders (dudao.errors)."""
    body = json.dumps(
        {
            "type": problem_type(error.type),
            "title": error.title,
            "status": error.status,
            "detail": detail,
            "instance": scope["path"],
            "request_id": request_id,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
