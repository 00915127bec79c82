"""Field encryption: sealed with the current key, opened by key id after a rotation, bound to its
context; blind indexes for exact look-ups; masks."""

from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr

from dudao import encryption
from dudao.config import Settings
from dudao.encryption import UndecryptableField, field_cipher


def test_a_field_opens_to_what_was_sealed_and_is_not_stored_in_the_clear() -> None:
    cipher = field_cipher(Settings())
    sealed = cipher.encrypt("450105201201011234", context="dropout_pupil.id_number")
    assert sealed.startswith("k1:")
    assert "450105201201011234" not in sealed
    assert cipher.decrypt(sealed, context="dropout_pupil.id_number") == "450105201201011234"
    # A fresh nonce each time: equal values do not give equal ciphertexts.
    assert cipher.encrypt("450105201201011234", context="dropout_pupil.id_number") != sealed


def test_a_value_does_not_open_in_another_context_or_when_tampered_with() -> None:
    cipher = field_cipher(Settings())
    sealed = cipher.encrypt("张三", context="dropout_pupil.name")
    with pytest.raises(UndecryptableField):
        cipher.decrypt(sealed, context="dropout_pupil.id_number")
    raw = bytearray(base64.urlsafe_b64decode(sealed[3:]))
    raw[-1] ^= 1  # a bit of the tag
    flipped = "k1:" + base64.urlsafe_b64encode(bytes(raw)).decode()
    with pytest.raises(UndecryptableField):
        cipher.decrypt(flipped, context="dropout_pupil.name")
    with pytest.raises(UndecryptableField):
        cipher.decrypt("k9:" + sealed[3:], context="dropout_pupil.name")


def test_keys_rotate_by_id() -> None:
    old = field_cipher(Settings())
    sealed = old.encrypt("李四", context="c")
    rotated = field_cipher(
        Settings(
            field_encryption_key=SecretStr("a new key for 2027"),
            field_encryption_key_id="k2",
            field_encryption_retired_keys={"k1": Settings().field_encryption_key},
        )
    )
    assert rotated.decrypt(sealed, context="c") == "李四"
    assert rotated.needs_rotation(sealed)
    resealed = rotated.encrypt("李四", context="c")
    assert resealed.startswith("k2:")
    assert not rotated.needs_rotation(resealed)
    with pytest.raises(UndecryptableField):
        old.decrypt(resealed, context="c")


def test_the_blind_index_finds_equal_values_and_depends_on_key_and_purpose() -> None:
    cipher = field_cipher(Settings())
    index = cipher.blind_index("45010520120101123x", purpose="id_number")
    assert index == cipher.blind_index(" 45010520120101123X ", purpose="id_number")
    assert index != cipher.blind_index("450105201201011234", purpose="id_number")
    assert index != cipher.blind_index("45010520120101123X", purpose="phone")
    other = field_cipher(Settings(field_index_key=SecretStr("another index key")))
    assert index != other.blind_index("45010520120101123X", purpose="id_number")
    # Rotating the encryption key keeps the indexes.
    rotated = field_cipher(
        Settings(field_encryption_key=SecretStr("k2 secret"), field_encryption_key_id="k2")
    )
    assert index == rotated.blind_index("45010520120101123X", purpose="id_number")


def test_production_refuses_the_development_keys() -> None:
    with pytest.raises(RuntimeError, match="FIELD_ENCRYPTION_KEY"):
        field_cipher(Settings(environment="production"))
    own = Settings(
        environment="production",
        field_encryption_key=SecretStr("production field key"),
        field_index_key=SecretStr("production index key"),
    )
    assert field_cipher(own).decrypt(field_cipher(own).encrypt("x", context="c"), context="c") == "x"


@pytest.mark.parametrize(
    ("mask", "value", "masked"),
    [
        (encryption.mask_phone, "13812345678", "138****5678"),
        (encryption.mask_phone, "12345", "*****"),
        (encryption.mask_id_number, "450105201201011234", "4501**********1234"),
        (encryption.mask_id_number, "4501", "****"),
        (encryption.mask_name, "张三", "张*"),
        (encryption.mask_name, "欧阳小明", "欧***"),
        (encryption.mask_name, "李", "李*"),
        (encryption.mask_name, "", ""),
    ],
)
def test_masks(mask: object, value: str, masked: str) -> None:
    assert callable(mask)
    assert mask(value) == masked
