"""DRF authentication:
Authcore access tokens as Authorization: Bearer (issue 4).

Placeholder until that work lands: authenticates nobody.
"""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> None:
        return None
