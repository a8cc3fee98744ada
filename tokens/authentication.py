"""DRF authentication: Authcore access tokens as ``Authorization: Bearer`` (RFC 6750 §2.1).

``request.user`` is a real ``User``; on the fast path it is built from the Redis snapshot
without a query (``tokens.internal.state_cache.user_from_snapshot``): ``id``, ``username``,
``email``, ``display_name``, ``email_verified``, ``is_active``, ``is_staff``, ``is_superuser``
are loaded, every other field is deferred (fetched on first access) and ``save()`` writes only
loaded fields. ``request.auth`` is the ``VerifiedToken``.

A JWT whose (unverified) ``iss`` is a configured OpenID provider's is not ours: this class
returns None and lets the sessions app's provider-bearer authentication decide.
"""

from __future__ import annotations

import jwt
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from tokens import app_settings
from tokens.exceptions import InvalidToken
from tokens.internal.verification import VerifiedToken
from tokens.services import verify_token


def bearer_credentials(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, None for another scheme."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip()


def _issued_by_provider(raw: str) -> bool:
    issuers = app_settings.OIDC_ISSUERS
    if not issuers:
        return False
    try:
        # Only to route the token: nothing here is trusted.
        issuer = jwt.decode(raw, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return False
    return isinstance(issuer, str) and issuer.rstrip("/") in issuers


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[object, VerifiedToken] | None:
        raw = bearer_credentials(request)
        if raw is None:
            return None
        if not raw:
            raise InvalidToken("malformed")
        if _issued_by_provider(raw):
            return None
        verified = verify_token(raw)
        return verified.user, verified

    def authenticate_header(self, request: Request) -> str:
        """Makes DRF answer 401 (not 403) when credentials are missing."""
        return 'Bearer realm="authcore"'
