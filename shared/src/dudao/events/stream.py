"""The ``DUDAO`` stream: declared once by ``dudao events declare-stream``, never implicitly by consumers."""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig, StreamInfo
from nats.js.errors import NotFoundError

from dudao.events.nats import STREAM, SUBJECTS

# Long enough to cover a relay that published, crashed before marking the row, and was restarted.
DUPLICATE_WINDOW_SECONDS = 120.0


class StreamMissingError(RuntimeError):
    def __init__(self) -> None:
        super().__init__(f"the NATS stream {STREAM} does not exist: run `dudao events declare-stream` first")


async def declare_stream(
    js: JetStreamContext, *, replicas: int = 1, max_age: float | None = None, max_bytes: int | None = None
) -> StreamInfo:
    """Create the stream, or bring an existing one to this configuration. ``max_age`` is in seconds.

    Messages older than ``max_age`` go (the inbox outlives them: see ``Settings``). A stream of
    ``max_bytes`` refuses new messages rather than drop old ones no consumer may have read yet: the relay
    keeps them in its outbox and tries again until ``max_age`` has made room. No per-subject limit: a
    subject is an event type, and every event of it counts.
    """
    config = StreamConfig(
        name=STREAM,
        subjects=SUBJECTS,
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.NEW,
        num_replicas=replicas,
        max_age=max_age,
        max_bytes=max_bytes,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    )
    try:
        await js.stream_info(STREAM)
    except NotFoundError:
        return await js.add_stream(config)
    return await js.update_stream(config)


async def require_stream(js: JetStreamContext) -> StreamInfo:
    try:
        return await js.stream_info(STREAM)
    except NotFoundError:
        raise StreamMissingError from None
