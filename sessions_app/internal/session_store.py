"""Where browser sessions and pending logins live in the shared store (Redis, memory fallback).

A session id is 256 random bits (``secrets.token_urlsafe(32)``), sent only as the
``user_session_id`` cookie. The store and the database key a session by
``HMAC-SHA256(SESSION_SIGNING_SECRET, id)``: a Redis dump or a database backup yields no cookie
that could be replayed, and without the secret an attacker cannot derive the key of a stolen
cookie's session either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from authcore.store import shared_store
from sessions_app import app_settings

USER_PREFIX = "user:"
AUTH_PREFIX = "auth:"


def new_session_id() -> str:
    """256 bits from the OS CSPRNG, URL-safe (cookie value)."""
    return secrets.token_urlsafe(32)


def key_hash(session_id: str) -> str:
    """The storage key of a session id: hex HMAC-SHA256 under SESSION_SIGNING_SECRET."""
    key = app_settings.SESSION_SIGNING_SECRET.encode()
    return hmac.new(key, session_id.encode("utf-8", "replace"), hashlib.sha256).hexdigest()


_SESSION_KEY = re.compile(r"[0-9a-f]{64}")


def is_session_key(value: object) -> bool:
    """``value`` has the form of a storage key (``key_hash``): 64 lowercase hex characters."""
    return isinstance(value, str) and _SESSION_KEY.fullmatch(value) is not None


@dataclass(frozen=True)
class UserSession:
    """A live browser session.

    Fields:
        session_id: the raw cookie value (in memory only, never stored or printed).
        key_hash: HMAC of ``session_id``, the storage key and ``BrowserSession`` primary key.
        user_id: primary key of the user, as a string.
        fingerprint: hex SHA-256 of User-Agent and client IP at sign-in.
        csrf_secret: per-session random mixed into every CSRF token's MAC.
        created_at / expires_at: aware UTC datetimes.
        method: ``oidc:<provider>`` or ``passkey``.
    """

    session_id: str = field(repr=False)
    key_hash: str
    user_id: str
    fingerprint: str = field(repr=False)
    csrf_secret: str = field(repr=False)
    created_at: datetime
    expires_at: datetime
    method: str

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "uid": self.user_id,
                "fp": self.fingerprint,
                "csrf": self.csrf_secret,
                "created": int(self.created_at.timestamp()),
                "expires": int(self.expires_at.timestamp()),
                "method": self.method,
            }
        ).encode()

    @classmethod
    def from_json(cls, session_id: str, hashed: str, raw: bytes) -> UserSession | None:
        try:
            data: dict[str, Any] = json.loads(raw)
            return cls(
                session_id=session_id,
                key_hash=hashed,
                user_id=str(data["uid"]),
                fingerprint=str(data["fp"]),
                csrf_secret=str(data["csrf"]),
                created_at=datetime.fromtimestamp(int(data["created"]), tz=UTC),
                expires_at=datetime.fromtimestamp(int(data["expires"]), tz=UTC),
                method=str(data.get("method", "")),
            )
        except (ValueError, KeyError, TypeError):
            return None  # tampered or foreign data reads as no session, as Django does


def save_session(session: UserSession, ttl: int) -> None:
    shared_store().set(USER_PREFIX + session.key_hash, session.to_json(), ttl)


def load_session(session_id: str) -> UserSession | None:
    hashed = key_hash(session_id)
    raw = shared_store().get(USER_PREFIX + hashed)
    if raw is None:
        return None
    return UserSession.from_json(session_id, hashed, raw)


def drop_session(hashed: str) -> None:
    shared_store().delete(USER_PREFIX + hashed)
