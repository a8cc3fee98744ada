"""Provider signing keys (RFC 7517 JWK Sets) cached per provider in the shared store.

The set is reused for ``JWKS_TTL`` seconds. A token naming an unknown ``kid`` (the provider
rotated its keys) forces one refetch, at most once per ``FORCED_REFRESH_INTERVAL`` per provider
across all instances, so tokens with garbage ``kid`` values cannot make us hammer the provider.
"""

from __future__ import annotations

import json
from typing import Any

import structlog

from authcore.store import shared_store
from sessions_app.exceptions import ProviderUnavailable
from sessions_app.oidc.discovery import fetch_json, issuer_key, provider_metadata
from sessions_app.oidc.providers import Provider

logger = structlog.get_logger(__name__)

JWKS_TTL = 3600
FORCED_REFRESH_INTERVAL = 30


def _cache_key(provider: Provider) -> str:
    return f"oidc:jwks:{issuer_key(provider.issuer)}"


def _fetch_keys(provider: Provider) -> list[dict[str, Any]]:
    url = str(provider_metadata(provider)["jwks_uri"])
    document = fetch_json(url, provider=provider, what="jwks")
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise ProviderUnavailable()
    public = [key for key in keys if isinstance(key, dict) and key.get("use", "sig") == "sig"]
    shared_store().set(_cache_key(provider), json.dumps(public), JWKS_TTL)
    return public


def _cached_keys(provider: Provider) -> list[dict[str, Any]] | None:
    raw = shared_store().get(_cache_key(provider))
    if raw is None:
        return None
    try:
        keys = json.loads(raw)
    except ValueError:
        return None
    return keys if isinstance(keys, list) else None


def _find(keys: list[dict[str, Any]], kid: str | None) -> dict[str, Any] | None:
    if kid is None:
        # RFC 7515 §4.1.4: without "kid" the key must be otherwise determinable: only if the
        # set holds exactly one key.
        return keys[0] if len(keys) == 1 else None
    return next((key for key in keys if key.get("kid") == kid), None)


def provider_signing_key(provider: Provider, *, kid: str | None) -> dict[str, Any] | None:
    """The provider's public JWK named ``kid``, or None if it has none.

    Raises:
        ProviderUnavailable: the key set could not be fetched at all.
    """
    keys = _cached_keys(provider)
    if keys is None:
        return _find(_fetch_keys(provider), kid)
    found = _find(keys, kid)
    if found is not None:
        return found
    refresh_lock = f"oidc:jwks-refresh:{issuer_key(provider.issuer)}"
    if not shared_store().set(refresh_lock, 1, FORCED_REFRESH_INTERVAL, only_new=True):
        return None  # refreshed moments ago: an unknown kid stays unknown
    logger.info("oidc_jwks_forced_refresh", provider=provider.name)
    return _find(_fetch_keys(provider), kid)
