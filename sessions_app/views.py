"""Browser-session endpoints under ``/auth/web/`` (API.md "Browser sessions (OIDC BFF)").

Each view parses input, calls one service or selector, and serializes the result.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseRedirect
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sessions_app import app_settings
from sessions_app.authentication import SessionCookieAuthentication
from sessions_app.csrf import make_csrf_token
from sessions_app.exceptions import NoSession, SessionNotFound, UnknownProvider
from sessions_app.internal.session_store import UserSession
from sessions_app.models import BrowserSession
from sessions_app.selectors import session_of_user, sessions_of_user
from sessions_app.services import (
    clear_session_cookies,
    complete_login,
    end_session,
    open_session,
    refresh_session,
    start_login,
)


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


class LoginView(APIView):
    """``GET /auth/web/login?provider=NAME&next=/path``: 302 to the provider."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get(self, request: Request) -> HttpResponseRedirect:
        provider = request.query_params.get("provider")
        if not provider:
            raise UnknownProvider("Name an OpenID provider: ?provider=NAME.")
        start = start_login(
            request=request._request,
            provider_name=provider,
            next_path=request.query_params.get("next", "/"),
        )
        response = HttpResponseRedirect(start.authorization_url)
        response.set_cookie(
            app_settings.AUTH_COOKIE,
            start.auth_session_id,
            max_age=app_settings.AUTH_SESSION_TTL,
            path="/",
            secure=app_settings.COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
        return response


class CallbackView(APIView):
    """``GET /auth/web/callback?code&state``: opens the session, 302 to ``next``."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get(self, request: Request) -> HttpResponseRedirect:
        result = complete_login(
            request=request._request,
            params=request.query_params,
            auth_session_id=request.COOKIES.get(app_settings.AUTH_COOKIE),
        )
        response = HttpResponseRedirect(result.next_path)
        # Ends the session this browser still holds, if any (a new sign-in replaces it).
        open_session(
            request=request,
            response=response,
            user=result.user,
            method=f"oidc:{result.provider.name}",
        )
        response.delete_cookie(app_settings.AUTH_COOKIE, path="/", samesite="Lax")
        return response


class TokenView(SessionView):
    """``POST /auth/web/token``: a short-lived Authcore access token for the session's user."""

    def post(self, request: Request) -> Response:
        from tokens.services import issue_token

        user, _ = self.session(request)
        issued = issue_token(user=user, kind="session", ttl=app_settings.PASSKEY_TOKEN_TTL)
        return Response(
            {
                "access_token": issued.raw,
                "token_type": issued.token_type,
                "expires_in": issued.expires_in,
            }
        )


def _session_json(row: BrowserSession, current: str | None) -> dict[str, Any]:
    return {
        "id": row.key_hash,
        "method": row.method,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
        "client_ip": row.client_ip,
        "user_agent": row.user_agent,
        "current": row.key_hash == current,
    }


def _current_key(request: Request) -> str | None:
    return request.auth.key_hash if isinstance(request.auth, UserSession) else None


class SessionListView(APIView):
    """``GET /auth/web/sessions`` (Bearer or session): the caller's own live browser sessions."""

    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        current = _current_key(request)
        rows = sessions_of_user(user=request.user)
        return Response([_session_json(row, current) for row in rows])


class SessionDetailView(APIView):
    """``DELETE /auth/web/sessions/{id}`` (Bearer or session): end one of the caller's sessions;
    another user's or an unknown id is 404."""

    permission_classes = [IsAuthenticated]

    def delete(self, request: Request, session_id: str) -> Response:
        if session_of_user(user=request.user, session_key=session_id) is None:
            raise SessionNotFound()
        end_session(key_hash=session_id, actor=request.user, reason="user")
        response = Response(status=204)
        if session_id == _current_key(request):
            clear_session_cookies(response)
        return response
