"""Verification of provider-issued JWTs: ID tokens at sign-in, bearer JWTs on API calls.

RFC 8725 §3.1: the algorithm comes from an allow-list of asymmetric algorithms, never from the
header alone; ``none`` and HMAC algorithms (HS256 "signed" with a public key) are refused.
RFC 7519 §7.2 / OIDC Core §3.1.3.7: signature with the provider's JWKS key named by ``kid``,
``iss`` exactly the provider's issuer, ``aud`` an accepted audience, ``exp``/``nbf`` with leeway.
"""

from __future__ import annotations

import hmac
from typing import Any

import jwt

from sessions_app.exceptions import InvalidIdToken
from sessions_app.oidc.jwks import provider_signing_key
from sessions_app.oidc.providers import Provider

#: Asymmetric algorithms accepted on provider tokens (issue 7; RFC 8725 §2.1, §3.1).
ALLOWED_ALGORITHMS = ("RS256", "RS512", "ES256", "ES384")
#: Seconds of clock skew tolerated on ``exp``, ``nbf`` and ``iat``.
LEEWAY = 60


class TokenRejected(Exception):
    """Internal: why a provider JWT failed (mapped to the caller's typed error)."""


def unverified_issuer(raw: str) -> str | None:
    """The ``iss`` of a JWT before any check: only to pick the verifier, never to trust it."""
    try:
        claims = jwt.decode(raw, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError):  # ValueError: a lone surrogate (UnicodeEncodeError)
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else None


def verify_provider_jwt(raw: str, *, provider: Provider, audiences: list[str]) -> dict[str, Any]:
    """Check a JWT issued by ``provider`` for one of ``audiences``; returns its claims.

    Raises:
        TokenRejected: wrong algorithm, unknown key, bad signature, iss, aud, exp or nbf.
        ProviderUnavailable: the provider's key set cannot be fetched.
    """
    try:
        header = jwt.get_unverified_header(raw)
    except (jwt.PyJWTError, ValueError) as error:  # ValueError: a lone surrogate in the text
        raise TokenRejected("malformed") from error
    algorithm = header.get("alg")
    if algorithm not in ALLOWED_ALGORITHMS:
        raise TokenRejected("algorithm not allowed")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise TokenRejected("malformed kid")
    jwk = provider_signing_key(provider, kid=kid)
    if jwk is None:
        raise TokenRejected("unknown key")
    if jwk.get("alg") not in (None, algorithm):
        raise TokenRejected("key bound to another algorithm")
    try:
        key = jwt.PyJWK(jwk, algorithm=algorithm)
        claims: dict[str, Any] = jwt.decode(
            raw,
            key=key,
            algorithms=[algorithm],
            audience=audiences,
            issuer=provider.issuer,
            leeway=LEEWAY,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise TokenRejected(type(error).__name__) from error
    if not _usable_subject(claims.get("sub")):
        raise TokenRejected("no usable subject")
    return claims


def _usable_subject(subject: Any) -> bool:
    """OIDC Core §2: ``sub`` is a case-sensitive string of at most 255 ASCII characters. Held
    to that (no NUL, no control characters), since it is the stored, unique half of a user's
    identity; more generous providers' non-ASCII subjects are kept if they are printable text
    of that length (PostgreSQL refuses NUL, and a lone surrogate cannot be stored at all)."""
    # isprintable() is False for NUL, control characters and lone surrogates alike.
    return isinstance(subject, str) and 0 < len(subject) <= 255 and subject.isprintable()


def verify_id_token(raw: str, *, provider: Provider, nonce: str) -> dict[str, Any]:
    """OIDC Core §3.1.3.7: validate the ID token of an authorization-code sign-in.

    Raises:
        InvalidIdToken: any step fails (signature, iss, aud, exp, nonce, azp).
        ProviderUnavailable: the provider's key set cannot be fetched.
    """
    try:
        claims = verify_provider_jwt(raw, provider=provider, audiences=[provider.client_id])
    except TokenRejected as error:
        raise InvalidIdToken() from error
    # Step 3: aud contains our client_id (checked above). Steps 4-5: several audiences need azp,
    # and azp, when present, must be our client_id.
    audience = claims.get("aud")
    azp = claims.get("azp")
    if isinstance(audience, list) and len(audience) > 1 and azp is None:
        raise InvalidIdToken()
    if azp is not None and azp != provider.client_id:
        raise InvalidIdToken()
    # Step 11: the nonce sent in the authentication request, compared in constant time.
    presented = claims.get("nonce")
    if not isinstance(presented, str) or not hmac.compare_digest(presented, nonce):
        raise InvalidIdToken()
    return claims
