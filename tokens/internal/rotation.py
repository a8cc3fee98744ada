"""The signing-key life cycle (API.md "Tokens and keys", docs/tokens.md):

    next ──(activates_at)──▶ current ──(next activates)──▶ retiring ──(nothing needs it)──▶ retired
      any published state ──(revoke_key)──▶ revoked

One function, ``rotate``, moves keys along; it is idempotent and runs under a PostgreSQL
transaction-scoped advisory lock, so instances running it at the same moment serialize and
the later ones find nothing to do. The database also refuses a second current or next key
(partial unique constraints).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Max

from authcore.audit import record_event
from authcore.metrics import KEY_ROTATIONS, SIGNING_KEYS, TOKEN_REVOCATIONS
from tokens import app_settings
from tokens.exceptions import SigningKeyNotFound
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
        if upcoming is not None:
            _activate(upcoming, now)
            result.activated.append(upcoming.kid)
        else:
            key = _create(now, state=State.CURRENT, activates_at=now)
            result.created.append(key.kid)
            result.activated.append(key.kid)
        return True
    if upcoming is not None and upcoming.activates_at <= now:
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
            published = list(SigningKey.objects.filter(state__in=keyset.PUBLISHED_STATES))
            current = next((k for k in published if k.state == State.CURRENT), None)
            upcoming = next((k for k in published if k.state == State.NEXT), None)
            if current is not None:
                _deactivate(current, now)
            if upcoming is not None:  # already published: consumers have it cached
                _activate(upcoming, now)
                result.activated.append(upcoming.kid)
            else:
                key = _create(now, state=State.CURRENT, activates_at=now)
                result.created.append(key.kid)
                result.activated.append(key.kid)
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
            # A key that never signed takes over: the published next key if there is one
            # (consumers already hold it), else a new one.
            upcoming = SigningKey.objects.filter(state=State.NEXT).first()
            if upcoming is not None:
                _activate(upcoming, now)
                result.activated.append(upcoming.kid)
            else:
                fresh = _create(now, state=State.CURRENT, activates_at=now)
                result.created.append(fresh.kid)
                result.activated.append(fresh.kid)
        for _ in range(8):
            if not _step(now, result):
                break
        _finish(result, actor=actor, action="revoke")
    return result
