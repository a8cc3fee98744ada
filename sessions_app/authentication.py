"""DRF authentication:
the user_session_id browser-session cookie, with CSRF on unsafe methods (issue 7).

Placeholder until that work lands: authenticates nobody.
"""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request


class SessionCookieAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> None:
        return None
