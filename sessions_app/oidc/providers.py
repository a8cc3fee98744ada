"""The OpenID providers of ``OIDC_PROVIDERS``, read at call time (tests override the setting)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sessions_app import app_settings
from sessions_app.exceptions import UnknownProvider

DEFAULT_SCOPES = "openid email profile"


@dataclass(frozen=True)
class Provider:
    """One configured provider: ``{"name", "issuer", "client_id", "client_secret", "scopes"}``."""

    name: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: str = DEFAULT_SCOPES


def _scopes(value: object) -> str:
    if isinstance(value, list | tuple):
        words = [str(word) for word in value]
    else:
        words = str(value or DEFAULT_SCOPES).replace(",", " ").split()
    if "openid" not in words:
        words.insert(0, "openid")  # OIDC Core §3.1.2.1: "openid" scope value MUST be present
    return " ".join(words)


def _issuer_allowed(issuer: str) -> bool:
    parts = urlsplit(issuer)
    if parts.scheme == "https":
        return bool(parts.netloc)
    return parts.scheme == "http" and bool(parts.netloc) and app_settings.ALLOW_PLAIN_HTTP_ISSUERS


def configured_providers() -> list[Provider]:
    """Every well-formed provider; ``http://`` issuers only outside production."""
    providers = []
    for entry in app_settings.OIDC_PROVIDERS:
        # Kept exactly as configured: some issuers end with "/" (Auth0) and ``iss`` must match
        # the issuer identifier exactly (OIDC Core §3.1.3.7 step 2).
        issuer = str(entry.get("issuer", ""))
        name = str(entry.get("name", ""))
        client_id = str(entry.get("client_id", ""))
        if not name or not client_id or not _issuer_allowed(issuer):
            continue
        providers.append(
            Provider(
                name=name,
                issuer=issuer,
                client_id=client_id,
                client_secret=str(entry.get("client_secret", "")),
                scopes=_scopes(entry.get("scopes")),
            )
        )
    return providers


def provider_by_name(name: str) -> Provider:
    """Raises UnknownProvider (400) for a name not in OIDC_PROVIDERS."""
    for provider in configured_providers():
        if provider.name == name:
            return provider
    raise UnknownProvider()


def provider_by_issuer(issuer: str) -> Provider | None:
    """The provider whose issuer is exactly ``issuer`` (OIDC Core §3.1.3.7 step 2), or None."""
    for provider in configured_providers():
        if issuer and provider.issuer == issuer:
            return provider
    return None
