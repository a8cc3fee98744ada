"""Settings of the passkeys app, read through one typed object (STYLE §7).

from passkeys import app_settings
app_settings.RP_ID
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_USER_VERIFICATION_CHOICES = ("required", "preferred", "discouraged")


class _Settings:
    @property
    def RP_ID(self) -> str:
        """WebAuthn relying-party ID (``API_RP_ID``, by default the host of ``API_BASE_URL``)."""
        return str(settings.API_RP_ID)

    @property
    def RP_NAME(self) -> str:
        """Name the browser shows in its passkey dialog."""
        return str(getattr(settings, "PASSKEY_RP_NAME", "Authcore"))

    @property
    def EXPECTED_ORIGIN(self) -> str:
        """The one origin ``clientDataJSON`` may name: ``API_ORIGIN`` (from ``API_BASE_URL``)."""
        return str(settings.API_ORIGIN)

    @property
    def BASE_URL(self) -> str:
        """Public origin used to build the absolute sign-in link of the email fallback."""
        return str(settings.API_BASE_URL).rstrip("/")

    @property
    def TOKEN_TTL(self) -> int:
        """Seconds a token from a passkey or email sign-in lives (``PASSKEY_TOKEN_TTL``)."""
        return int(getattr(settings, "PASSKEY_TOKEN_TTL", 3600))

    @property
    def USER_VERIFICATION(self) -> str:
        """``PASSKEY_USER_VERIFICATION``: ``required`` (default) rejects any ceremony whose
        authenticator data lacks the UV flag (WebAuthn L3 §7.1 step 15, §7.2 step 17);
        ``preferred`` or ``discouraged`` only ask for it."""
        value = str(getattr(settings, "PASSKEY_USER_VERIFICATION", "required"))
        if value not in _USER_VERIFICATION_CHOICES:
            raise ImproperlyConfigured(
                f"PASSKEY_USER_VERIFICATION must be one of {_USER_VERIFICATION_CHOICES}"
            )
        return value

    @property
    def REQUIRE_USER_VERIFICATION(self) -> bool:
        return self.USER_VERIFICATION == "required"

    @property
    def CHALLENGE_TTL(self) -> int:
        """Seconds a ceremony challenge stays usable (API.md: 5 minutes)."""
        return int(getattr(settings, "PASSKEY_CHALLENGE_TTL", 300))

    @property
    def CEREMONY_TIMEOUT_MS(self) -> int:
        """The ``timeout`` hint given to the browser, in milliseconds."""
        return self.CHALLENGE_TTL * 1000

    @property
    def EMAIL_CODE_TTL(self) -> int:
        """Seconds an email code and link stay valid (API.md: 10 minutes)."""
        return int(getattr(settings, "PASSKEY_EMAIL_CODE_TTL", 600))

    @property
    def EMAIL_CODE_MAX_ATTEMPTS(self) -> int:
        """Wrong codes after which a code is void (API.md: 5)."""
        return int(getattr(settings, "PASSKEY_EMAIL_CODE_MAX_ATTEMPTS", 5))

    @property
    def DEFAULT_FROM_EMAIL(self) -> str:
        return str(settings.DEFAULT_FROM_EMAIL)


_settings = _Settings()


def __getattr__(name: str) -> Any:  # PEP 562, as allauth does
    return getattr(_settings, name)
