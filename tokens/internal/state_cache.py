"""Token and user state in Redis, so that verifying a token needs no SQL in the common case.

Names (under the deployment's Redis prefix):

- ``tokens:t:{jti}``: ``1:{epoch}`` the record exists, is not revoked and its user was active
  when the cache epoch was ``epoch`` (a short-lived entry); ``r`` revoked, ``x`` deleted.
  ``r``/``x`` are final and live until the token expires.
- ``tokens:u:{user id}``: a JSON snapshot of the user (the fields in ``SNAPSHOT_FIELDS``),
  or ``x`` for a deleted user. Only read beside a current ``1:{epoch}`` entry.
- ``tokens:epoch``: the *cache epoch*, a random value. A "valid" entry counts only while it
  carries the current epoch; verification reads the epoch in the MGET it makes anyway.

Writers (revocation services, the model receivers) *overwrite* after commit; readers that
filled an entry from the database write a "valid" entry only through ``FILL_SCRIPT``: never over
``r``/``x``, and only if the epoch is still the one they read *before* their database read, so a
fill racing a revocation can never put back a stale "valid".

A write that cannot reach Redis is not kept for later: the shared store's breaker opened when
it failed, and before that breaker closes again (``authcore.store.on_recovery``) this module
renews the epoch (``renew_epoch``). From that moment no process trusts a "valid" entry written
before the outage; each such token is read from the database once and cached again. What that
leaves open is written in docs/security/threat-model.md ("Known limits"): a process that never
saw Redis fail trusts such entries until the first process that did reconnects (its probe runs
every ``authcore.store.PROBE_INTERVAL``), and one that still reaches Redis while the writer
cannot trusts them until they expire (``POSITIVE_TTL``).
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import redis
import structlog
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS
from redis.commands.core import Script

from authcore.models import User
from authcore.store import REDIS_ERRORS, SharedStore, shared_store
from tokens import app_settings
from tokens.internal import clock

logger = structlog.get_logger(__name__)

VALID_PREFIX = b"1:"
REVOKED = b"r"
GONE = b"x"
EPOCH_NAME = "tokens:epoch"
# Seconds a "valid" token entry and a user snapshot live: the bound on any stale "valid" entry.
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

# KEYS: epoch, token state, user snapshot.
# ARGV: the epoch read before the database read ("" if there was none), a fresh epoch to create
# if the key is missing, the token entry's TTL (ms), the snapshot ("" for none), its TTL (ms).
# Writes "1:{epoch}" unless the token is revoked/deleted or the epoch changed meanwhile; a
# "valid" entry of an older epoch is replaced. The snapshot is only created, never replaced.
FILL_SCRIPT = """
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  if ARGV[1] ~= '' then return 0 end
  epoch = ARGV[2]
  redis.call('SET', KEYS[1], epoch)
elseif epoch ~= ARGV[1] then
  return 0
end
local held = redis.call('GET', KEYS[2])
if held == 'r' or held == 'x' then return 0 end
redis.call('SET', KEYS[2], '1:' .. epoch, 'PX', ARGV[3])
if ARGV[4] ~= '' then redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[5], 'NX') end
return 1
"""


# EVALSHA, loading the script on first use; the client is given at each call.
_fill_script = Script(None, FILL_SCRIPT.encode())  # type: ignore[arg-type]


def token_name(jti: str) -> str:
    return f"tokens:t:{jti}"


def user_name(user_id: object) -> str:
    return f"tokens:u:{user_id}"


def is_valid(token_state: bytes | None, epoch: bytes | None) -> bool:
    """A "valid" entry of the current epoch (read in the same MGET)."""
    return epoch is not None and token_state == VALID_PREFIX + epoch


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
    """Overwrite entries (after a commit). When Redis cannot be reached the write is dropped:
    the breaker is open, and ``renew_epoch`` runs before it closes (module docstring)."""
    if not items:
        return
    store = shared_store()
    client = store.redis
    if client is None:
        return
    try:
        pipe = client.pipeline(transaction=False)
        for name, value, ttl in items:
            pipe.set(store.key(name), value, px=int(ttl * 1000))
        pipe.execute()
    except Exception as error:  # redis errors: open the breaker (it renews the epoch)
        store.trip(error)


def mark_tokens(entries: Iterable[tuple[str, datetime]], value: bytes) -> None:
    """``value`` (REVOKED or GONE) for each (jti, expires_at), until the token expires."""
    _write([(token_name(jti), value, _seconds_left(expires)) for jti, expires in entries])


def mark_user(user: Any) -> None:
    """The user's current snapshot (after a save)."""
    _write([(user_name(user.pk), snapshot_of(user), POSITIVE_TTL)])


def mark_user_gone(user_id: object) -> None:
    _write([(user_name(user_id), GONE, float(app_settings.TOKEN_MAX_TTL))])


def fill(
    client: Any,
    *,
    jti: str,
    revoked: bool,
    expires_at: datetime,
    user: Any,
    epoch: bytes | None,
) -> None:
    """After a database read: cache what it found (module docstring).

    Args:
        client: the Redis client the MGET used.
        jti: the token's ID.
        revoked: the record is revoked (``r``, final, overwrites anything).
        expires_at: the token's expiry (bounds every TTL).
        user: the record's user; a "valid" entry is written only while it is active.
        epoch: the cache epoch read *before* the database read (None if there was none).
    """
    store = shared_store()
    try:
        if revoked:
            client.set(
                store.key(token_name(jti)), REVOKED, px=int(_seconds_left(expires_at) * 1000)
            )
            return
        if not user.is_active:
            return  # never certify an inactive user's token; its next request asks the database
        ttl = min(POSITIVE_TTL, _seconds_left(expires_at))
        _fill_script(
            keys=[
                store.key(EPOCH_NAME),
                store.key(token_name(jti)),
                store.key(user_name(user.pk)),
            ],
            args=[
                epoch or b"",
                secrets.token_hex(8),
                int(ttl * 1000),
                snapshot_of(user),
                int(POSITIVE_TTL * 1000),
            ],
            client=client,
        )
    except REDIS_ERRORS as error:  # Redis is failing: the database already answered
        store.trip(error)
    except redis.RedisError as error:  # not an outage; nothing was cached, which is safe
        logger.warning("tokens_cache_fill_failed", error=type(error).__name__)


def renew_epoch(store: SharedStore, client: redis.Redis) -> None:
    """Recovery hook (``authcore.store.on_recovery``): this process saw Redis fail, so writes
    it made meanwhile may be missing there; make every "valid" entry written before now stale."""
    client.set(store.key(EPOCH_NAME), secrets.token_hex(8))
    logger.warning("tokens_cache_epoch_renewed", reason="redis_recovered")
