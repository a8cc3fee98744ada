"""Request/response bodies, parameters, summaries and examples for the apps' views.

Applied by import path through drf-spectacular's ``OpenApiViewExtension`` (the view classes
themselves are untouched): each extension subclasses the view and decorates its methods with
``extend_schema``, which merges with whatever the view module already declares.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)

from authcore.openapi import shapes

_JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjIwMjUtMDEtMDFUMDAiLCJ0eXAiOiJKV1QifQ.eyJzdWIiOiIuLi4ifQ.c2ln"
_REDIRECT = OpenApiResponse(
    description="Redirect (`Location`).",
    response=None,
)


def describe(target: str, tag: str, **methods: Any) -> None:
    """Registers an extension for the view class at ``target`` with ``extend_schema`` per
    method (``post={"summary": ..., "request": ..., ...}``), all under ``tag``."""

    def view_replacement(self: OpenApiViewExtension) -> Any:
        replacement = type(self.target.__name__, (self.target,), {"__module__": __name__})
        decorators = {
            method: extend_schema(tags=[tag], **arguments) for method, arguments in methods.items()
        }
        return extend_schema_view(**decorators)(replacement)

    name = "Describe_" + target.replace(".", "_")
    attributes = {"target_class": target, "view_replacement": view_replacement}
    type(name, (OpenApiViewExtension,), attributes)


# --- Client service ----------------------------------------------------------------------------

_CLIENTS = "clients.api.views."
describe(
    _CLIENTS + "ClientCreateView",
    "client service",
    post={
        "summary": "Create a client (master credentials); its API key is shown this once",
        "examples": [
            OpenApiExample("Request", value={"name": "Shop backend"}, request_only=True),
            OpenApiExample(
                "Created",
                value={
                    "id": "2b0c1f7a-9d8e-4c39-a1b4-5f0e6d7c8b9a",
                    "name": "Shop backend",
                    "api_key": "ak_3f9c2a7d81e04b56.Qm9u…",
                    "created_at": "2025-01-01T12:00:00Z",
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    },
)
describe(
    _CLIENTS + "ClientRotateKeyView",
    "client service",
    post={"summary": "Rotate a client's API key (master); the old key stops working at once"},
)
describe(
    _CLIENTS + "UserCreateView",
    "client service",
    post={
        "summary": "Create a user of the calling client; its secret is shown this once",
        "examples": [
            OpenApiExample(
                "Request",
                value={"identifier": "customer-42", "email": "c42@example.test"},
                request_only=True,
            ),
            OpenApiExample(
                "Created",
                value={
                    "id": "5d1e8f60-2a4b-4c1d-9e7f-3b2a1c0d9e8f",
                    "identifier": "customer-42",
                    "secret": "us_0a1b2c3d4e5f6a7b.c2VjcmV0…",
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    },
)
describe(
    _CLIENTS + "TokenCreateView",
    "client service",
    post={
        "summary": "Exchange a user's identifier and secret for an access token",
        "examples": [
            OpenApiExample(
                "Request",
                value={"identifier": "customer-42", "secret": "us_…", "expires_in": 3600},
                request_only=True,
            ),
            OpenApiExample(
                "Issued",
                value={
                    "access_token": _JWT,
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "jti": "0f6c1c9e5b7a4d2f8e3a9b1c",
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    },
)
describe(
    _CLIENTS + "TokenIntrospectView",
    "client service",
    post={
        "summary": "Introspect a token of the calling client (RFC 7662)",
        "description": "Active tokens of your client: `active: true` and the claims. "
        'Anything else is exactly `{"active": false}`.',
        "examples": [
            OpenApiExample(
                "Active",
                value={
                    "active": True,
                    "sub": "5d1e8f60-2a4b-4c1d-9e7f-3b2a1c0d9e8f",
                    "client_id": "2b0c1f7a-9d8e-4c39-a1b4-5f0e6d7c8b9a",
                    "exp": 1735736400,
                    "token_type": "Bearer",
                },
                response_only=True,
            ),
            OpenApiExample("Inactive", value={"active": False}, response_only=True),
        ],
    },
)
describe(
    _CLIENTS + "TokenRevokeView",
    "client service",
    post={
        "summary": "Revoke a token by value or jti (RFC 7009); 200 even when nothing matched",
        "examples": [OpenApiExample("By jti", value={"jti": "0f6c…"}, request_only=True)],
    },
)
describe(
    _CLIENTS + "TokenDeleteView",
    "client service",
    delete={"summary": "Revoke one of the calling client's tokens by jti"},
)
describe(
    _CLIENTS + "MeView",
    "users",
    get={"summary": "The signed-in user (Bearer token or browser session)"},
)

# --- Passkeys and the email fallback -------------------------------------------------------------

_PASSKEYS = "passkeys.api.views."
describe(
    _PASSKEYS + "RegistrationOptionsView",
    "passkeys",
    post={
        "summary": "Registration options: sign up, or (signed in) add a passkey",
        "responses": {200: shapes.PublicKeyCredentialCreationOptionsJSON},
        "examples": [
            OpenApiExample("Sign up", value={"username": "alice"}, request_only=True),
        ],
    },
)
describe(
    _PASSKEYS + "RegistrationVerifyView",
    "passkeys",
    post={
        "summary": "Verify the new credential; returns the user, the passkey and a token",
        "request": shapes.RegistrationResponseJSON,
        "responses": {201: shapes.Registration},
    },
)
describe(
    _PASSKEYS + "AuthenticationOptionsView",
    "passkeys",
    post={
        "summary": "Sign-in options; send {} for a username-less (discoverable) sign-in",
        "responses": {200: shapes.PublicKeyCredentialRequestOptionsJSON},
    },
)
describe(
    _PASSKEYS + "AuthenticationVerifyView",
    "passkeys",
    post={
        "summary": "Verify the assertion; returns a token (and a session with session: true)",
        "request": shapes.AuthenticationResponseJSON,
        "responses": {200: shapes.SignIn},
    },
)
describe(_PASSKEYS + "PasskeyListView", "passkeys", get={"summary": "The caller's passkeys"})
describe(
    _PASSKEYS + "PasskeyDetailView",
    "passkeys",
    patch={"summary": "Rename one of the caller's passkeys"},
    delete={"summary": "Remove one of the caller's passkeys (not the last sign-in method)"},
)
describe(
    _PASSKEYS + "EmailStartView",
    "email fallback",
    post={
        "summary": "Mail a 6-digit code and a sign-in link (202 for any address)",
        "responses": {202: shapes.EmailStarted},
    },
)
describe(
    _PASSKEYS + "EmailVerifyView",
    "email fallback",
    post={
        "summary": "Sign in (or up) with the mailed code or the link's token",
        "responses": {200: shapes.SignIn},
        "examples": [
            OpenApiExample(
                "Code", value={"email": "alice@example.test", "code": "123456"}, request_only=True
            ),
            OpenApiExample("Link", value={"link_token": "…"}, request_only=True),
        ],
    },
)

# --- Browser sessions ----------------------------------------------------------------------------

_SESSIONS = "sessions_app.views."
describe(
    _SESSIONS + "LoginView",
    "browser sessions",
    get={
        "summary": "Start an OpenID Connect sign-in: 302 to the provider",
        "parameters": [
            OpenApiParameter("provider", str, required=True, description="OIDC_PROVIDERS name"),
            OpenApiParameter("next", str, description="Same-origin path to return to"),
        ],
        "request": None,
        "responses": {302: _REDIRECT},
    },
)
describe(
    _SESSIONS + "CallbackView",
    "browser sessions",
    get={
        "summary": "The provider's redirect back: opens the session, 302 to next",
        "parameters": [
            OpenApiParameter("code", str),
            OpenApiParameter("state", str),
            OpenApiParameter("iss", str),
            OpenApiParameter("error", str),
        ],
        "request": None,
        "responses": {302: _REDIRECT},
    },
)
describe(
    _SESSIONS + "MeView",
    "browser sessions",
    get={
        "summary": "Who is signed in, and the CSRF token for state-changing calls",
        "responses": {200: shapes.SessionMe},
    },
)
describe(
    _SESSIONS + "LogoutView",
    "browser sessions",
    post={
        "summary": "End the session and clear its cookies",
        "request": None,
        "responses": {204: None},
    },
)
describe(
    _SESSIONS + "RefreshView",
    "browser sessions",
    post={
        "summary": "New session ID and CSRF token; the old ones are dead",
        "request": None,
        "responses": {200: shapes.CsrfRefresh},
    },
)
describe(
    _SESSIONS + "TokenView",
    "browser sessions",
    post={
        "summary": "An access token (PASSKEY_TOKEN_TTL) for the session's user, e.g. for Privy",
        "request": None,
        "responses": {200: shapes.AccessToken},
    },
)
describe(
    _SESSIONS + "SessionListView",
    "browser sessions",
    get={
        "summary": "The caller's live browser sessions",
        "responses": {200: shapes.BrowserSession(many=True)},
    },
)
describe(
    _SESSIONS + "SessionDetailView",
    "browser sessions",
    delete={
        "summary": "End one of the caller's browser sessions",
        "request": None,
        "responses": {204: None},
        "parameters": [OpenApiParameter("session_id", OpenApiTypes.STR, OpenApiParameter.PATH)],
    },
)
