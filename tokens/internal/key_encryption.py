"""Signing keys at rest: RSA private keys sealed with AES-256-GCM under a key derived from
``JWT_SECRET`` with HKDF-SHA256 (RFC 5869). The kid is bound as associated data, so a sealed
key copied onto another row does not open. Library primitives only (``cryptography``).

Also the RFC 7638 thumbprint: SHA-256 over the JSON of the required members in lexicographic
order with no whitespace (§3.2), base64url without padding (§3 step 4).
"""

from __future__ import annotations

import base64
import json
import os
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from jwt.algorithms import RSAAlgorithm

from tokens import app_settings
from tokens.exceptions import SigningKeyUnavailable

_HKDF_INFO = b"authcore tokens signing-key encryption v1"
_NONCE_BYTES = 12


@lru_cache(maxsize=4)
def _aead(secret: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret.encode()
    )
    return AESGCM(key)


def generate_private_key() -> rsa.RSAPrivateKey:
    """A fresh RSA key (e = 65537), RFC 7518 §3.3 size."""
    return rsa.generate_private_key(public_exponent=65537, key_size=app_settings.KEY_SIZE)


def public_jwk(private_key: rsa.RSAPrivateKey) -> dict[str, str]:
    """The public JWK members (kty, n, e) of a key, as PyJWT writes them."""
    full: dict[str, Any] = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    return {"kty": full["kty"], "n": full["n"], "e": full["e"]}


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 §3 JWK thumbprint (SHA-256, base64url without padding)."""
    required = {"e": jwk["e"], "kty": jwk["kty"], "n": jwk["n"]}  # RFC 7638 §3.2 for RSA
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True, ensure_ascii=True)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(canonical.encode())
    return base64.urlsafe_b64encode(digest.finalize()).rstrip(b"=").decode()


def seal(private_key: rsa.RSAPrivateKey, *, kid: str) -> bytes:
    """PKCS#8 DER of the key, AES-GCM encrypted: nonce || ciphertext+tag."""
    der = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + _aead(app_settings.JWT_SECRET).encrypt(nonce, der, kid.encode())


def unseal(sealed: bytes, *, kid: str) -> rsa.RSAPrivateKey:
    """The private key back; ``SigningKeyUnavailable`` if ``JWT_SECRET`` or the row changed."""
    data = bytes(sealed)
    try:
        der = _aead(app_settings.JWT_SECRET).decrypt(
            data[:_NONCE_BYTES], data[_NONCE_BYTES:], kid.encode()
        )
    except Exception as error:  # InvalidTag and friends; say nothing about the material
        raise SigningKeyUnavailable(f"signing key {kid} cannot be decrypted") from error
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SigningKeyUnavailable(f"signing key {kid} is not an RSA key")
    return key
