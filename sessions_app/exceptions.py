"""Typed errors of browser sessions and OpenID Connect sign-in (API.md "Browser sessions")."""

from __future__ import annotations

from authcore.exceptions import AuthcoreError, AuthenticationFailed, NotFound, PermissionDenied


class NoSession(AuthenticationFailed):
    """Unknown, ended or expired session (API.md: 401 ``No session found``)."""

    code = "session_not_found"
    detail = "No session found"


class SessionNotFound(NotFound):
    """``DELETE /auth/web/sessions/{id}`` for an id that is not one of the caller's sessions."""

    code = "session_not_found"
    detail = "No such session."


class CsrfTokenMissing(PermissionDenied):
    code = "csrf_token_missing"
    detail = "Missing CSRF token header"


class CsrfTokenInvalid(PermissionDenied):
    code = "csrf_token_invalid"
    detail = "Invalid CSRF token"


class OriginNotAllowed(PermissionDenied):
    code = "origin_not_allowed"
    detail = "Origin not allowed"


class UnknownProvider(AuthcoreError):
    status_code = 400
    code = "unknown_provider"
    detail = "Unknown OpenID provider."


class LoginFailed(AuthcoreError):
    """The callback cannot complete a login: no, used or mismatched auth session, bad state."""

    status_code = 400
    code = "login_failed"
    detail = "The sign-in could not be completed; start again."


class ProviderError(AuthcoreError):
    """The provider refused the authorization (``error=`` on the callback)."""

    status_code = 400
    code = "provider_error"
    detail = "The OpenID provider refused the sign-in."


class ProviderUnavailable(AuthcoreError):
    """The provider could not be reached or answered nonsense (502, never a 500)."""

    status_code = 502
    code = "provider_unavailable"
    detail = "The OpenID provider is unavailable; try again later."


class InvalidIdToken(AuthcoreError):
    status_code = 400
    code = "invalid_id_token"
    detail = "The OpenID provider's ID token is invalid."


class InvalidProviderToken(AuthenticationFailed):
    """A provider-issued bearer JWT failed verification (RFC 6750 §3.1)."""

    code = "invalid_token"
    detail = "The bearer token is invalid."
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
