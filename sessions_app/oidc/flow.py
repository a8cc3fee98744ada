"""The OpenID Connect authorization-code flow with PKCE, as a Backend-for-Frontend.

OIDC Core §3.1 and RFC 9700 (OAuth 2.0 Security BCP) §2.1.1: ``state`` against CSRF on the
callback, ``nonce`` against ID-token replay, PKCE S256 (RFC 7636) against code interception;
all three are random per attempt and kept server-side in a pending login ("auth session") under
``auth:`` for 10 minutes, consumed atomically (GETDEL) before the code is exchanged, so a
replayed callback finds nothing. The browser only ever holds two opaque cookies.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import requests
import structlog
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from django.http import HttpRequest, QueryDict

from authcore.audit import record_event
from authcore.store import shared_store
from sessions_app import app_settings
from sessions_app.exceptions import (
    InvalidIdToken,
    LoginFailed,
    ProviderError,
    ProviderUnavailable,
)
from sessions_app.fingerprint import client_fingerprint, fingerprint_matches
from sessions_app.internal.session_store import AUTH_PREFIX, key_hash, new_session_id
from sessions_app.oidc.discovery import HTTP_TIMEOUT, provider_metadata
from sessions_app.oidc.jwt_verification import verify_id_token
from sessions_app.oidc.providers import Provider, provider_by_name
from sessions_app.oidc.provisioning import provision_user
from sessions_app.redirects import safe_next_path

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class LoginStart:
    """Where to send the browser, and the pending login's id for the ``auth_session_id`` cookie."""

    authorization_url: str
    auth_session_id: str = field(repr=False)


@dataclass(frozen=True)
class LoginResult:
    """A completed sign-in: the provisioned user, where to go next, and through which provider."""

    user: Any
    next_path: str
    provider: Provider


def callback_url() -> str:
    return app_settings.API_BASE_URL.rstrip("/") + "/auth/web/callback"


def _client(provider: Provider) -> OAuth2Session:
    return OAuth2Session(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        scope=provider.scopes,
        redirect_uri=callback_url(),
        code_challenge_method="S256",
    )


def start_login(*, request: HttpRequest, provider_name: str, next_path: object) -> LoginStart:
    """Begin a sign-in with ``provider_name``; ``next_path`` is checked (falls back to ``/``).

    Raises:
        UnknownProvider: no such provider in OIDC_PROVIDERS (400).
        ProviderUnavailable: its discovery document cannot be fetched (502).
    """
    provider = provider_by_name(provider_name)
    metadata = provider_metadata(provider)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    code_verifier = secrets.token_urlsafe(64)  # RFC 7636 §4.1: 43..128 characters
    with _client(provider) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"],
            state=state,
            nonce=nonce,
            code_verifier=code_verifier,
        )
    auth_session_id = new_session_id()
    pending = {
        "provider": provider.name,
        "state": state,
        "nonce": nonce,
        "verifier": code_verifier,
        "fp": client_fingerprint(request),
        "next": safe_next_path(next_path),
    }
    shared_store().set(
        AUTH_PREFIX + key_hash(auth_session_id),
        json.dumps(pending),
        app_settings.AUTH_SESSION_TTL,
        only_new=True,
    )
    return LoginStart(authorization_url=url, auth_session_id=auth_session_id)


def _consume_pending(auth_session_id: str | None) -> dict[str, Any]:
    if not auth_session_id or len(auth_session_id) > 128:
        raise LoginFailed()
    raw = shared_store().pop(AUTH_PREFIX + key_hash(auth_session_id))
    if raw is None:
        raise LoginFailed()  # unknown, expired, or already used (replayed callback)
    try:
        pending: dict[str, Any] = json.loads(raw)
    except ValueError as error:
        raise LoginFailed() from error
    return pending


def _refuse(reason: str, provider_name: str) -> LoginFailed:
    record_event(
        "signin.oidc",
        outcome="failure",
        detail={"reason": reason, "provider": provider_name},
    )
    return LoginFailed()


