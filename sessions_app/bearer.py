"""``ProviderBearerAuthentication``: provider-issued JWTs as ``Authorization: Bearer``.

API.md: "A JWT that a configured provider issued to an audience in OIDC_BEARER_AUDIENCES (ID
tokens included) is accepted". Authcore's own tokens and provider tokens are told apart by the
unverified ``iss`` (it only picks the verifier; every claim is then verified): a token whose
``iss`` is not a configured provider's issuer is not this scheme (None), so
``tokens.authentication.BearerTokenAuthentication`` stays the one judge of Authcore tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from authcore.metrics import AUTH_FAILURES
from sessions_app import app_settings
from sessions_app.exceptions import InvalidProviderToken
from sessions_app.oidc.jwt_verification import TokenRejected, unverified_issuer, verify_provider_jwt
from sessions_app.oidc.providers import Provider, configured_providers, provider_by_issuer
from sessions_app.oidc.provisioning import provision_user
from tokens.selectors import token_issuer


@dataclass(frozen=True)
class ProviderToken:
    """``request.auth`` of a provider bearer JWT: the provider and the verified claims."""

    provider: Provider
    claims: dict[str, Any] = field(repr=False)

    @property
    def client_id(self) -> None:
        return None  # not issued to an Authcore client


def bearer_audiences() -> list[str]:
    """OIDC_BEARER_AUDIENCES, defaulting to every provider's client_id (API.md)."""
    return app_settings.OIDC_BEARER_AUDIENCES or [p.client_id for p in configured_providers()]


class ProviderBearerAuthentication(BaseAuthentication):
    """Bearer JWTs of configured OpenID providers; ``request.auth`` is a ``ProviderToken``."""

    def authenticate(self, request: Request) -> tuple[Any, ProviderToken] | None:
        if not app_settings.OIDC_PROVIDERS:
            return None  # first in line for every request: nothing to do without providers
        scheme, _, raw = get_authorization_header(request).decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            return None
        raw = raw.strip()
        issuer = unverified_issuer(raw)
        if not issuer or issuer == token_issuer():
            return None  # Authcore's own (or no issuer): the tokens app's class decides
        provider = provider_by_issuer(issuer)
        if provider is None:
            return None  # not a provider token: Authcore's own Bearer class decides
        try:
            claims = verify_provider_jwt(raw, provider=provider, audiences=bearer_audiences())
        except TokenRejected as error:
            AUTH_FAILURES.labels(reason="provider_token").inc()
            raise InvalidProviderToken() from error
        user = provision_user(provider=provider, claims=claims, touch=False)
        if not user.is_active:
            raise InvalidProviderToken()
        return user, ProviderToken(provider=provider, claims=claims)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="authcore"'
