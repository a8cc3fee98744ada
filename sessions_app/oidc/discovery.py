"""Provider metadata from OpenID Connect Discovery 1.0, cached in the shared store.

https://openid.net/specs/openid-connect-discovery-1_0.html §4: the document lives at
``<issuer>/.well-known/openid-configuration``; §4.3: its ``issuer`` MUST be identical to the
issuer it was fetched for, else it MUST NOT be used.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

import requests
import structlog

from authcore.store import shared_store
from sessions_app import app_settings
from sessions_app.exceptions import ProviderUnavailable
from sessions_app.oidc.providers import Provider

logger = structlog.get_logger(__name__)

#: Seconds a discovery document is reused before it is fetched again.
DISCOVERY_TTL = 3600
#: Seconds any call to a provider may take (connect, read).
HTTP_TIMEOUT = (3.05, 10)
_REQUIRED = ("authorization_endpoint", "token_endpoint", "jwks_uri")


def issuer_key(issuer: str) -> str:
    """A short store-key component for an issuer URL."""
    return hashlib.sha256(issuer.encode()).hexdigest()[:32]


def _endpoint_allowed(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.netloc)
    return parts.scheme == "http" and bool(parts.netloc) and app_settings.ALLOW_PLAIN_HTTP_ISSUERS


def fetch_json(url: str, *, provider: Provider, what: str) -> dict[str, Any]:
    """GET a JSON object from the provider; any failure is ProviderUnavailable (502)."""
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError, RecursionError) as error:
        # RecursionError: JSON nested deeper than Python's parser recurses.
        logger.warning(
            "oidc_provider_unreachable",
            provider=provider.name,
            what=what,
            error=type(error).__name__,
        )
        raise ProviderUnavailable() from error
    if not isinstance(document, dict):
        raise ProviderUnavailable()
    return document


def provider_metadata(provider: Provider) -> dict[str, Any]:
    """The provider's discovery document (cached ``DISCOVERY_TTL`` seconds).

    Raises:
        ProviderUnavailable: unreachable, not JSON, wrong ``issuer`` or missing endpoints.
    """
    store = shared_store()
    cache_key = f"oidc:discovery:{issuer_key(provider.issuer)}"
    cached = store.get(cache_key)
    if cached is not None:
        try:
            document: dict[str, Any] = json.loads(cached)
            return document
        except ValueError:
            pass
    url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
    document = fetch_json(url, provider=provider, what="discovery")
    if document.get("issuer") != provider.issuer:
        logger.warning("oidc_discovery_issuer_mismatch", provider=provider.name)
        raise ProviderUnavailable()
    for name in _REQUIRED:
        if not isinstance(document.get(name), str) or not _endpoint_allowed(document[name]):
            logger.warning("oidc_discovery_endpoint_invalid", provider=provider.name, field=name)
            raise ProviderUnavailable()
    store.set(cache_key, json.dumps(document), DISCOVERY_TTL)
    return document
