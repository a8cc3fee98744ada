"""Settings of the sessions app, read at call time so tests (and reloads) can override them.

Only ``authcore/settings.py`` reads the environment; this module gives each setting a typed
property with its default (STYLE §7).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

#: Name of the browser-session cookie (API.md "Browser sessions").
SESSION_COOKIE = "user_session_id"
#: Name of the cookie naming the pending login (state, nonce, PKCE verifier).
AUTH_COOKIE = "auth_session_id"
#: Header carrying the CSRF token on state-changing requests.
CSRF_HEADER = "HTTP_X_CSRF_TOKEN"
#: Seconds a pending login lives (API.md: 10 minutes).
AUTH_SESSION_TTL = 600
#: Seconds a CSRF token stays valid (issue 7: 12 hours).
CSRF_MAX_AGE = 12 * 3600


class _Settings:
    @property
    def SESSION_MAX_AGE(self) -> int:
        """Seconds a browser session lives after it is opened or refreshed."""
        return int(getattr(settings, "SESSION_MAX_AGE", 3600))

    @property
    def SESSION_SIGNING_SECRET(self) -> str:
        """Key of the HMAC under which session ids are stored (never the ids themselves)."""
        return str(settings.SESSION_SIGNING_SECRET)

    @property
    def CSRF_SIGNING_SECRET(self) -> str:
        """Key of the HMAC in CSRF tokens."""
        return str(settings.CSRF_SIGNING_SECRET)

    @property
    def COOKIE_SECURE(self) -> bool:
        """``Secure`` cookies in production only (test allows plain http, API.md)."""
        return bool(getattr(settings, "IS_PRODUCTION", False))

    @property
    def API_ORIGIN(self) -> str:
        """This service's own origin: always an allowed Origin."""
        return str(settings.API_ORIGIN)

    @property
    def API_BASE_URL(self) -> str:
        return str(settings.API_BASE_URL)

    @property
    def PASSKEY_TOKEN_TTL(self) -> int:
        """Lifetime of the Authcore token handed out by ``POST /auth/web/token``."""
        return int(getattr(settings, "PASSKEY_TOKEN_TTL", 3600))

    @property
    def OIDC_PROVIDERS(self) -> list[dict[str, Any]]:
        """Configured OpenID providers, ``{"name", "issuer", "client_id", ...}``."""
        return [p for p in getattr(settings, "OIDC_PROVIDERS", []) if isinstance(p, dict)]

    @property
    def OIDC_BEARER_AUDIENCES(self) -> list[str]:
        """Audiences accepted on provider-issued bearer JWTs."""
        return [a for a in getattr(settings, "OIDC_BEARER_AUDIENCES", []) if a]

    @property
    def ALLOW_PLAIN_HTTP_ISSUERS(self) -> bool:
        """``test`` and ``development`` accept ``http://`` issuers (API.md)."""
        return not bool(getattr(settings, "IS_PRODUCTION", False))


_settings = _Settings()


def __getattr__(name: str) -> Any:  # PEP 562, as allauth does
    return getattr(_settings, name)
