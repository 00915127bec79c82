"""Structured logs: JSON lines carrying the service and the correlation id of the request or event.

No log line carries a request's data. The engine hides a failed statement's parameters; beyond that, a
traceback keeps its frames but not the messages of the exceptions that quote data: PostgreSQL's and
asyncpg's (``invalid input syntax for type uuid: "…"``, a refused row) and validation errors (pydantic
quotes the input). They are logged by class, SQLSTATE, statement and the locations at fault instead, in
our own log lines and in those of uvicorn and any other library that logs a traceback.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

import structlog
from fastapi.exceptions import ValidationException
from pydantic import ValidationError
from sqlalchemy.exc import StatementError

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


# SQLSTATE classes whose messages name objects (a column, a lock, a connection), never values.
_NAMING_ONLY = frozenset({"08", "25", "40", "42", "53", "55", "57", "58"})


def _safe_message(exc: BaseException) -> str:
    """The exception's message, or what can be said of it without the data it quotes."""
    if isinstance(exc, StatementError):  # its message repeats the driver's
        sqlstate = getattr(exc.orig, "sqlstate", None)
        return f"[{sqlstate or type(exc.orig).__name__}] in the statement: {exc.statement}"
    if type(exc).__module__.startswith(("asyncpg", "sqlalchemy.dialects")):  # the driver, or its adapter
        sqlstate = getattr(exc, "sqlstate", None)
        # Without a SQLSTATE, the driver's own errors: only its DataError quotes query arguments.
        if (sqlstate[:2] in _NAMING_ONLY) if sqlstate else not isinstance(exc, ValueError):
            return str(exc)
        return f"[{sqlstate or 'client'}] (the message is withheld: it may quote values)"
    if isinstance(exc, ValidationError | ValidationException):
        errors = exc.errors() if isinstance(exc, ValidationException) else exc.errors(include_input=False)
        at = ", ".join(f"{'.'.join(map(str, e.get('loc', ())))} [{e.get('type')}]" for e in errors)
        return f"{len(errors)} validation error(s) at {at} (inputs withheld)"
    return str(exc)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and those it was raised from or during, the first raised first, as Python prints them."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not e for e in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return chain[::-1]


def format_exception(exc_info: ExcInfo) -> str:
    """A traceback as Python prints it, but with :func:`_safe_message` for each exception's message."""
    parts = []
    for exc in _chain(exc_info[1]):
        frames = "".join(traceback.format_tb(exc.__traceback__))
        kind = type(exc).__qualname__
        if type(exc).__module__ not in ("builtins", "__main__"):
            kind = f"{type(exc).__module__}.{kind}"
        parts.append(f"Traceback (most recent call last):\n{frames}{kind}: {_safe_message(exc)}")
    return "\n\nDuring the handling of the above, another exception occurred:\n\n".join(parts)


class _WithheldData(logging.Filter):
    """Renders a record's traceback with :func:`format_exception`, before any formatter renders its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = format_exception(record.exc_info)
        return True


def configure_logging(service: str, *, level: str = "INFO", json: bool = True) -> None:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.ExceptionRenderer(format_exception),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    logging.basicConfig(level=level.upper(), stream=sys.stdout, format="%(levelname)s %(name)s %(message)s")
    # Every handler configured so far: the root's, and those uvicorn set up before it imported the app.
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in logging.root.manager.loggerDict)]
    for handler in {h for logger in loggers for h in logger.handlers}:
        if not any(isinstance(f, _WithheldData) for f in handler.filters):
            handler.addFilter(_WithheldData())
