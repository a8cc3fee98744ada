"""The error body ``{"detail", "code"}`` and the codes each operation can answer.

API.md: "All JSON errors have the shape {"detail", "code"}". The tables below are the
reference a client programs against; ``tests/docs/test_openapi_schema.py`` sends requests that
fail and checks that each answer's status and code are listed here for its operation, and that
every listed code is one the code base can raise.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings

from authcore.exceptions import AuthcoreError

Codes = Mapping[int, tuple[str, ...]]

# Codes rendered by the shared HTTP layer rather than by a typed exception.
HTTP_LAYER_ERRORS = {
    "malformed_json": (400, "JSON parse error - Expecting value: line 1 column 1 (char 0)"),
    "bad_request": (400, "Bad request."),
    "method_not_allowed": (405, "Method not allowed."),
    "payload_too_large": (413, "Request body too large."),
}

# --- building blocks --------------------------------------------------------------------------

RATE_LIMITED: Codes = {429: ("rate_limited",)}
JSON_BODY: Codes = {400: ("invalid_request", "malformed_json"), 413: ("payload_too_large",)}
# Bearer (Authcore or provider JWT) or the session cookie, on a view that may also be anonymous.
OPTIONAL_USER: Codes = {401: ("invalid_token", "session_not_found")}
# The same, on a view that needs a signed-in user.
SIGNED_IN: Codes = {401: ("not_authenticated", "invalid_token", "session_not_found")}
# A state-changing request authenticated by the session cookie (API.md "CSRF failures").
CSRF: Codes = {403: ("csrf_token_missing", "csrf_token_invalid", "origin_not_allowed")}
API_KEY: Codes = {401: ("not_authenticated", "invalid_api_key"), 429: ("rate_limited",)}
MASTER: Codes = {
    401: ("not_authenticated", "invalid_master_credentials"),
    403: ("master_disabled",),
    429: ("rate_limited",),
}
SESSION_ONLY: Codes = {401: ("session_not_found",)}
# A write whose user (or client) was deleted on another instance while it ran
# (authcore.middleware.errors): nothing was saved.
DELETED_MEANWHILE: Codes = {409: ("conflict",)}
CEREMONY = (
    "challenge_invalid",
    "origin_mismatch",
    "rp_id_mismatch",
    "signature_invalid",
    "user_verification_required",
)


def merge(*parts: Codes) -> dict[int, tuple[str, ...]]:
    """Union of code tables, each status's codes in first-seen order."""
    merged: dict[int, list[str]] = {}
    for part in parts:
        for status, codes in part.items():
            bucket = merged.setdefault(status, [])
            bucket.extend(code for code in codes if code not in bucket)
    return {status: tuple(codes) for status, codes in sorted(merged.items())}


# --- per operation ------------------------------------------------------------------------------

OPERATION_ERRORS: dict[tuple[str, str], dict[int, tuple[str, ...]]] = {
    # Client service (clients app)
    ("post", "/api/clients"): merge(MASTER, JSON_BODY),
    ("post", "/api/clients/{client_id}/rotate-key"): merge(MASTER, {404: ("not_found",)}),
    ("post", "/api/users"): merge(
        API_KEY, JSON_BODY, {409: ("identifier_taken",)}, DELETED_MEANWHILE
    ),
    ("post", "/api/tokens"): merge(
        API_KEY,
        JSON_BODY,
        {400: ("expires_in_too_large",), 401: ("invalid_credentials",)},
        DELETED_MEANWHILE,
    ),
    ("post", "/api/tokens/introspect"): merge(API_KEY, JSON_BODY),
    ("post", "/api/tokens/revoke"): merge(API_KEY, JSON_BODY, {401: ("invalid_token",)}),
    ("delete", "/api/tokens/{jti}"): merge(API_KEY, {404: ("not_found",)}),
    ("get", "/metrics"): merge(RATE_LIMITED),  # not a health probe: counted (API.md)
    ("get", "/api/me"): merge(SIGNED_IN, RATE_LIMITED),
    # Passkeys (passkeys app)
    ("post", "/api/auth/passkey/register/options"): merge(
        JSON_BODY, OPTIONAL_USER, CSRF, {409: ("username_taken",)}, RATE_LIMITED
    ),
    ("post", "/api/auth/passkey/register/verify"): merge(
        JSON_BODY,
        {400: (*CEREMONY, "credential_exists")},
        OPTIONAL_USER,
        CSRF,
        {409: ("username_taken",)},
        DELETED_MEANWHILE,
        RATE_LIMITED,
    ),
    ("post", "/api/auth/passkey/login/options"): merge(JSON_BODY, RATE_LIMITED),
    ("post", "/api/auth/passkey/login/verify"): merge(
        JSON_BODY,
        {400: (*CEREMONY, "sign_count_regressed", "credential_unknown")},
        DELETED_MEANWHILE,
        RATE_LIMITED,
    ),
    ("get", "/api/passkeys"): merge(SIGNED_IN, RATE_LIMITED),
    ("patch", "/api/passkeys/{passkey_id}"): merge(
        JSON_BODY, SIGNED_IN, CSRF, {404: ("not_found",)}, RATE_LIMITED
    ),
    ("delete", "/api/passkeys/{passkey_id}"): merge(
        SIGNED_IN, CSRF, {404: ("not_found",), 409: ("last_sign_in_method",)}, RATE_LIMITED
    ),
    ("post", "/api/auth/email/start"): merge(
        JSON_BODY, RATE_LIMITED, {503: ("service_unavailable",)}
    ),
    ("post", "/api/auth/email/verify"): merge(
        JSON_BODY,
        {400: ("code_invalid", "code_expired", "code_used", "code_voided")},
        DELETED_MEANWHILE,
        RATE_LIMITED,
    ),
    # Browser sessions (sessions_app)
    ("get", "/auth/web/login"): merge(
        {400: ("unknown_provider",), 502: ("provider_unavailable",)}, RATE_LIMITED
    ),
    ("get", "/auth/web/callback"): merge(
        {400: ("login_failed", "provider_error", "invalid_id_token")},
        {502: ("provider_unavailable",)},
        DELETED_MEANWHILE,
        RATE_LIMITED,
    ),
    ("get", "/auth/web/me"): merge(SESSION_ONLY, RATE_LIMITED),
    ("post", "/auth/web/logout"): merge(SESSION_ONLY, CSRF, RATE_LIMITED),
    ("post", "/auth/web/refresh"): merge(SESSION_ONLY, CSRF, RATE_LIMITED),
    ("post", "/auth/web/token"): merge(SESSION_ONLY, CSRF, DELETED_MEANWHILE, RATE_LIMITED),
    ("get", "/auth/web/sessions"): merge(SIGNED_IN, RATE_LIMITED),
    ("delete", "/auth/web/sessions/{session_id}"): merge(
        SIGNED_IN, CSRF, {404: ("session_not_found",)}, RATE_LIMITED
    ),
}

