"""Reads of the sessions app."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from sessions_app.internal.session_store import UserSession, load_session
from sessions_app.models import BrowserSession


def session_by_id(session_id: str) -> UserSession | None:
    """The live session whose cookie value is ``session_id``, or None (unknown or expired)."""
    if not session_id or len(session_id) > 128:
        return None
    session = load_session(session_id)
    if session is None or session.expires_at <= timezone.now():
        return None
    return session


def session_row(*, key_hash: str) -> BrowserSession | None:
    """The index row of a live session with its user (one query), or None if ended."""
    return (
        BrowserSession.objects.select_related("user")
        .filter(key_hash=key_hash, expires_at__gt=timezone.now(), user__is_active=True)
        .first()
    )


def sessions_of_user(*, user: Any) -> QuerySet[BrowserSession]:
    """Live browser sessions of ``user``, newest first."""
    return BrowserSession.objects.filter(user=user, expires_at__gt=timezone.now())
