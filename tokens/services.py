"""Writes of the tokens app: issue, verify, revoke tokens; rotate and revoke signing keys.

Contract: API.md "Tokens and keys" and "Operations"; design: docs/tokens.md.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import structlog
from django.db import transaction

from authcore.audit import record_event
from authcore.compiled_query import CompiledInsert
from authcore.exceptions import ServiceUnavailable, ValidationFailed
from authcore.metrics import AUTH_FAILURES, TOKEN_REVOCATIONS, TOKENS_ISSUED
from tokens import app_settings
from tokens.exceptions import InvalidToken, SigningKeyUnavailable
from tokens.internal import clock, keyset, rotation, state_cache, verification
from tokens.internal.rotation import RotationResult
from tokens.internal.verification import VerifiedToken
from tokens.models import SigningKey, TokenRecord

__all__ = [
    "IssuedToken",
    "RotationResult",
    "VerifiedToken",
    "issue_token",
    "prune_expired",
    "revoke_key",
    "revoke_token",
    "revoke_tokens_of_client",
    "revoke_tokens_of_user",
    "rotate_keys",
    "verify_token",
]

TOKEN_KINDS = frozenset({"client", "passkey", "email", "session"})
# Claims the service sets itself (RFC 7519 §4.1); callers cannot override them.
RESERVED_CLAIMS = frozenset({"iss", "aud", "sub", "iat", "exp", "nbf", "jti"})
# Seconds between lazy rotation attempts of one process when rotation is overdue.
LAZY_ROTATION_INTERVAL = timedelta(seconds=5)
_last_lazy_rotation = datetime.min.replace(tzinfo=UTC)


logger = structlog.get_logger(__name__)


class SigningUnavailable(ServiceUnavailable):
    """503: the current signing key cannot be decrypted (``JWT_SECRET`` changed without
    ``rotate_keys --now``); nothing is issued or recorded. Operators: docs/operations.md."""

    code = "signing_unavailable"
    detail = "Tokens cannot be signed right now."


class TokenLifetimeInvalid(ValidationFailed):
    code = "invalid_expires_in"
    detail = "expires_in must be a positive number of seconds no larger than TOKEN_MAX_TTL."


@dataclass(frozen=True)
class IssuedToken:
    """A freshly signed access token.

    Attributes:
        raw: the compact JWS; shown to its holder once, never logged (not in the repr).
        jti: its ID (RFC 7519 §4.1.7), the key of its record.
        token_type: always ``Bearer`` (RFC 6750).
        expires_in: lifetime in seconds.
        expires_at: its ``exp`` as a datetime.
        claims: the signed claims.
    """

    raw: str = field(repr=False)
    jti: str
    expires_in: int
    expires_at: datetime
    claims: dict[str, Any]
    token_type: str = "Bearer"


def _rotation_overdue(view: keyset.KeySet, now: datetime) -> bool:
    current = view.current
    if current is None or current.activated_at is None:
        return True
    upcoming = view.next
    if upcoming is not None:
        return upcoming.activates_at <= now
    due = current.activated_at + app_settings.ROTATION_PERIOD - app_settings.PUBLISH_AHEAD
    return due <= now


def _signing_view(now: datetime) -> keyset.KeySet:
    """The up-to-date key set, rotated first if rotation is overdue (no beat needed)."""
    global _last_lazy_rotation
    view = keyset.for_signing()
    if _rotation_overdue(view, now):
        first_key = view.current is None
        if first_key or abs(now - _last_lazy_rotation) > LAZY_ROTATION_INTERVAL:
            _last_lazy_rotation = now
            with transaction.atomic():  # a savepoint when the caller has a transaction
                rotation.rotate()
            view = keyset.reload()
    if view.current is None:
        raise RuntimeError("no current signing key after rotation")
    return view


# Every token issue inserts one record: SQL compiled once per thread. No receiver needs the
# creation (tokens.receivers acts on revocation and deletion only).
_RECORD_INSERT = CompiledInsert(TokenRecord)


def issue_token(
    *,
    user: Any,
    kind: str,
    ttl: int | None = None,
    client_id: str | None = None,
    extra_claims: dict[str, Any] | None = None,
) -> IssuedToken:
    """Sign an RS256 access token for ``user`` and record it (API.md "Tokens and keys").

    Args:
        user: the token's subject; ``sub`` is ``str(user.pk)``.
        kind: ``client``, ``passkey``, ``email`` or ``session`` (metrics label).
        ttl: lifetime in seconds, default ``TOKEN_DEFAULT_TTL``, at most ``TOKEN_MAX_TTL``.
        client_id: the client-service client, recorded and added as the ``client_id`` claim.
        extra_claims: further claims (e.g. ``credentialID``); registered claims are refused.

    Raises:
        TokenLifetimeInvalid: ``ttl`` out of range.
        SigningUnavailable: 503, the current key cannot be decrypted (``JWT_SECRET`` changed).
        ValueError: unknown ``kind`` or a reserved claim in ``extra_claims`` (a caller's bug).
    """
    if kind not in TOKEN_KINDS:
        raise ValueError(f"unknown token kind {kind!r}")
    lifetime = app_settings.TOKEN_DEFAULT_TTL if ttl is None else ttl
    if not isinstance(lifetime, int) or not 0 < lifetime <= app_settings.TOKEN_MAX_TTL:
        raise TokenLifetimeInvalid()
    extra = dict(extra_claims or {})
    if RESERVED_CLAIMS.intersection(extra):
        raise ValueError(f"extra_claims may not set {sorted(RESERVED_CLAIMS & extra.keys())}")

    now = clock.now()
    view = _signing_view(now)
    assert view.current_kid is not None
    kid = view.current_kid
    issued_at = int(now.timestamp())
    expires = issued_at + lifetime
    claims: dict[str, Any] = {
        **extra,
        "iss": app_settings.ISSUER,
        "aud": app_settings.AUDIENCE,
        "sub": str(user.pk),
        "iat": issued_at,
        "exp": expires,
        "jti": secrets.token_urlsafe(24),
    }
    if client_id is not None:
        claims["client_id"] = str(client_id)
    try:
        signing_key = keyset.private_key(kid)
    except SigningKeyUnavailable:
        logger.error("signing_key_unavailable", kid=kid, hint="rotate_keys --now")
        raise SigningUnavailable() from None
    raw = jwt.encode(claims, signing_key, algorithm="RS256", headers={"kid": kid, "typ": "JWT"})
    expires_at = datetime.fromtimestamp(expires, tz=UTC)
    _RECORD_INSERT.insert(
        TokenRecord(
            jti=claims["jti"],
            user=user,
            client_id=str(client_id or ""),
            kind=kind,
            signing_key_id=kid,
            issued_at=datetime.fromtimestamp(issued_at, tz=UTC),
            expires_at=expires_at,
        )
    )
    TOKENS_ISSUED.labels(kind=kind).inc()
    return IssuedToken(
        raw=raw, jti=claims["jti"], expires_in=lifetime, expires_at=expires_at, claims=claims
    )


def verify_token(raw: str) -> VerifiedToken:
    """Verify an access token: the steps of docs/tokens.md ("Verification").

    Raises:
        InvalidToken: 401 with ``WWW-Authenticate: Bearer error="invalid_token"``; its
            ``reason`` is counted in ``authcore_auth_failures_total``.
    """
    try:
        return verification.verify(raw)
    except InvalidToken as error:
        AUTH_FAILURES.labels(reason=f"token_{error.reason}").inc()
        raise


def _revoke(queryset: Any, *, actor: Any, action: str, target: str) -> int:
    """Mark unrevoked records of ``queryset`` revoked, in the database then in Redis."""
    now = clock.now()
    with transaction.atomic():
        rows = list(
            queryset.filter(revoked_at__isnull=True)
            .select_for_update()
            .values_list("jti", "expires_at")
        )
        if not rows:
            return 0
        TokenRecord.objects.filter(pk__in=[jti for jti, _ in rows]).update(revoked_at=now)
        record_event(action, actor=actor, target=target, detail={"count": len(rows)})

        def after_commit() -> None:
            state_cache.mark_tokens(rows, state_cache.REVOKED)
            TOKEN_REVOCATIONS.inc(len(rows))

        transaction.on_commit(after_commit)
    return len(rows)


def revoke_token(*, jti: str, actor: Any = None) -> bool:
    """Revoke one token (RFC 7009); True if this call revoked it, False if unknown or done."""
    queryset = TokenRecord.objects.filter(jti=jti)
    return _revoke(queryset, actor=actor, action="token.revoked", target=f"token:{jti}") > 0


def revoke_tokens_of_user(*, user: Any, actor: Any = None) -> int:
    """Revoke every unrevoked token of ``user``; returns how many."""
    queryset = TokenRecord.objects.filter(user=user, expires_at__gt=clock.now())
    return _revoke(queryset, actor=actor, action="token.revoked_user", target=f"user:{user.pk}")


def revoke_tokens_of_client(*, client_id: str, actor: Any = None) -> int:
    """Revoke every unrevoked token issued through ``client_id``; returns how many."""
    queryset = TokenRecord.objects.filter(client_id=str(client_id), expires_at__gt=clock.now())
    return _revoke(
        queryset, actor=actor, action="token.revoked_client", target=f"client:{client_id}"
    )


def rotate_keys(*, now: bool = False, actor: Any = None) -> RotationResult:
    """Bring signing keys up to date (idempotent, concurrency-safe; API.md "Operations").

    Creates the next key when due (published ``JWT_KEY_PUBLISH_AHEAD_MINUTES`` before it
    signs), promotes it when its time has come, retires keys nothing can need; on an empty key
    set creates the first key. With ``now``, the published next key signs at once (consumers
    that cached the JWKS already hold it), a fresh next key is published for the following
    rotation and the old key stays published; only when no next key exists does a brand-new
    key sign at once (listed in ``RotationResult.unannounced``). Every process signs with the
    new key and serves the new JWKS within a second.
    """
    return rotation.rotate(force=now, actor=actor)


def revoke_key(*, kid: str, actor: Any = None) -> RotationResult:
    """Emergency: the key leaves the JWKS, every token it signed is rejected, a fresh key signs.

    When ``kid`` was the current key, the published next key takes over signing (as for
    ``rotate_keys(now=True)``) and a fresh next key is published; when it was the next key, a
    fresh one takes its place in the schedule.

    Raises:
        SigningKeyNotFound: no key has this kid.
    """
    return rotation.revoke(kid=kid, actor=actor)


def prune_expired() -> int:
    """Delete expired token records and retired or revoked keys no token record needs."""
    cutoff = clock.now()
    removed, _ = TokenRecord.objects.filter(expires_at__lt=cutoff).delete()
    finished = SigningKey.objects.filter(
        state__in=[SigningKey.State.RETIRED, SigningKey.State.REVOKED],
        token_records__isnull=True,
    )
    keys, _ = SigningKey.objects.filter(pk__in=list(finished.values_list("pk", flat=True))).delete()
    return removed + keys
