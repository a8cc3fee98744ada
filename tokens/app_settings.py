"""Settings of the tokens app, read from ``authcore.settings`` (STYLE §7)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings


class _Settings:
    @property
    def ISSUER(self) -> str:
        """``iss`` of every token: ``API_BASE_URL``."""
        return str(settings.API_BASE_URL).rstrip("/")

    @property
    def AUDIENCE(self) -> str:
        """``aud`` of every token: ``APP_ID``."""
        return str(settings.APP_ID)

    @property
    def JWT_SECRET(self) -> str:
        """Key-encryption secret: signing keys are sealed with a key derived from it."""
        return str(settings.JWT_SECRET)

    @property
    def ROTATION_PERIOD(self) -> timedelta:
        """How long a key signs before the next one takes over."""
        return timedelta(hours=float(settings.JWT_KEY_ROTATION_HOURS))

    @property
    def KEY_TTL(self) -> timedelta:
        """Minimum time a key stays published."""
        return timedelta(hours=float(settings.JWT_KEY_TTL_HOURS))

    @property
    def PUBLISH_AHEAD(self) -> timedelta:
        """How long a new key is published before it signs."""
        return timedelta(minutes=float(settings.JWT_KEY_PUBLISH_AHEAD_MINUTES))

    @property
    def TOKEN_DEFAULT_TTL(self) -> int:
        """Seconds a token lives when the caller asks for nothing else."""
        return int(settings.TOKEN_DEFAULT_TTL)

    @property
    def TOKEN_MAX_TTL(self) -> int:
        """Upper bound of any token's lifetime in seconds."""
        return int(settings.TOKEN_MAX_TTL)

    @property
    def KEY_SIZE(self) -> int:
        """RSA modulus size in bits (RFC 7518 §3.3: 2048 or larger)."""
        return int(getattr(settings, "TOKENS_RSA_KEY_SIZE", 2048))

    @property
    def LEEWAY(self) -> int:
        """Seconds of clock skew tolerated on exp/nbf/iat (RFC 7519 §4.1.4)."""
        return int(getattr(settings, "TOKENS_LEEWAY_SECONDS", 10))

    @property
    def JWKS_MAX_AGE(self) -> int:
        """``Cache-Control: max-age`` of the JWKS: below the publish-ahead time, at most 5 min."""
        ahead = int(self.PUBLISH_AHEAD.total_seconds())
        return max(0, min(300, ahead // 2))


_settings = _Settings()


def __getattr__(name: str) -> Any:  # PEP 562, as allauth does
    return getattr(_settings, name)
