"""Identifiers: UUIDv7 for new rows (time-ordered), UUIDv5 for ids derived from a fact."""

from __future__ import annotations

import os
import threading
import time
import uuid

_NAMESPACE = uuid.UUID("6f1f5c1e-3d1a-4a8e-9a57-0d0d0a0d7a00")
_lock = threading.Lock()
_last_ms = 0
_counter = 0


def uuid7() -> uuid.UUID:
    """RFC 9562 UUIDv7, monotonic within one process (12-bit counter in rand_a)."""
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            _counter += 1
            if _counter > 0xFFF:
                _last_ms += 1
                _counter = 0
            ms = _last_ms
        else:
            _last_ms = ms
            _counter = 0
        counter = _counter
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)


def derived_id(*parts: object) -> uuid.UUID:
    """The same fact always yields the same id, so replicas that notice it twice emit it once."""
    return uuid.uuid5(_NAMESPACE, "\x1f".join(str(p) for p in parts))
