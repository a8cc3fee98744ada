"""Settings of the clients app, read through one typed object (STYLE §7, as allauth does).

The contract variables (``MASTER_USERNAME``, ``MASTER_PASSWORD``, ``CLIENT_API_KEY``,
``TOKEN_DEFAULT_TTL``, ``TOKEN_MAX_TTL``) come from ``authcore.settings``. The brute-force
thresholds (``CLIENTS_LOCKOUT_*``) are read by ``authcore.lockout``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:  # what ``__getattr__`` serves, typed for mypy
    MASTER_USERNAME: str
    MASTER_PASSWORD: str
    CLIENT_API_KEY: str
    TOKEN_DEFAULT_TTL: int
    TOKEN_MAX_TTL: int


class _Settings:
    @property
    def MASTER_USERNAME(self) -> str:
        """Username of the master credentials; empty disables client creation."""
        return str(getattr(settings, "MASTER_USERNAME", "") or "")

    @property
    def MASTER_PASSWORD(self) -> str:
        """Password of the master credentials; empty disables client creation."""
        return str(getattr(settings, "MASTER_PASSWORD", "") or "")

    @property
    def CLIENT_API_KEY(self) -> str:
        """API key used by ``POST /api/tokens`` when no ``x-api-key`` header is sent."""
        return str(getattr(settings, "CLIENT_API_KEY", "") or "")

    @property
    def TOKEN_DEFAULT_TTL(self) -> int:
        """Seconds a client-service token lives when the caller asks for nothing else."""
        return int(getattr(settings, "TOKEN_DEFAULT_TTL", 2_592_000))

    @property
    def TOKEN_MAX_TTL(self) -> int:
        """Largest ``expires_in`` a caller may ask for."""
        return int(getattr(settings, "TOKEN_MAX_TTL", 7_776_000))


_settings = _Settings()


def __getattr__(name: str) -> object:  # PEP 562, as allauth does
    return getattr(_settings, name)
