"""The signing-key life cycle (API.md "Tokens and keys", docs/tokens.md):

    next ──(activates_at)──▶ current ──(next activates)──▶ retiring ──(nothing needs it)──▶ retired
      any published state ──(revoke_key)──▶ revoked

One function, ``rotate``, moves keys along; it is idempotent and runs under a PostgreSQL
transaction-scoped advisory lock, so instances running it at the same moment serialize and
the later ones find nothing to do. The database also refuses a second current or next key
(partial unique constraints).

Forced moves (``rotate_keys --now``, ``revoke_key`` of the current key) never make a key sign
that consumers could not have cached: the published *next* key takes over, and a fresh next
key is published at once for the following forced move. Only when no next key exists does a
brand-new key sign at once (``RotationResult.unannounced``): a consumer holding a cached JWKS
meets its kid unannounced and must refetch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Max

from authcore.audit import record_event
from authcore.metrics import KEY_ROTATIONS, SIGNING_KEYS, TOKEN_REVOCATIONS
from tokens import app_settings
from tokens.exceptions import SigningKeyNotFound, SigningKeyUnavailable
from tokens.internal import clock, key_encryption, keyset
from tokens.models import SigningKey, TokenRecord

# pg_advisory_xact_lock key: "tokens" in ASCII.
_ADVISORY_LOCK = 0x746F6B656E73
State = SigningKey.State


@dataclass
class RotationResult:
    """What one run changed: kids created, activated, retired (empty lists: nothing due)."""

    created: list[str] = field(default_factory=list)
    activated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    tokens_revoked: int = 0
    # Kids that began to sign in the same move that created them (no next key was published):
    # the one case where a consumer with a cached JWKS meets an unknown kid.
    unannounced: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.activated or self.retired or self.revoked)


def _lock() -> None:
    """Serialize rotations across instances (SQLite serializes writers by itself)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK])


def _create(now: datetime, *, state: str, activates_at: datetime) -> SigningKey:
    private = key_encryption.generate_private_key()
    jwk = key_encryption.public_jwk(private)
    kid = key_encryption.thumbprint(jwk)
    return SigningKey.objects.create(
        kid=kid,
        state=state,
        public_jwk=jwk,
        private_key_encrypted=key_encryption.seal(private, kid=kid),
        created_at=now,
        published_at=now,
        activates_at=activates_at,
        activated_at=now if state == State.CURRENT else None,
    )


def _deactivate(key: SigningKey, now: datetime) -> None:
    key.state = State.RETIRING
    key.deactivated_at = now
    key.save(update_fields=["state", "deactivated_at"])


def _activate(key: SigningKey, now: datetime) -> None:
    key.state = State.CURRENT
    key.activated_at = now
    key.save(update_fields=["state", "activated_at"])


def _opens(key: SigningKey) -> bool:
    """Whether this process can decrypt ``key`` (not after ``JWT_SECRET`` changed)."""
    try:
        key_encryption.unseal(bytes(key.private_key_encrypted), kid=key.kid)
    except SigningKeyUnavailable:
        return False
    return True


def _usable_next(key: SigningKey | None, now: datetime, result: RotationResult) -> bool:
    """Whether the published next ``key`` can be promoted. One that cannot be decrypted (sealed
    under an earlier ``JWT_SECRET``) would make every signature fail: it is revoked instead,
    with an audit event, and the caller carries on as if no next key were published."""
    if key is None:
        return False
    if _opens(key):
        return True
    key.state = State.REVOKED
    key.revoked_at = now
    key.save(update_fields=["state", "revoked_at"])
    result.revoked.append(key.kid)
    record_event(
        "key.revoked",
        target=f"signing_key:{key.kid}",
        outcome="failure",
        detail={"reason": "cannot_decrypt", "was_next": True, "token_count": 0},
    )
    return False


def _take_over(now: datetime, result: RotationResult) -> None:
    """Nothing signs any more (forced move): the published next key signs, else a new key."""
    upcoming = SigningKey.objects.filter(state=State.NEXT).first()
    if _usable_next(upcoming, now, result):  # published earlier: consumers may hold it
        assert upcoming is not None
        _activate(upcoming, now)
        result.activated.append(upcoming.kid)
        return
    key = _create(now, state=State.CURRENT, activates_at=now)
    result.created.append(key.kid)
    result.activated.append(key.kid)
    result.unannounced.append(key.kid)


def _publish_next(now: datetime, result: RotationResult, *, activates_at: datetime) -> None:
    """After a forced move: a fresh next key, published now, so the following forced move is
    gap-free too. It signs at ``activates_at`` (never sooner than the publish-ahead time)."""
    if SigningKey.objects.filter(state=State.NEXT).exists():
        return
    key = _create(
        now, state=State.NEXT, activates_at=max(activates_at, now + app_settings.PUBLISH_AHEAD)
    )
    result.created.append(key.kid)


