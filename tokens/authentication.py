"""DRF authentication: Authcore access tokens as ``Authorization: Bearer`` (RFC 6750 §2.1).

``request.user`` is a real ``User``; on the fast path it is built from the Redis snapshot
without a query (``tokens.internal.state_cache.user_from_snapshot``): ``id``, ``username``,
``email``, ``display_name``, ``email_verified``, ``is_active``, ``is_staff``, ``is_superuser``
are loaded, every other field is deferred (fetched on first access) and ``save()`` writes only
loaded fields. ``request.auth`` is the ``VerifiedToken``.

Every Bearer token that reaches this class is verified as ours: the sessions app's
provider-bearer authentication runs first (``DEFAULT_AUTHENTICATION_CLASSES``) and takes the
JWTs of configured OpenID providers, so a token neither class accepts is always 401
``invalid_token`` (one rule decides whose a token is, not two that could disagree).
"""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

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


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[object, VerifiedToken] | None:
        raw = bearer_credentials(request)
        if raw is None:
            return None
        if not raw:
            raise InvalidToken("malformed")
        verified = verify_token(raw)
        return verified.user, verified

    def authenticate_header(self, request: Request) -> str:
        """Makes DRF answer 401 (not 403) when credentials are missing."""
        return 'Bearer realm="authcore"'
