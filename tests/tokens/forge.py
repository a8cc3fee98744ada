"""Helpers that build hostile tokens, as an attacker (or a buggy peer) would."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tokens.internal import keyset


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segments(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return ".".join(
        b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )


def unsigned(claims: dict[str, Any], kid: str) -> str:
    """``alg: none`` (RFC 7519 §6): an empty signature."""
    return segments({"alg": "none", "typ": "JWT", "kid": kid}, claims) + "."


def hs256_with_public_key(claims: dict[str, Any], kid: str) -> str:
    """The classic algorithm confusion: HMAC keyed with our public key's PEM."""
    public = keyset.cached().keys[kid].public_key  # type: ignore[union-attr]
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = segments({"alg": "HS256", "typ": "JWT", "kid": kid}, claims)
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def signed_with_our_key(claims: dict[str, Any], kid: str, **headers: Any) -> str:
    """Signed by our real key: for claims our issuer never writes."""
    return jwt.encode(
        claims, keyset.private_key(kid), algorithm="RS256", headers={"kid": kid, **headers}
    )


def attacker_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def signed_with(key: rsa.RSAPrivateKey, claims: dict[str, Any], **headers: Any) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers=headers)


def tamper_payload(raw: str, **changes: Any) -> str:
    header, payload, signature = raw.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


def tamper_signature(raw: str) -> str:
    header, payload, signature = raw.split(".")
    flipped = "A" if signature[10] != "A" else "B"
    return f"{header}.{payload}.{signature[:10]}{flipped}{signature[11:]}"
