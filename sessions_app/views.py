"""Browser-session endpoints under ``/auth/web/`` (API.md "Browser sessions (OIDC BFF)").

Each view parses input, calls one service or selector, and serializes the result.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sessions_app.authentication import SessionCookieAuthentication
from sessions_app.csrf import make_csrf_token
from sessions_app.exceptions import NoSession
from sessions_app.internal.session_store import UserSession
from sessions_app.services import clear_session_cookies, end_session, refresh_session


def user_json(user: Any) -> dict[str, Any]:
    """The contract's user shape ``{"id", "username", "display_name", "email"}``."""
    return {
        "id": str(user.pk),
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
    }


def _csrf_token(session: UserSession) -> str:
    return make_csrf_token(session_id=session.session_id, csrf_secret=session.csrf_secret)


class SessionView(APIView):
    """Base: authenticated by the session cookie only; no session is 401 ``No session found``."""

    authentication_classes = [SessionCookieAuthentication]
    permission_classes: list[Any] = []

    def session(self, request: Request) -> tuple[Any, UserSession]:
        if request.user is None or not isinstance(request.auth, UserSession):
            raise NoSession()
        return request.user, request.auth


class MeView(SessionView):
    """``GET /auth/web/me``: who is signed in, and a CSRF token for state-changing calls."""

    def get(self, request: Request) -> Response:
        user, session = self.session(request)
        return Response(
            {
                "authenticated": True,
                "user": user_json(user),
                "csrf_token": _csrf_token(session),
                "expires_at": session.expires_at.isoformat(),
            }
        )


class LogoutView(SessionView):
    """``POST /auth/web/logout``: ends the session and clears the cookies (204)."""

    def post(self, request: Request) -> Response:
        user, session = self.session(request)
        end_session(key_hash=session.key_hash, actor=user, reason="logout")
        response = Response(status=204)
        clear_session_cookies(response)
        return response


class RefreshView(SessionView):
    """``POST /auth/web/refresh``: new session id and CSRF token; the old ones are dead."""

    def post(self, request: Request) -> Response:
        _, session = self.session(request)
        response = Response()
        fresh = refresh_session(request=request, response=response, session=session)
        response.data = {
            "csrf_token": _csrf_token(fresh),
            "expires_at": fresh.expires_at.isoformat(),
        }
        return response
