"""OpenAPI security schemes of the user-facing authentication classes.

The client service's own schemes (``x-api-key``, master Basic) live in ``clients/api/schema.py``;
these describe the defaults every user-facing view accepts (``REST_FRAMEWORK`` in settings):
Authcore Bearer tokens, provider-issued Bearer JWTs, and the browser-session cookie, which
needs ``X-CSRF-Token`` (and an allowed ``Origin``) on state-changing requests.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


class BearerScheme(OpenApiAuthenticationExtension):
    target_class = "tokens.authentication.BearerTokenAuthentication"
    name = "Bearer"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An Authcore access token (RS256, verifiable against "
            "/.well-known/jwks.json). A bad one is 401 with "
            '`WWW-Authenticate: Bearer error="invalid_token"`.',
        }


class ProviderBearerScheme(OpenApiAuthenticationExtension):
    target_class = "sessions_app.bearer.ProviderBearerAuthentication"
    name = "ProviderBearer"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A JWT (ID token included) issued by a provider of OIDC_PROVIDERS "
            "to an audience of OIDC_BEARER_AUDIENCES.",
        }


class SessionCookieScheme(OpenApiAuthenticationExtension):
    target_class = "sessions_app.authentication.SessionCookieAuthentication"
    name = ["SessionCookie", "CsrfToken"]

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[str]]:
        if auto_schema.method.upper() in SAFE_METHODS:
            return {"SessionCookie": []}
        # Both at once: the cookie and the CSRF header (plus an allowed Origin).
        return {"SessionCookie": [], "CsrfToken": []}

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, str]]:
        return [
            {
                "type": "apiKey",
                "in": "cookie",
                "name": "user_session_id",
                "description": "Browser session (HttpOnly; set by /auth/web/callback or a "
                'sign-in with `"session": true`).',
            },
            {
                "type": "apiKey",
                "in": "header",
                "name": "X-CSRF-Token",
                "description": "From GET /auth/web/me (or /auth/web/refresh); needed with the "
                "session cookie on every state-changing request, together with an allowed "
                "`Origin` (or `Referer`).",
            },
        ]