def _needed_until(key: SigningKey) -> datetime:
    """A key stays published for ``JWT_KEY_TTL_HOURS`` and while a token it signed lives."""
    longest = TokenRecord.objects.filter(signing_key=key).aggregate(m=Max("expires_at"))["m"]
    minimum = key.published_at + app_settings.KEY_TTL
    return max(minimum, longest) if longest else minimum


def _step(now: datetime, result: RotationResult) -> bool:
    """One move along the life cycle; True if something changed."""
    published = list(SigningKey.objects.filter(state__in=keyset.PUBLISHED_STATES))
    current = next((k for k in published if k.state == State.CURRENT), None)
    upcoming = next((k for k in published if k.state == State.NEXT), None)
    if current is None:
        # Nothing signs: promote the published next key, or create the first key.
        if _usable_next(upcoming, now, result):
            assert upcoming is not None
            _activate(upcoming, now)
            result.activated.append(upcoming.kid)
        else:
            key = _create(now, state=State.CURRENT, activates_at=now)
            result.created.append(key.kid)
            result.activated.append(key.kid)
        return True
    if upcoming is not None and upcoming.activates_at <= now:
        if not _usable_next(upcoming, now, result):
            return True  # revoked: the next step publishes a fresh next key
        _deactivate(current, now)
        _activate(upcoming, now)
        result.activated.append(upcoming.kid)
        return True
    assert current.activated_at is not None
    rotation_due = current.activated_at + app_settings.ROTATION_PERIOD
    if upcoming is None and now >= rotation_due - app_settings.PUBLISH_AHEAD:
        # Published PUBLISH_AHEAD before its first signature, never earlier than due.
        activates_at = max(rotation_due, now + app_settings.PUBLISH_AHEAD)
        key = _create(now, state=State.NEXT, activates_at=activates_at)
        result.created.append(key.kid)
        return True
    for key in published:
        if key.state == State.RETIRING and now >= _needed_until(key):
            key.state = State.RETIRED
            key.retired_at = now
            key.save(update_fields=["state", "retired_at"])
            result.retired.append(key.kid)
            return True
    return False


def _finish(result: RotationResult, *, actor: object, action: str) -> None:
    """Metrics, audit and the cross-process announcement, once the change is committed."""
    if not result.changed:
        return
    for kid in result.created:
        record_event("key.created", actor=actor, target=f"signing_key:{kid}")
    for kid in result.activated:
        record_event("key.activated", actor=actor, target=f"signing_key:{kid}")
    for kid in result.retired:
        record_event("key.retired", actor=actor, target=f"signing_key:{kid}")

    def after_commit() -> None:
        KEY_ROTATIONS.inc(len(result.activated))
        if result.tokens_revoked:
            TOKEN_REVOCATIONS.inc(result.tokens_revoked)
        for state in (State.RETIRED, State.REVOKED):
            SIGNING_KEYS.labels(state=state).set(SigningKey.objects.filter(state=state).count())
        keyset.announce(keyset.reload())

    transaction.on_commit(after_commit)


def rotate(*, force: bool = False, actor: object = None) -> RotationResult:
    """Bring the key set up to date (idempotent); with ``force`` a new key signs at once."""
    result = RotationResult()
    with transaction.atomic():
        _lock()
        now = clock.now()
        if force:
            current = SigningKey.objects.filter(state=State.CURRENT).first()
            if current is not None:
                _deactivate(current, now)
            _take_over(now, result)
            # The new current key's successor, on the regular schedule.
            _publish_next(now, result, activates_at=now + app_settings.ROTATION_PERIOD)
            record_event(
                "key.rotated_now", actor=actor, target=f"signing_key:{result.activated[0]}"
            )
        for _ in range(8):  # a handful of moves at most; bounded against surprises
            if not _step(now, result):
                break
        _finish(result, actor=actor, action="rotate")
    return result


def revoke(*, kid: str, actor: object = None) -> RotationResult:
    """Emergency: ``kid`` leaves the JWKS, every token it signed is revoked, a fresh key signs."""
    result = RotationResult()
    with transaction.atomic():
        _lock()
        now = clock.now()
        key = SigningKey.objects.select_for_update().filter(kid=kid).first()
        if key is None:
            raise SigningKeyNotFound()
        if key.state == State.REVOKED:
            return result
        was_current = key.state == State.CURRENT
        was_next = key.state == State.NEXT
        key.state = State.REVOKED
        key.revoked_at = now
        key.save(update_fields=["state", "revoked_at"])
        result.revoked.append(kid)
        result.tokens_revoked = TokenRecord.objects.filter(
            signing_key=key, revoked_at__isnull=True
        ).update(revoked_at=now)
        record_event(
            "key.revoked",
            actor=actor,
            target=f"signing_key:{kid}",
            detail={"token_count": result.tokens_revoked, "was_current": was_current},
        )
        if was_current:
            _take_over(now, result)
            _publish_next(now, result, activates_at=now + app_settings.ROTATION_PERIOD)
        elif was_next:
            # Keep the revoked key's place in the schedule, with a key of its own.
            _publish_next(now, result, activates_at=key.activates_at)
        for _ in range(8):
            if not _step(now, result):
                break
        _finish(result, actor=actor, action="revoke")
    return result
