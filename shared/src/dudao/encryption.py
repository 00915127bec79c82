"""Field encryption for personal data at rest, keyed blind indexes for exact look-ups, and masking.

A ciphertext is ``<key id>:<base64url(nonce ‖ AES-256-GCM ciphertext ‖ tag)>``. The key id travels with
the value so that keys can rotate: new values are sealed with the current key
(``field_encryption_key_id``), old ones still open with a retired key kept under its id in
``field_encryption_retired_keys``. A ``context`` (e.g. the table and column) is bound as associated
data, so a value copied into another column does not open there.

A blind index is an HMAC-SHA256 of the normalised value under ``field_index_key``: equal values give
equal indexes (a pupil found by ID number) without the value being stored. It does not rotate with the
encryption key; changing it means recomputing the indexes.

Keys are any secret text; the AES and HMAC keys are derived from them with HKDF, one per purpose.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dudao.config import DEV_FIELD_ENCRYPTION_KEY, DEV_FIELD_INDEX_KEY, Settings

NONCE_BYTES = 12


class UndecryptableField(ValueError):
    """A stored value that does not open: an unknown key id, another context, or tampering."""


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"dudao/" + purpose).derive(
        secret.encode()
    )


class FieldCipher:
    """Seals and opens text fields; makes blind indexes. Build it with :func:`field_cipher`."""

    def __init__(self, keys: Mapping[str, str], current: str, index_key: str) -> None:
        if current not in keys:
            raise ValueError(f"no field encryption key with id {current!r}")
        if any(not key_id or ":" in key_id for key_id in keys):
            raise ValueError("field encryption key ids are non-empty and have no ':'")
        self._current = current
        self._aead = {key_id: AESGCM(_derive(secret, b"field-encryption")) for key_id, secret in keys.items()}
        self._index_key = _derive(index_key, b"blind-index")

    def encrypt(self, text: str, *, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead[self._current].encrypt(nonce, text.encode(), context.encode())
        return f"{self._current}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, value: str, *, context: str) -> str:
        key_id, _, body = value.partition(":")
        aead = self._aead.get(key_id)
        if aead is None or not body:
            raise UndecryptableField(f"no field encryption key with id {key_id!r}")
        try:
            raw = base64.urlsafe_b64decode(body)
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
        except (InvalidTag, ValueError) as error:
            raise UndecryptableField("the field does not open with its key") from error

    def needs_rotation(self, value: str) -> bool:
        """Whether a stored value was sealed with a key other than the current one."""
        return value.partition(":")[0] != self._current

    def blind_index(self, text: str, *, purpose: str) -> str:
        """A keyed, deterministic digest of ``text`` (trimmed, upper-cased) for exact look-ups.

        ``purpose`` separates the indexes of different kinds of value (an ID number's from a phone's)."""
        message = purpose.encode() + b"\x00" + text.strip().upper().encode()
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()


def field_cipher(settings: Settings) -> FieldCipher:
    """The cipher the settings describe. Production refuses the development keys."""
    return _cipher(
        settings.field_encryption_key_id,
        settings.field_encryption_key.get_secret_value(),
        tuple(sorted((k, v.get_secret_value()) for k, v in settings.field_encryption_retired_keys.items())),
        settings.field_index_key.get_secret_value(),
        settings.production,
    )


@cache
def _cipher(
    current: str, key: str, retired: tuple[tuple[str, str], ...], index_key: str, production: bool
) -> FieldCipher:
    if production and (key == DEV_FIELD_ENCRYPTION_KEY or index_key == DEV_FIELD_INDEX_KEY):
        raise RuntimeError("production needs DUDAO_FIELD_ENCRYPTION_KEY and DUDAO_FIELD_INDEX_KEY of its own")
    return FieldCipher({**dict(retired), current: key}, current, index_key)


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138****5678``: the first three and last four digits."""
    digits = phone.strip()
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_number(id_number: str) -> str:
    """``450105201201011234`` → ``4501**********1234``: the province-and-city prefix and the last four."""
    value = id_number.strip()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_name(name: str) -> str:
    """``张三`` → ``张*``, ``欧阳小明`` → ``欧***``: the family name's first character only."""
    value = name.strip()
    return value[:1] + "*" * max(len(value) - 1, 1) if value else ""


def mask_email(email: str) -> str:
    """``zhang.san@example.gov.cn`` → ``z***@example.gov.cn``: the first character and the domain."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
