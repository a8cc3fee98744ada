"""Token and user state in Redis, so that verifying a token needs no SQL in the common case.

Names (under the deployment's Redis prefix):

- ``tokens:t:{jti}``: ``1`` the record exists and is not revoked (a short-lived cache entry),
  ``r`` revoked, ``x`` deleted. ``r``/``x`` live until the token expires.
- ``tokens:u:{user id}``: a JSON snapshot of the user (the fields in ``SNAPSHOT_FIELDS``),
  or ``x`` for a deleted user.

Writers (revocation services, the model receivers) *overwrite* after commit; readers that
filled an entry from the database only *create* it (SET NX), so a fill racing a revocation can
never put back a stale "valid". Positive entries expire after ``POSITIVE_TTL`` seconds, which
bounds the one gap left: a revocation written while Redis was unreachable (it is replayed by
this process when Redis answers again, see ``_pending``).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS

from authcore.models import User
from authcore.store import shared_store
from tokens import app_settings
from tokens.internal import clock

VALID = b"1"
REVOKED = b"r"
GONE = b"x"
POSITIVE_TTL = 60.0
SNAPSHOT_FIELDS = (
    "id",
    "username",
    "email",
    "display_name",
    "email_verified",
    "is_active",
    "is_staff",
    "is_superuser",
)

_pending: list[tuple[str, bytes, float]] = []
_pending_lock = threading.Lock()


def token_name(jti: str) -> str:
    return f"tokens:t:{jti}"


def user_name(user_id: object) -> str:
    return f"tokens:u:{user_id}"


def _seconds_left(expires_at: datetime) -> float:
    return max(1.0, (expires_at - clock.now()).total_seconds() + app_settings.LEEWAY)


def snapshot_of(user: Any) -> bytes:
    values = {name: getattr(user, name) for name in SNAPSHOT_FIELDS}
    values["id"] = str(values["id"])
    return json.dumps(values, separators=(",", ":")).encode()


def user_from_snapshot(data: bytes) -> User:
    """A real ``User`` built from the snapshot without a query.

    Built with ``Model.from_db`` and only the snapshot's fields loaded: every other field is
    deferred (read from the database on first access) and ``save()`` writes only the loaded
    fields, exactly as for ``User.objects.only(*SNAPSHOT_FIELDS)``.
    """
    values = json.loads(data)
    values["id"] = uuid.UUID(values["id"])
    model = get_user_model()
    # from_db takes the loaded values in the model's field order.
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    user: User = model.from_db(DEFAULT_DB_ALIAS, names, [values[name] for name in names])
    return user


def _write(items: list[tuple[str, bytes, float]]) -> None:
    """Overwrite entries (after a commit); kept for replay if Redis is unreachable."""
    if not items:
        return
    store = shared_store()
    client = store.redis
    if client is not None:
        try:
            pipe = client.pipeline(transaction=False)
            for name, value, ttl in items:
                pipe.set(store.key(name), value, px=int(ttl * 1000))
            pipe.execute()
            return
        except Exception as error:  # redis errors
            store.trip(error)
    with _pending_lock:
        _pending.extend(items)


def replay_pending() -> None:
    """Write what could not be written while Redis was down (called once Redis answers)."""
    if not _pending:
        return
    with _pending_lock:
        items = list(_pending)
        _pending.clear()
    _write(items)


def mark_tokens(entries: Iterable[tuple[str, datetime]], value: bytes) -> None:
    """``value`` (REVOKED or GONE) for each (jti, expires_at), until the token expires."""
    _write([(token_name(jti), value, _seconds_left(expires)) for jti, expires in entries])


def mark_user(user: Any) -> None:
    """The user's current snapshot (after a save)."""
    _write([(user_name(user.pk), snapshot_of(user), POSITIVE_TTL)])


def mark_user_gone(user_id: object) -> None:
    _write([(user_name(user_id), GONE, float(app_settings.TOKEN_MAX_TTL))])


def fill(client: Any, *, jti: str, token_value: bytes, expires_at: datetime, user: Any) -> None:
    """After a database read: create the entries if absent (SET NX, see module docstring)."""
    store = shared_store()
    ttl = min(POSITIVE_TTL, _seconds_left(expires_at)) if token_value == VALID else None
    ttl = ttl or _seconds_left(expires_at)
    pipe = client.pipeline(transaction=False)
    pipe.set(store.key(token_name(jti)), token_value, px=int(ttl * 1000), nx=True)
    if user is not None:
        pipe.set(
            store.key(user_name(user.pk)), snapshot_of(user), px=int(POSITIVE_TTL * 1000), nx=True
        )
    pipe.execute()
