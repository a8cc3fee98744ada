"""CSRF tokens and the Origin check for state-changing requests made with a session cookie.

Token: ``<timestamp>:<base64url HMAC-SHA256>`` where the MAC, keyed with ``CSRF_SIGNING_SECRET``,
covers ``<session id>:<per-session CSRF secret>:<timestamp>``. It is bound to one session id (a
refreshed or ended session kills it), valid for ``CSRF_MAX_AGE`` (12 h) and compared in constant
time. Together with an ``Origin`` (or ``Referer``) in the allowed origins it forms the double
check of OWASP's CSRF cheat sheet ("Signed double-submit" + "Verifying origin with standard
headers"). Neither check is ever switched off by the environment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import urlsplit

from django.http import HttpRequest

from authcore.origins import is_allowed_origin
from sessions_app import app_settings
from sessions_app.exceptions import CsrfTokenInvalid, CsrfTokenMissing, OriginNotAllowed

# RFC 9110 §9.2.1: these methods are safe; everything else changes state.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# A token dated this far in the future (clock skew between instances) is still accepted.
FUTURE_SKEW = 60


def _now() -> int:
    return int(time.time())


def _mac(session_id: str, csrf_secret: str, timestamp: int) -> str:
    message = f"{session_id}:{csrf_secret}:{timestamp}".encode()
    key = app_settings.CSRF_SIGNING_SECRET.encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_csrf_token(*, session_id: str, csrf_secret: str, issued_at: int | None = None) -> str:
    """A CSRF token for the session ``session_id`` (the raw cookie value)."""
    timestamp = _now() if issued_at is None else issued_at
    return f"{timestamp}:{_mac(session_id, csrf_secret, timestamp)}"


def csrf_token_valid(*, token: str, session_id: str, csrf_secret: str) -> bool:
    """True if ``token`` was made for this session, is not older than 12 h, and not forged."""
    timestamp_text, separator, presented = token.partition(":")
    if not separator or not timestamp_text.isascii() or not timestamp_text.isdigit():
        return False
    if len(timestamp_text) > 12:
        return False
    timestamp = int(timestamp_text)
    expected = _mac(session_id, csrf_secret, timestamp)
    mac_ok = hmac.compare_digest(expected.encode(), presented.encode("utf-8", "replace"))
    age = _now() - timestamp
    return mac_ok and -FUTURE_SKEW <= age <= app_settings.CSRF_MAX_AGE


def request_origin(request: HttpRequest) -> str | None:
    """The request's ``Origin``, else the origin of its ``Referer``, else None."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin:
        return origin.strip().rstrip("/")
    referer = request.META.get("HTTP_REFERER")
    if referer:
        try:
            parts = urlsplit(referer.strip())
        except ValueError:
            return ""
        if parts.scheme and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}".lower()
        return ""
    return None


def origin_allowed(request: HttpRequest) -> bool:
    """``Origin`` (or ``Referer``) is one of the allowed origins; absent both is a refusal."""
    origin = request_origin(request)
    if not origin or origin == "null":
        return False
    return is_allowed_origin(origin)


def enforce_csrf(request: HttpRequest, *, session_id: str, csrf_secret: str) -> None:
    """Refuse a state-changing request without a valid token and an allowed origin.

    Raises:
        CsrfTokenMissing: no ``X-CSRF-Token`` header.
        CsrfTokenInvalid: the token is forged, expired or made for another session.
        OriginNotAllowed: ``Origin``/``Referer`` absent or not allowed.
    """
    if request.method in SAFE_METHODS:
        return
    token = request.META.get(app_settings.CSRF_HEADER, "")
    if not token:
        raise CsrfTokenMissing()
    if not csrf_token_valid(token=token, session_id=session_id, csrf_secret=csrf_secret):
        raise CsrfTokenInvalid()
    if not origin_allowed(request):
        raise OriginNotAllowed()
