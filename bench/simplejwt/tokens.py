"""An access token that checks the blacklist on every verification (one DB query)."""

from __future__ import annotations

from rest_framework_simplejwt.tokens import AccessToken, BlacklistMixin


class BlacklistCheckedAccessToken(BlacklistMixin["BlacklistCheckedAccessToken"], AccessToken):
    """simplejwt's ``BlacklistMixin.verify`` queries ``BlacklistedToken`` by ``jti``."""
