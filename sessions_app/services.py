"""Writes of the sessions app: open, refresh and end browser sessions; prune.

The OpenID Connect sign-in (``start_login``, ``complete_login``) lives in ``oidc/flow.py`` and is
re-exported here, so other code imports every service from ``sessions_app.services``.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone

from authcore.audit import record_event
from authcore.client_ip import client_ip
from authcore.user_locks import lock_users
from sessions_app import app_settings
from sessions_app.exceptions import NoSession
from sessions_app.fingerprint import client_fingerprint
from sessions_app.internal.session_store import (
    UserSession,
    drop_session,
    key_hash,
    new_session_id,
    save_session,
)
from sessions_app.models import BrowserSession
from sessions_app.selectors import session_by_id

# Refreshes of one session that can commit while a logout of it waits: one per tab, in
# practice. Bounded so that a logout always ends.
_MAX_SUCCESSORS = 8


def _http_request(request: Any) -> HttpRequest:
    """The Django request behind a DRF ``Request`` (or the request itself)."""
    return getattr(request, "_request", request)


def _now() -> Any:
    return timezone.now().replace(microsecond=0)


def set_session_cookie(response: HttpResponseBase, *, session_id: str, max_age: int) -> None:
    """``user_session_id``: HttpOnly, SameSite=Lax, Path=/, Secure in production (API.md)."""
    response.set_cookie(
        app_settings.SESSION_COOKIE,
        session_id,
        max_age=max_age,
        path="/",
        secure=app_settings.COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def clear_session_cookies(response: HttpResponseBase) -> None:
    """Expire both cookies of the browser-session flow."""
    for name in (app_settings.SESSION_COOKIE, app_settings.AUTH_COOKIE):
        response.delete_cookie(name, path="/", samesite="Lax")


def _new_session(
    *, request: HttpRequest, user_id: str, method: str, replaces: str = ""
) -> UserSession:
    """A new session (fresh id and CSRF secret) and its index row; not yet in the store.

    ``replaces``: the storage key of the session a refresh replaced with this one."""
    now = _now()
    session_id = new_session_id()
    session = UserSession(
        session_id=session_id,
        key_hash=key_hash(session_id),
        user_id=user_id,
        fingerprint=client_fingerprint(request),
        csrf_secret=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(seconds=app_settings.SESSION_MAX_AGE),
        method=method,
    )
    BrowserSession.objects.create(
        key_hash=session.key_hash,
        user_id=user_id,
        method=method[:64],
        created_at=session.created_at,
        expires_at=session.expires_at,
        client_ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:255],
        replaces=replaces,
    )
    return session


def _store_new_session(*, request: HttpRequest, user_id: str, method: str) -> UserSession:
    session = _new_session(request=request, user_id=user_id, method=method)
    # The database row exists before the store entry: a session is never live without its
    # index row (admin listing, cascade on user deletion).
    save_session(session, app_settings.SESSION_MAX_AGE)
    return session


def open_session(
    *, request: Any, response: HttpResponseBase, user: Any, method: str = "passkey"
) -> UserSession:
    """Open a browser session for ``user`` and set the ``user_session_id`` cookie on ``response``.

    The session is bound to the client fingerprint of ``request`` and lives
    ``SESSION_MAX_AGE`` seconds in the shared store (Redis, or this process's memory while
    Redis is down).

    A session the request's ``user_session_id`` cookie still names is ended first, whoever
    it belongs to: signing in again from a browser replaces its session (session fixation;
    a shared computer), so the old cookie and every copy of it stop working.

    Args:
        request: the Django or DRF request that signed the user in.
        response: the response that will carry the cookie.
        user: the signed-in user.
        method: how the user signed in (``passkey``, ``email``, ``oidc:<provider>``), for the
            audit trail.
    """
    http_request = _http_request(request)
    previous = session_by_id(http_request.COOKIES.get(app_settings.SESSION_COOKIE, ""))
    if previous is not None:
        end_session(key_hash=previous.key_hash, actor=user, reason="replaced")
    session = _store_new_session(request=http_request, user_id=str(user.pk), method=method)
    set_session_cookie(
        response, session_id=session.session_id, max_age=app_settings.SESSION_MAX_AGE
    )
    record_event(
        "session.opened",
        actor=user,
        target=f"session:{session.key_hash[:12]}",
        detail={"method": method},
    )
    return session


def refresh_session(
    *, request: Any, response: HttpResponseBase, session: UserSession
) -> UserSession:
    """Replace ``session`` by a new one (new id, new CSRF secret, new expiry).

    The old id and every CSRF token made for it stop working at once (session fixation
    defence, like Django's ``cycle_key()``). The old session is ended first, in the
    transaction that creates its successor: a session ended meanwhile (logout, staff,
    ``DELETE /auth/web/sessions/{id}``, a fingerprint mismatch, or another refresh of it that
    won) is not brought back, and two refreshes of one session leave one successor.

    Raises:
        NoSession: ``session`` was already ended (401); nothing was written.
    """
    http_request = _http_request(request)
    with transaction.atomic():
        # Locked first, as end_sessions_of_user does: "end every session of the user" and a
        # refresh of one of them never interleave (the refresh commits first and its
        # successor is ended too, or it runs afterwards and finds its session gone).
        lock_users([session.user_id])
        # Whatever ended the session first wins: a logout or another refresh of it that got
        # here first deleted the row (this waits for its lock, then finds nothing to delete).
        deleted, _ = BrowserSession.objects.filter(key_hash=session.key_hash).delete()
        if not deleted:
            raise NoSession()
        fresh = _new_session(
            request=http_request,
            user_id=session.user_id,
            method=session.method,
            replaces=session.key_hash,
        )
    # Stored only once its row is committed: a refresh that fails leaves no live entry behind.
    save_session(fresh, app_settings.SESSION_MAX_AGE)
    drop_session(session.key_hash)
    set_session_cookie(response, session_id=fresh.session_id, max_age=app_settings.SESSION_MAX_AGE)
    record_event(
        "session.refreshed",
        actor=("user", session.user_id),
        target=f"session:{fresh.key_hash[:12]}",
    )
    return fresh


def end_session(*, key_hash: str, actor: Any = None, reason: str = "logout") -> bool:
    """End the session stored under ``key_hash``, and what a refresh made of it; True if it
    existed.

    A logout whose delete queued behind a refresh of the same session (another tab) finds the
    session gone once the refresh commits; the successor that refresh created (its row names
    the session it ``replaces``) is ended instead, so the browser's next cookie is dead too.
    Only a refresh in flight leaves successors behind: a refresh deletes the session it
    replaces in the transaction that creates the successor.

    Args:
        key_hash: the session's storage key (``UserSession.key_hash``, ``BrowserSession.pk``).
        actor: who ended it (the user, staff, or None for the system).
        reason: ``logout``, ``admin``, ``fingerprint_mismatch`` … (audit detail).
    """
    ended: list[str] = []
    removed = 0
    with transaction.atomic():
        frontier = [key_hash]
        for _ in range(_MAX_SUCCESSORS):
            # Waits for a refresh that holds one of these rows, then finds that one gone.
            deleted, _ = BrowserSession.objects.filter(key_hash__in=frontier).delete()
            removed += deleted
            ended += frontier
            if deleted == len(frontier):
                break  # none was replaced meanwhile: no successor to look for
            # A new statement, a new snapshot: the successor a refresh committed is seen.
            frontier = list(
                BrowserSession.objects.filter(replaces__in=frontier).values_list(
                    "key_hash", flat=True
                )
            )
            if not frontier:
                break
    outcome = "success" if reason in {"logout", "admin", "user"} else reason
    for hashed in ended:
        drop_session(hashed)
        detail: dict[str, Any] = {"reason": reason}
        if hashed != key_hash:  # a successor: "who ended session B" finds this event too
            detail["replaced"] = key_hash[:12]
        record_event(
            "session.ended",
            actor=actor,
            target=f"session:{hashed[:12]}",
            outcome=outcome,
            detail=detail,
        )
    return removed > 0


def end_sessions_of_user(*, user: Any, actor: Any = None) -> int:
    """End every browser session of ``user``; returns how many there were.

    A refresh of one of them that is in flight cannot slip a successor past this (the user's
    row is locked while the sessions are listed and deleted, as ``refresh_session`` does).
    """
    with transaction.atomic():
        lock_users([user.pk])
        hashes = list(BrowserSession.objects.filter(user=user).values_list("key_hash", flat=True))
        BrowserSession.objects.filter(key_hash__in=hashes).delete()
    for hashed in hashes:
        drop_session(hashed)
    if hashes:
        record_event(
            "session.ended_all",
            actor=actor,
            target=f"user:{user.pk}",
            detail={"count": len(hashes)},
        )
    return len(hashes)


def prune_expired() -> int:
    """Delete index rows of expired sessions (the store forgets them by TTL on its own)."""
    deleted, _ = BrowserSession.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


# The OpenID Connect sign-in, so that every service is importable from here.
from sessions_app.oidc.flow import complete_login, start_login  # noqa: E402

__all__ = [
    "clear_session_cookies",
    "complete_login",
    "end_session",
    "end_sessions_of_user",
    "open_session",
    "prune_expired",
    "refresh_session",
    "set_session_cookie",
    "start_login",
]