_STATUS_WORDS = {
    400: "Rejected input",
    401: "Missing or invalid credentials",
    403: "Credentials without the right to act, or a failed CSRF/Origin check",
    404: "Unknown or not yours",
    409: "Conflicts with what exists, or what it refers to was deleted while it ran",
    413: "Body too large",
    429: "Rate limit or brute-force lockout; retry after `Retry-After` seconds",
    502: "The OpenID provider is unreachable or answered nonsense",
    503: "A dependency (the mail server) is unavailable; nothing was stored",
}


def _error_classes() -> Iterable[type[AuthcoreError]]:
    for app in settings.INSTALLED_APPS:
        try:
            importlib.import_module(f"{app}.exceptions")
        except ModuleNotFoundError:
            continue
    pending: list[type[AuthcoreError]] = [AuthcoreError]
    while pending:
        cls = pending.pop()
        yield cls
        pending.extend(cls.__subclasses__())


def known_codes() -> dict[str, dict[int, str]]:
    """Every code the code base can answer: ``code -> {status: default detail}``."""
    codes: dict[str, dict[int, str]] = {}
    for cls in _error_classes():
        codes.setdefault(cls.code, {}).setdefault(cls.status_code, cls.detail)
    for code, (status, detail) in HTTP_LAYER_ERRORS.items():
        codes.setdefault(code, {}).setdefault(status, detail)
    return codes


def error_component() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "Every error: a human message and a stable machine code (API.md).",
        "properties": {
            "detail": {"type": "string", "description": "For people; may change."},
            "code": {"type": "string", "description": "Stable; program against this."},
        },
        "required": ["detail", "code"],
    }


def error_response(
    status: int, codes: tuple[str, ...], details: Mapping[str, Mapping[int, str]]
) -> dict[str, Any]:
    """One OpenAPI response object: the Error body restricted to ``codes``, one example each."""
    listed = ", ".join(f"`{code}`" for code in codes)
    response: dict[str, Any] = {
        "description": f"{_STATUS_WORDS.get(status, 'Error')}. Codes: {listed}.",
        "content": {
            "application/json": {
                "schema": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Error"},
                        {"type": "object", "properties": {"code": {"enum": list(codes)}}},
                    ]
                },
                "examples": {
                    code: {"value": {"detail": _detail(details, code, status), "code": code}}
                    for code in codes
                },
            }
        },
    }
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {
                "schema": {"type": "string"},
                "description": 'The scheme to use, e.g. `Bearer error="invalid_token"`.',
            }
        }
    if status == 429:
        response["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."},
            "X-RateLimit-Limit": {"schema": {"type": "integer"}},
            "X-RateLimit-Remaining": {"schema": {"type": "integer"}},
            "X-RateLimit-Reset": {"schema": {"type": "integer"}},
        }
    return response


def _detail(details: Mapping[str, Mapping[int, str]], code: str, status: int) -> str:
    by_status = details.get(code, {})
    return str(by_status.get(status) or next(iter(by_status.values()), code))


def add_error_responses(schema: dict[str, Any]) -> None:
    """Adds the Error component and each listed operation's error responses to ``schema``."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = error_component()
    details = known_codes()
    for (method, path), table in OPERATION_ERRORS.items():
        operation = schema.get("paths", {}).get(path, {}).get(method)
        if operation is None:
            continue  # the schema test reports operations and table rows that disagree
        responses = operation.setdefault("responses", {})
        for status, codes in table.items():
            responses[str(status)] = error_response(status, codes, details)
