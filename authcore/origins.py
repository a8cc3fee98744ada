"""The web origins Authcore trusts with credentials: ``CORS_ALLOWED_ORIGINS``, which always holds
Authcore's own ``API_ORIGIN`` (settings.py adds it).

One set for the two checks that refuse a state-changing request from elsewhere: the master
credentials' (``clients.authentication``: a browser that cached the Basic credentials) and the
session cookie's CSRF check (``sessions_app.csrf``). Each keeps its own rule for a request that
names no origin at all (a server may; a browser session may not).
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings


def normalised_origin(origin: str) -> str:
    """``origin`` as the set holds it: no surrounding space, no trailing slash, lower case."""
    return origin.strip().rstrip("/").lower()


@lru_cache(maxsize=4)
def _allowed(configured: tuple[str, ...], own: str) -> frozenset[str]:
    return frozenset(normalised_origin(origin) for origin in (*configured, own))


def allowed_origins() -> frozenset[str]:
    """Origins that may send credentialed state-changing requests (read from the settings on
    each call, so ``override_settings`` in tests and a reload are seen)."""
    return _allowed(tuple(str(o) for o in settings.CORS_ALLOWED_ORIGINS), str(settings.API_ORIGIN))


def is_allowed_origin(origin: str) -> bool:
    """``origin`` (an ``Origin`` header's value, or the origin of a ``Referer``) is trusted."""
    return normalised_origin(origin) in allowed_origins()
