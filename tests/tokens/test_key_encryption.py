"""Signing keys at rest: sealed with a key derived from JWT_SECRET; kid = RFC 7638 thumbprint."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from tokens import services
from tokens.exceptions import SigningKeyUnavailable
from tokens.internal import key_encryption
from tokens.models import SigningKey


def test_the_thumbprint_is_rfc_7638s_example() -> None:
    # RFC 7638 §3.1: the example key and its SHA-256 thumbprint.
    jwk = {
        "kty": "RSA",
        "e": "AQAB",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhD"
        "R1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-6"
        "5YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
        "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    }
    assert key_encryption.thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@pytest.mark.django_db
def test_a_stored_key_is_sealed_and_its_kid_is_its_thumbprint() -> None:
    services.rotate_keys()
    key = SigningKey.objects.get()
    assert key.kid == key_encryption.thumbprint(key.public_jwk)
    assert set(key.public_jwk) == {"kty", "n", "e"}
    private = key_encryption.unseal(bytes(key.private_key_encrypted), kid=key.kid)
    der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert der not in bytes(key.private_key_encrypted)
    assert der[20:60] not in bytes(key.private_key_encrypted)
    assert "BEGIN" not in repr(key) and str(key) == f"{key.kid} (current)"


@pytest.mark.django_db
def test_a_sealed_key_opens_neither_under_another_secret_nor_on_another_row(
    settings: Any,
) -> None:
    services.rotate_keys()
    key = SigningKey.objects.get()
    sealed = bytes(key.private_key_encrypted)
    with pytest.raises(SigningKeyUnavailable):
        key_encryption.unseal(sealed, kid="another-kid")
    settings.JWT_SECRET = "a-different-secret-" + "x" * 40
    with pytest.raises(SigningKeyUnavailable) as caught:
        key_encryption.unseal(sealed, kid=key.kid)
    assert "BEGIN" not in str(caught.value)
