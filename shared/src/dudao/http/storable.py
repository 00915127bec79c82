"""Text PostgreSQL cannot store, refused as a 422 naming the field before any endpoint runs.

PostgreSQL's text and JSONB refuse NUL (U+0000), and asyncpg cannot encode a lone surrogate
(U+D800–U+DFFF, which JSON's ``\\ud800`` escapes produce): either would fail the statement that carries
it, whichever column it is bound for. So every request's path and query parameters, JSON body and form
fields are checked once, here, for every route of every service, rather than by each field's schema.
Files (imports, bulk submissions) are checked cell by cell by their readers, with :func:`unstorable`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import UploadFile

UNSTORABLE = "contains a character that cannot be stored (NUL or a lone surrogate)"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# What may decode to such a character in JSON text: a raw NUL byte, the escapes \u0000 and \ud800–\udfff,
# or a surrogate's raw UTF-8 bytes (Python's JSON decoder lets those through). Surrogate pairs match
# too, and are then found storable.
_MAYBE_UNSTORABLE_JSON = re.compile(rb"\x00|\\u(?:0000|[dD][89a-fA-F])|\xed[\xa0-\xbf]")
_JSON = re.compile(r"^application/(?:[\w.+-]+\+)?json\b", re.IGNORECASE)
_FORM = ("multipart/form-data", "application/x-www-form-urlencoded")


def unstorable(text: str) -> bool:
    return _UNSTORABLE.search(text) is not None


def _in_json(value: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, str):
        if unstorable(value):
            yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            if unstorable(key):
                yield (*loc, key)
            yield from _in_json(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _in_json(item, (*loc, index))


async def _in_body(request: Request) -> list[tuple[str | int, ...]]:
    content_type = request.headers.get("content-type", "")
    if _JSON.match(content_type):
        if not _MAYBE_UNSTORABLE_JSON.search(await request.body()):
            return []
        try:
            parsed = await request.json()  # FastAPI's parse, cached on the request
        except ValueError:
            return []  # malformed JSON is the body parser's to answer
        return list(_in_json(parsed, ("body",)))
    if content_type.lower().startswith(_FORM):
        found: list[tuple[str | int, ...]] = []
        for name, value in (await request.form()).multi_items():
            text = (value.filename or "") if isinstance(value, UploadFile) else value
            if unstorable(name) or unstorable(text):
                found.append(("body", name))
        return found
    return []


async def refuse_unstorable_text(request: Request) -> None:
    """A dependency of every route: 422 for each path, query or body field with unstorable text."""
    found: list[tuple[str | int, ...]] = [
        ("path", name) for name, value in request.path_params.items() if unstorable(str(value))
    ]
    found += [
        ("query", name) for name, value in request.query_params.multi_items() if unstorable(name + value)
    ]
    found += await _in_body(request)
    if found:
        raise RequestValidationError(
            [{"type": "string_unstorable", "loc": loc, "msg": f"Value {UNSTORABLE}"} for loc in found]
        )
