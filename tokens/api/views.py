"""Public documents: the JWKS (RFC 7517 §5) and the OpenID discovery document.

Plain Django views, not DRF: they are read by every verifier and must cost next to nothing.
Both are served from per-process caches; the JWKS follows the key-set version
(``tokens.internal.keyset``), so a rotation or revocation shows within a second. A plain
``GET`` is answered by the front door before Django (``authcore.front_door``) with the same
``Answer`` these views wrap.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from authcore.front_door import Answer, as_http_response
from authcore.middleware.security_headers import checked_items
from tokens import app_settings, selectors

DISCOVERY_MAX_AGE = 3600


def _matches(header: str, etag: str) -> bool:
    """RFC 9110 §13.1.2 If-None-Match (weak comparison, as it prescribes for GET)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag in tags


def _document(if_none_match: str, body: bytes, etag: str, max_age: int) -> Answer:
    if _matches(if_none_match, etag):
        return Answer(304, b"", _headers(etag, max_age, typed=False), public=True)
    return Answer(200, body, _headers(etag, max_age, typed=True), public=True)


@lru_cache(maxsize=32)
def _headers(etag: str, max_age: int, *, typed: bool) -> dict[str, tuple[str, str]]:
    """Checked once per (ETag, max-age), not on every request; a 304 has no Content-Type."""
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    return checked_items({"Content-Type": "application/json", **headers} if typed else headers)


def _if_none_match(request: HttpRequest) -> str:
    return request.META.get("HTTP_IF_NONE_MATCH", "")  # not request.headers: it copies all


def jwks_answer(if_none_match: str) -> Answer:
    """Next, current and retiring public keys."""
    body, etag = selectors.jwks_document()
    return _document(if_none_match, body, etag, app_settings.JWKS_MAX_AGE)


@require_safe
def jwks(request: HttpRequest) -> HttpResponse:
    """``GET /.well-known/jwks.json``: next, current and retiring public keys."""
    return as_http_response(jwks_answer(_if_none_match(request)))


@lru_cache(maxsize=4)
def _discovery(issuer: str) -> tuple[bytes, str]:
    """Only what we really serve: keys and token facts for a verifier.

    No ``introspection_endpoint`` or ``revocation_endpoint``: ours take JSON with
    ``x-api-key``, not RFC 7662/7009 form-encoded client authentication, so a generic OAuth
    client following them would fail. No authorization or token endpoint either: Authcore
    issues tokens through its own API, not the OAuth flows.
    """
    document = {
        "issuer": issuer,
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public"],
        "claims_supported": ["iss", "aud", "sub", "iat", "exp", "jti", "credentialID", "client_id"],
    }
    body = json.dumps(document, separators=(",", ":")).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def openid_configuration_answer(if_none_match: str) -> Answer:
    body, etag = _discovery(app_settings.ISSUER)
    return _document(if_none_match, body, etag, DISCOVERY_MAX_AGE)


@require_safe
def openid_configuration(request: HttpRequest) -> HttpResponse:
    """``GET /.well-known/openid-configuration`` (OpenID Connect Discovery 1.0 §4)."""
    return as_http_response(openid_configuration_answer(_if_none_match(request)))
