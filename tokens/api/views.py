"""Public documents: the JWKS (RFC 7517 §5) and the OpenID discovery document.

Plain Django views, not DRF: they are read by every verifier and must cost next to nothing.
Both are served from per-process caches; the JWKS follows the key-set version
(``tokens.internal.keyset``), so a rotation or revocation shows within a second.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from authcore.middleware.security_headers import (
    checked_items,
    mark_public_cacheable,
    set_checked_headers,
)
from tokens import app_settings, selectors

DISCOVERY_MAX_AGE = 3600


def _matches(request: HttpRequest, etag: str) -> bool:
    """RFC 9110 §13.1.2 If-None-Match (weak comparison, as it prescribes for GET)."""
    header = request.META.get("HTTP_IF_NONE_MATCH", "")  # not request.headers: it copies all
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag in tags


def _document(request: HttpRequest, body: bytes, etag: str, max_age: int) -> HttpResponse:
    if _matches(request, etag):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="application/json")
    # Checked once per (ETag, max-age), not on every request.
    set_checked_headers(response, _caching_headers(etag, max_age))
    return mark_public_cacheable(response)


@lru_cache(maxsize=16)
def _caching_headers(etag: str, max_age: int) -> dict[str, tuple[str, str]]:
    return checked_items({"ETag": etag, "Cache-Control": f"public, max-age={max_age}"})


@require_safe
def jwks(request: HttpRequest) -> HttpResponse:
    """``GET /.well-known/jwks.json``: next, current and retiring public keys."""
    body, etag = selectors.jwks_document()
    return _document(request, body, etag, app_settings.JWKS_MAX_AGE)


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


@require_safe
def openid_configuration(request: HttpRequest) -> HttpResponse:
    """``GET /.well-known/openid-configuration`` (OpenID Connect Discovery 1.0 §4)."""
    body, etag = _discovery(app_settings.ISSUER)
    return _document(request, body, etag, DISCOVERY_MAX_AGE)
