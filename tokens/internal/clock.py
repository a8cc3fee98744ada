"""The tokens app's clock. Tests move time by patching ``_now`` (as Django's
``PasswordResetTokenGenerator._now`` does); code calls ``clock.now()``."""

from __future__ import annotations

from datetime import UTC, datetime


def _now() -> datetime:
    return datetime.now(tz=UTC)


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _now()
