"""DRF authentication classes of the sessions app.

``SessionCookieAuthentication``: the ``user_session_id`` cookie (API.md "Browser sessions").
Every request checks the client fingerprint; every state-changing request also needs a valid
``X-CSRF-Token`` and an allowed ``Origin``/``Referer`` (``sessions_app.csrf``), whatever the
environment.
"""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from authcore.metrics import AUTH_FAILURES
from sessions_app import app_settings
from sessions_app.csrf import enforce_csrf
from sessions_app.exceptions import NoSession
from sessions_app.fingerprint import fingerprint_matches
from sessions_app.internal.session_store import UserSession, drop_session
from sessions_app.selectors import session_by_id, session_row
from sessions_app.services import end_session


class SessionCookieAuthentication(BaseAuthentication):
    """Cookie -> session -> user; ``request.auth`` is the ``UserSession``.

    Returns None (not this scheme) without a cookie or for an unknown, ended or expired
    session, so a stale cookie never blocks anonymous endpoints. Raises:
        NoSession (401): the fingerprint changed; the session is ended and audited.
        CsrfTokenMissing / CsrfTokenInvalid / OriginNotAllowed (403): unsafe method without
            a valid CSRF token for this session and an allowed origin.
    """

    def authenticate(self, request: Request) -> tuple[Any, UserSession] | None:
        session_id = request.COOKIES.get(app_settings.SESSION_COOKIE)
        if not session_id:
            return None
        session = session_by_id(session_id)
        if session is None:
            return None
        http_request = request._request
        if not fingerprint_matches(http_request, session.fingerprint):
            AUTH_FAILURES.labels(reason="session_fingerprint").inc()
            end_session(
                key_hash=session.key_hash,
                actor=("user", session.user_id),
                reason="fingerprint_mismatch",
            )
            raise NoSession()
        row = session_row(key_hash=session.key_hash)
        if row is None:  # ended by staff, user deleted or deactivated
            drop_session(session.key_hash)
            return None
        try:
            enforce_csrf(
                http_request, session_id=session.session_id, csrf_secret=session.csrf_secret
            )
        except Exception:
            AUTH_FAILURES.labels(reason="csrf").inc()
            raise
        return row.user, session

    def authenticate_header(self, request: Request) -> str:
        return 'Cookie realm="authcore"'


# Provider-issued bearer JWTs (registered in REST_FRAMEWORK before Authcore's Bearer class).
from sessions_app.bearer import ProviderBearerAuthentication, ProviderToken  # noqa: E402

__all__ = ["ProviderBearerAuthentication", "ProviderToken", "SessionCookieAuthentication"]
