"""Floor views: each does the named work in the plainest correct way, nothing more.

They are the yardsticks of issue 11: a bare JSON view, one primary-key SELECT, one Redis GET,
the naive "physical floor" of a protected request (RS256 verify + Redis EXISTS + PK SELECT),
the naive floor of token issue (PK SELECT + RS256 sign + INSERT), a naive cookie session
(Redis GET + PK SELECT) and a naive passkey login (challenge GETDEL + credential SELECT +
py_webauthn verify + UPDATE + RS256 sign + INSERT).

Two more answer with the *shape* the contract asks of Authcore's cheapest responses and no
work at all: ``headers_floor`` is the bare view with the response headers every Authcore
answer carries (API.md "Security headers", ``Vary``, a request id), as ``/healthz`` sends
them; ``document_floor`` serves a one-key JWKS with ``ETag`` and public ``Cache-Control``, as
``/.well-known/jwks.json`` does; ``limited_floor`` is the one-Redis-GET view with every header
a rate-limited answer carries (the security headers, ``X-RateLimit-*``), the shape of the stack
row. They tell how much of those rows' distance to the bare floor
is the contract's bytes (gunicorn's per-header work, a bigger body) rather than Authcore's code.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import jwt
import redis
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from webauthn import verify_authentication_response
from webauthn.helpers import base64url_to_bytes, parse_client_data_json
from webauthn.helpers.exceptions import InvalidAuthenticationResponse

from bench.floor import settings
from bench.floor.models import FloorCredential, FloorToken
from bench.floor_views import bare

__all__ = [
    "bare",
    "document_floor",
    "headers_floor",
    "issue_floor",
    "limited_floor",
    "passkey_floor",
    "physical_floor",
    "primary_key_select",
    "redis_get",
    "session_floor",
]

# Loaded once per process: loading a PEM private key costs ~25 ms (issue 11).
_PRIVATE_KEY = load_pem_private_key(Path(settings.BENCH_PRIVATE_KEY_FILE).read_bytes(), None)
_PUBLIC_KEY = _PRIVATE_KEY.public_key()
_REDIS: redis.Redis = redis.Redis.from_url(settings.REDIS_URL)
_PREFIX = settings.BENCH_REDIS_PREFIX


# What every Authcore response carries (API.md), copied here: the floor imports no Authcore code.
_SECURITY_HEADERS = {
    "Vary": "origin",
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "1; mode=block",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
    "Permissions-Policy": (
        "geolocation=(), camera=(), microphone=(), payment=(), usb=(), "
        "interest-cohort=(), fullscreen=(self)"
    ),
}
_NO_STORE_HEADERS = {
    "Cache-Control": "no-store, no-cache, must-revalidate, proxy-revalidate",
    "Pragma": "no-cache",
    "Expires": "0",
}
# What a rate-limited answer adds (API.md "Rate limits"), with plausible values.
_RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": "20000",
    "X-RateLimit-Remaining": "19999",
    "X-RateLimit-Reset": "0",
}
_JWK = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_PUBLIC_KEY))  # type: ignore[arg-type]
_JWKS = json.dumps(
    {"keys": [{**_JWK, "kid": "floor-key-1", "use": "sig", "alg": "RS256"}]},
    separators=(",", ":"),
).encode()
_JWKS_ETAG = '"' + hashlib.sha256(_JWKS).hexdigest()[:32] + '"'


def _with_headers(response: HttpResponse, headers: dict[str, str]) -> HttpResponse:
    for name, value in headers.items():
        response[name] = value
    response["X-Request-ID"] = secrets.token_hex(16)
    return response


def headers_floor(request: HttpRequest) -> HttpResponse:
    return _with_headers(JsonResponse({"status": "ok"}), {**_SECURITY_HEADERS, **_NO_STORE_HEADERS})


def document_floor(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_JWKS, content_type="application/json")
    response["ETag"] = _JWKS_ETAG
    response["Cache-Control"] = "public, max-age=300"
    return _with_headers(response, _SECURITY_HEADERS)


def _error(detail: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": "floor_error"}, status=status)


def _user_json(user: User) -> dict[str, object]:
    return {"id": str(user.pk), "username": user.username}


def _redis_get(key: str) -> bytes | None:
    return cast(bytes | None, _REDIS.get(key))


def primary_key_select(request: HttpRequest) -> JsonResponse:
    user = User.objects.get(pk=int(request.GET.get("id", "1")))
    return JsonResponse(_user_json(user))


def redis_get(request: HttpRequest) -> JsonResponse:
    value = _redis_get(f"{_PREFIX}:value")
    return JsonResponse({"value": value.decode() if value else None})


def limited_floor(request: HttpRequest) -> HttpResponse:
    """One Redis GET answered with every header a rate-limited Authcore answer carries."""
    value = _redis_get(f"{_PREFIX}:value")
    return _with_headers(
        JsonResponse({"value": value.decode() if value else None}),
        {**_SECURITY_HEADERS, **_NO_STORE_HEADERS, **_RATE_LIMIT_HEADERS},
    )


def physical_floor(request: HttpRequest) -> JsonResponse:
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer" or not raw:
        return _error("Bearer token required", 401)
    try:
        claims = jwt.decode(
            raw,
            _PUBLIC_KEY,  # type: ignore[arg-type]
            algorithms=["RS256"],
            audience=settings.BENCH_AUDIENCE,
            issuer=settings.BENCH_ISSUER,
            options={"require": ["exp", "iat", "jti", "sub"]},
        )
    except jwt.PyJWTError:
        return _error("invalid token", 401)
    if _REDIS.exists(f"{_PREFIX}:revoked:{claims['jti']}"):
        return _error("revoked", 401)
    try:
        user = User.objects.get(pk=int(claims["sub"]))
    except User.DoesNotExist:
        return _error("invalid token", 401)
    return JsonResponse(_user_json(user))


def _sign_token(user_pk: int) -> tuple[str, str, datetime]:
    now = int(time.time())
    jti = secrets.token_urlsafe(16)
    claims = {
        "iss": settings.BENCH_ISSUER,
        "aud": settings.BENCH_AUDIENCE,
        "sub": str(user_pk),
        "iat": now,
        "exp": now + 3600,
        "jti": jti,
    }
    raw = jwt.encode(claims, _PRIVATE_KEY, algorithm="RS256", headers={"kid": "floor"})  # type: ignore[arg-type]
    return raw, jti, datetime.fromtimestamp(now + 3600, tz=UTC)


@csrf_exempt
def issue_floor(request: HttpRequest) -> JsonResponse:
    try:
        user_id = int(json.loads(request.body)["user_id"])
        user = User.objects.get(pk=user_id)
    except (ValueError, KeyError, TypeError, User.DoesNotExist):
        return _error("unknown user", 400)
    raw, jti, expires_at = _sign_token(user.pk)
    FloorToken.objects.create(jti=jti, user=user, expires_at=expires_at)
    return JsonResponse(
        {"access_token": raw, "token_type": "Bearer", "expires_in": 3600, "jti": jti}, status=201
    )


def session_floor(request: HttpRequest) -> JsonResponse:
    session_id = request.COOKIES.get("floor_session", "")
    stored = _redis_get(f"{_PREFIX}:session:{session_id}") if session_id else None
    if stored is None:
        return _error("No session found", 401)
    user = User.objects.get(pk=json.loads(stored)["user_id"])
    expires = datetime.now(tz=UTC) + timedelta(hours=1)
    return JsonResponse(
        {"authenticated": True, "user": _user_json(user), "expires_at": expires.isoformat()}
    )


@csrf_exempt
def passkey_floor(request: HttpRequest) -> JsonResponse:
    try:
        body = json.loads(request.body)
        client_data = parse_client_data_json(base64url_to_bytes(body["response"]["clientDataJSON"]))
        raw_id = base64url_to_bytes(body["rawId"])
    except (ValueError, KeyError, TypeError):
        return _error("malformed assertion", 400)
    challenge_key = f"{_PREFIX}:challenge:{client_data.challenge.hex()}"
    if not _REDIS.getdel(challenge_key):
        return _error("challenge_invalid", 400)
    credential = FloorCredential.objects.select_related("user").filter(credential_id=raw_id).first()
    if credential is None:
        return _error("credential_unknown", 400)
    try:
        verified = verify_authentication_response(
            credential=body,
            expected_challenge=client_data.challenge,
            expected_rp_id=settings.BENCH_RP_ID,
            expected_origin=settings.BENCH_ORIGIN,
            credential_public_key=bytes(credential.public_key),
            credential_current_sign_count=credential.sign_count,
            require_user_verification=True,
        )
    except InvalidAuthenticationResponse:
        return _error("signature_invalid", 400)
    FloorCredential.objects.filter(pk=credential.pk).update(sign_count=verified.new_sign_count)
    raw, jti, expires_at = _sign_token(credential.user.pk)
    FloorToken.objects.create(jti=jti, user=credential.user, expires_at=expires_at)
    return JsonResponse(
        {
            "access_token": raw,
            "token_type": "Bearer",
            "expires_in": 3600,
            "user": _user_json(credential.user),
        }
    )
