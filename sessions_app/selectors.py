"""Reads of the sessions app."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from authcore.compiled_query import CompiledQuery, model_columns
from sessions_app.internal.session_store import UserSession, is_session_key, load_session
from sessions_app.models import BrowserSession


def session_by_id(session_id: str) -> UserSession | None:
    """The live session whose cookie value is ``session_id``, or None (unknown or expired)."""
    if not session_id or len(session_id) > 128:
        return None
    session = load_session(session_id)
    if session is None or session.expires_at <= timezone.now():
        return None
    return session


def _session_row_query(*, key_hash: str) -> QuerySet[Any]:
    session_paths, _ = model_columns(BrowserSession)
    user_paths, _ = model_columns(get_user_model(), "user__")
    return (
        BrowserSession.objects.filter(key_hash=key_hash, user__is_active=True)
        .order_by()
        .values_list(*session_paths, *user_paths)
    )


# Read on every request a session cookie authenticates: compiled once per thread.
_SESSION_ROW = CompiledQuery(_session_row_query, "key_hash")


def session_row(*, key_hash: str) -> BrowserSession | None:
    """The index row of a live session with its active user (one query), or None if ended."""
    rows = _SESSION_ROW.rows(key_hash=key_hash)
    if not rows:
        return None
    _, session_names = model_columns(BrowserSession)
    _, user_names = model_columns(get_user_model(), "user__")
    count = len(session_names)
    row = BrowserSession.from_db("default", session_names, rows[0][:count])
    if row.expires_at <= timezone.now():
        return None
    row.user = get_user_model().from_db("default", user_names, rows[0][count:])
    return row


def sessions_of_user(*, user: Any) -> QuerySet[BrowserSession]:
    """Live browser sessions of ``user``, newest first."""
    return BrowserSession.objects.filter(user=user, expires_at__gt=timezone.now())


def session_of_user(*, user: Any, session_key: str) -> BrowserSession | None:
    """The live session of ``user`` whose storage key (``id`` in the API) is ``session_key``.

    None for another user's or an unknown session, and for anything that is not a storage
    key's form (64 lowercase hex characters), which never reaches the database: PostgreSQL
    refuses a NUL character with an error, not with "no such row".
    """
    if not is_session_key(session_key):
        return None
    return sessions_of_user(user=user).filter(key_hash=session_key).first()