def _exchange_code(
    provider: Provider, metadata: dict[str, Any], *, code: str, verifier: str
) -> dict[str, Any]:
    """RFC 6749 §4.1.3 with the PKCE verifier; client authentication as the client is set up."""
    with _client(provider) as client:
        try:
            token = client.fetch_token(
                metadata["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
                timeout=HTTP_TIMEOUT,
            )
        except requests.RequestException as error:
            logger.warning("oidc_token_endpoint_unreachable", provider=provider.name)
            raise ProviderUnavailable() from error
        except AuthlibBaseError as error:  # an OAuth error response: invalid_grant, …
            logger.info("oidc_code_refused", provider=provider.name, error=error.error)
            raise LoginFailed() from error
        except (ValueError, TypeError, OverflowError, RecursionError) as error:
            # Not JSON (a proxy error page, a crashed provider; JSON nested deeper than Python
            # recurses), or a token response authlib cannot read (``expires_in`` that is no
            # number, or 1e400: infinity).
            logger.warning("oidc_token_response_invalid", provider=provider.name)
            raise ProviderUnavailable() from error
    token = dict(token)
    claims: dict[str, Any] = {}
    userinfo_endpoint = metadata.get("userinfo_endpoint")
    if isinstance(userinfo_endpoint, str):
        claims = _userinfo(userinfo_endpoint, token, provider)
    return {"token": token, "userinfo": claims}


def _userinfo(endpoint: str, token: dict[str, Any], provider: Provider) -> dict[str, Any]:
    """OIDC Core §5.3: optional profile claims; a failure only costs the profile.

    A plain GET with the access token (RFC 6750 §2.1), used at once: not through authlib's
    session, whose token hooks refuse a token that expires within its 60 s leeway and any
    ``token_type`` but Bearer by raising, and whose failures would not cost only the profile.
    """
    access_token = token.get("access_token")
    token_type = token.get("token_type")
    if not isinstance(access_token, str) or not access_token:
        return {}
    # RFC 6749 §7.1: a client MUST NOT use an access token whose type it does not understand
    # (a DPoP-bound token needs a proof we do not make); the ID token still signs the user in.
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        logger.info("oidc_userinfo_skipped", provider=provider.name, reason="token_type")
        return {}
    try:
        response = requests.get(
            endpoint,
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            timeout=HTTP_TIMEOUT,
            allow_redirects=False,
        )
        if response.status_code != 200:
            logger.warning(
                "oidc_userinfo_unavailable", provider=provider.name, status=response.status_code
            )
            return {}
        claims = response.json()
    except (requests.RequestException, ValueError, RecursionError) as error:
        logger.warning(
            "oidc_userinfo_unavailable", provider=provider.name, error=type(error).__name__
        )
        return {}
    return claims if isinstance(claims, dict) else {}


def complete_login(
    *, request: HttpRequest, params: QueryDict, auth_session_id: str | None
) -> LoginResult:
    """Finish the sign-in on ``/auth/web/callback``; returns the (JIT-provisioned) user.

    Raises:
        LoginFailed: no, used or expired pending login, wrong ``state``, ``iss`` or fingerprint,
            or the provider refused the code (400).
        ProviderError: the provider answered ``error=`` (400).
        InvalidIdToken: the ID token failed validation (400).
        ProviderUnavailable: the provider could not be reached (502).
    """
    pending = _consume_pending(auth_session_id)
    provider_name = str(pending.get("provider", ""))
    state = params.get("state") or ""
    if not hmac.compare_digest(state.encode(), str(pending.get("state", "")).encode()):
        raise _refuse("state_mismatch", provider_name)
    if not fingerprint_matches(request, str(pending.get("fp", ""))):
        raise _refuse("fingerprint_mismatch", provider_name)
    provider = provider_by_name(provider_name)
    if params.get("error"):
        record_event(
            "signin.oidc",
            outcome="failure",
            detail={"reason": "provider_error", "provider": provider.name},
        )
        raise ProviderError()
    # RFC 9207 §2.4: when the provider names itself, it must be the one we sent the user to.
    issuer = params.get("iss")
    if issuer is not None and issuer != provider.issuer:
        raise _refuse("issuer_mismatch", provider.name)
    code = params.get("code")
    if not code:
        raise _refuse("no_code", provider.name)
    metadata = provider_metadata(provider)
    exchanged = _exchange_code(provider, metadata, code=code, verifier=str(pending["verifier"]))
    raw_id_token = exchanged["token"].get("id_token")
    if not isinstance(raw_id_token, str):
        raise InvalidIdToken()
    claims = verify_id_token(raw_id_token, provider=provider, nonce=str(pending["nonce"]))
    userinfo = exchanged["userinfo"]
    if userinfo.get("sub") == claims["sub"]:  # OIDC Core §5.3.2: else MUST NOT be used
        claims = {**userinfo, **claims}
    user = provision_user(provider=provider, claims=claims)
    if not user.is_active:
        raise _refuse("user_inactive", provider.name)
    record_event("signin.oidc", actor=user, detail={"provider": provider.name})
    return LoginResult(user=user, next_path=str(pending.get("next") or "/"), provider=provider)
