"""The key format: ``ddk_`` + 32 random base62 characters + a 6-character CRC32 checksum.

The prefix makes a leaked key recognisable to secret scanners; the checksum lets every service refuse
a mistyped or made-up key without a database lookup.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import zlib

PREFIX = "ddk_"
_ALPHABET = string.digits + string.ascii_letters
_BODY = 32
_CHECK = 6


def _base62(number: int, width: int) -> str:
    out = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        out.append(_ALPHABET[digit])
    return "".join(reversed(out))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), _CHECK)


def generate() -> str:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(_BODY))
    return PREFIX + body + _checksum(body)


def well_formed(key: str) -> bool:
    if len(key) != len(PREFIX) + _BODY + _CHECK or not key.startswith(PREFIX):
        return False
    body, check = key[len(PREFIX) : -_CHECK], key[-_CHECK:]
    return all(c in _ALPHABET for c in body) and secrets.compare_digest(_checksum(body), check)


def key_hash(key: str) -> str:
    # Keys carry 190 bits of entropy, so a fast hash is enough; a slow KDF would only add latency.
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[: len(PREFIX) + 8]
