"""Writes of the tokens app: issue, verify, revoke tokens; rotate and revoke signing keys.

Contract: API.md "Tokens and keys" and "Operations"; design: docs/tokens.md.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import structlog
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection, transaction

from authcore.audit import record_event
from authcore.compiled_query import CompiledInsert, CompiledQuery
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
    "PendingToken",
    "RotationResult",
    "VerifiedToken",
    "discard_pending",
    "issue_token",
    "prune_expired",
    "reserve_token",
    "revoke_key",
    "revoke_token",
    "revoke_tokens_of_client",
    "revoke_tokens_of_user",
    "rotate_keys",
    "sign_pending",
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


@dataclass(frozen=True)
class _Plan:
    """What a token about to be issued will carry, fixed before its record is written."""

    kind: str
    kid: str
    jti: str
    issued_at: int
    lifetime: int

    @property
    def issued_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.issued_at, tz=UTC)

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.issued_at + self.lifetime, tz=UTC)


def _plan(kind: str, ttl: int | None) -> _Plan:
    if kind not in TOKEN_KINDS:
        raise ValueError(f"unknown token kind {kind!r}")
    lifetime = app_settings.TOKEN_DEFAULT_TTL if ttl is None else ttl
    if not isinstance(lifetime, int) or not 0 < lifetime <= app_settings.TOKEN_MAX_TTL:
        raise TokenLifetimeInvalid()
    now = clock.now()
    view = _signing_view(now)
    assert view.current_kid is not None
    return _Plan(
        kind=kind,
        kid=view.current_kid,
        jti=secrets.token_urlsafe(24),
        issued_at=int(now.timestamp()),
        lifetime=lifetime,
    )


def _sign(plan: _Plan, *, sub: str, client_id: str | None, extra: dict[str, Any]) -> IssuedToken:
    """Sign the planned token (its record and its count are the caller's)."""
    claims: dict[str, Any] = {
        **extra,
        "iss": app_settings.ISSUER,
        "aud": app_settings.AUDIENCE,
        "sub": sub,
        "iat": plan.issued_at,
        "exp": plan.issued_at + plan.lifetime,
        "jti": plan.jti,
    }
    if client_id is not None:
        claims["client_id"] = client_id
    try:
        signing_key = keyset.private_key(plan.kid)
    except SigningKeyUnavailable:
        logger.error("signing_key_unavailable", kid=plan.kid, hint="rotate_keys --now")
        raise SigningUnavailable() from None
    headers = {"kid": plan.kid, "typ": "JWT"}
    raw = jwt.encode(claims, signing_key, algorithm="RS256", headers=headers)
    return IssuedToken(
        raw=raw,
        jti=plan.jti,
        expires_in=plan.lifetime,
        expires_at=plan.expires_at,
        claims=claims,
    )


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
    extra = dict(extra_claims or {})
    if RESERVED_CLAIMS.intersection(extra):
        raise ValueError(f"extra_claims may not set {sorted(RESERVED_CLAIMS & extra.keys())}")
    plan = _plan(kind, ttl)
    client = None if client_id is None else str(client_id)
    issued = _sign(plan, sub=str(user.pk), client_id=client, extra=extra)
    _RECORD_INSERT.insert(
        TokenRecord(
            jti=plan.jti,
            user_id=user.pk,
            client_id=client or "",
            kind=kind,
            signing_key_id=plan.kid,
            issued_at=plan.issued_datetime,
            expires_at=issued.expires_at,
        )
    )
    TOKENS_ISSUED.labels(kind=kind).inc()
    return issued


@dataclass(frozen=True)
class PendingToken:
    """A token record written by ``reserve_token``, its token not signed yet.

    The caller signs it (``sign_pending``) once its own checks pass, or deletes it
    (``discard_pending``). Holds no secret: the token does not exist until it is signed.
    """

    plan: _Plan
    user_id: str
    client_id: str


def reserve_token(
    *,
    lookup: CompiledQuery,
    values: dict[str, str],
    user_column: int,
    client_column: int,
    eligible_column: int,
    kind: str,
    ttl: int | None = None,
) -> tuple[list[tuple[Any, ...]], PendingToken | None]:
    """Run a caller's lookup and, in the same SQL statement, record a token for its user.

    For an exchange of credentials for a token: the caller's query finds the user and says,
    in its ``eligible_column``, whether the credentials it was given match (the caller's
    comparison of keyed hashes, see docs/tokens.md "Issuing in one statement"). One
    statement then reads the rows and, for the first eligible one, inserts the token record
    with the user and client ids of ``user_column`` and ``client_column``: one round trip
    instead of a lookup and an INSERT. The caller still makes its own checks on the rows
    and then signs (``sign_pending``) or deletes (``discard_pending``) what was recorded.

    PostgreSQL only (a data-modifying ``WITH``); on another database the lookup runs alone
    and no token is pending: the caller issues with ``issue_token`` as usual.

    Returns:
        The lookup's rows (its own columns only) and the pending token, if one was recorded.

    The plan (key, ``jti``, times; a lazy rotation if one is overdue) is made before the
    statement, so it does not depend on the caller's credentials.

    Raises:
        TokenLifetimeInvalid, ValueError: as ``issue_token``, before anything is read.
    """
    plan = _plan(kind, ttl)
    if connection.vendor != "postgresql":
        return lookup.rows_for(values), None
    around = _RecordAround(plan, user_column, client_column, eligible_column)
    try:
        rows = lookup.rows_for(values, around=around)
        pending = None
        for row in rows:
            user_id, client_id = row[-2:]
            if user_id is not None:
                pending = PendingToken(plan=plan, user_id=str(user_id), client_id=client_id)
                break
        return [row[:-2] for row in rows], pending
    except DatabaseError:
        raise  # the statement failed as a whole: nothing was written
    except BaseException:
        _discard(plan.jti)  # e.g. a converter failed after the statement committed
        raise


def sign_pending(pending: PendingToken) -> IssuedToken:
    """Sign the token ``reserve_token`` recorded; its claims come from that record.

    Raises:
        SigningUnavailable: 503 (as ``issue_token``). On any failure the record is deleted.
    """
    try:
        issued = _sign(
            pending.plan, sub=pending.user_id, client_id=pending.client_id or None, extra={}
        )
    except BaseException:
        discard_pending(pending)
        raise
    TOKENS_ISSUED.labels(kind=pending.plan.kind).inc()
    return issued


def discard_pending(pending: PendingToken) -> None:
    """Delete the record of a token that will not be signed (the caller refused).

    Never raises: the caller is answering a refusal or an error already, and a record left
    behind names a token that never existed (nobody can present it; ``prune`` removes it when
    it expires). A failure is logged.
    """
    _discard(pending.plan.jti)


def _discard(jti: str) -> None:
    try:
        TokenRecord.objects.filter(jti=jti).delete()
    except Exception:
        logger.warning("pending_token_not_discarded", jti=jti, exc_info=True)


# The record's columns in the order ``_RecordAround`` fills them (``revoked_at`` stays NULL).
_RECORD_COLUMNS = ("jti", "user", "client_id", "kind", "signing_key", "issued_at", "expires_at")


def check_record_columns() -> None:
    """Fail loudly at start-up if ``TokenRecord`` gained or lost a field that the one-statement
    INSERT (``_record_around_sql``) would have to fill (called from ``TokensConfig.ready``)."""
    names = {f.name for f in TokenRecord._meta.concrete_fields}
    if names != {*_RECORD_COLUMNS, "revoked_at"}:
        raise ImproperlyConfigured(
            f"TokenRecord's fields {sorted(names)} differ from what reserve_token writes"
        )


@functools.cache
def _record_fields() -> dict[str, Any]:
    return {f.name: f for f in TokenRecord._meta.concrete_fields}


class _RecordAround:
    """The data-modifying ``WITH`` of ``reserve_token`` around a caller's lookup."""

    def __init__(self, plan: _Plan, user_at: int, client_at: int, eligible_at: int) -> None:
        self._columns = (user_at, client_at, eligible_at)
        fields = _record_fields()
        prepared = {
            "jti": plan.jti,
            "kind": plan.kind,
            "signing_key": plan.kid,
            "issued_at": plan.issued_datetime,
            "expires_at": plan.expires_at,
        }
        self.params: Sequence[Any] = [
            fields[name].get_db_prep_save(value, connection) for name, value in prepared.items()
        ]

    def statement(self, sql: str, width: int) -> str:
        return _record_around_sql(sql, width, *self._columns)


@functools.lru_cache(maxsize=16)
def _record_around_sql(sql: str, width: int, user_at: int, client_at: int, eligible_at: int) -> str:
    if not all(0 <= at < width for at in (user_at, client_at, eligible_at)):
        raise ValueError(f"column positions {user_at, client_at, eligible_at} beyond {width}")
    quote = connection.ops.quote_name
    meta = TokenRecord._meta
    column = {f.name: quote(f.get_attname_column()[1] or "") for f in meta.concrete_fields}
    names = ", ".join(f"c{index}" for index in range(width))
    into = ", ".join(column[name] for name in _RECORD_COLUMNS)
    # Only quoted names, integers and Django's compiled SQL go into the text; every value is
    # a parameter.
    return (
        f"WITH found ({names}) AS ({sql}), "  # noqa: S608
        f"record AS (INSERT INTO {quote(meta.db_table)} ({into}) "
        f"SELECT %s, found.c{user_at}, found.c{client_at}, %s, %s, %s, %s "
        f"FROM found WHERE found.c{eligible_at} LIMIT 1 "
        f"RETURNING {column['user']}, {column['client_id']}) "
        f"SELECT found.*, record.{column['user']}, record.{column['client_id']} "
        "FROM found LEFT JOIN record ON TRUE"
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


def jti_of_signed_token(raw: str) -> str | None:
    """The ``jti`` of a token this server signed with a key still published, whether or not it
    would be accepted now (its user inactive, revoked, expired), else None. For revocation by
    value: check who owns the record before revoking."""
    try:
        jti: str = verification.signed_claims(raw)["jti"]
    except InvalidToken:
        return None
    return jti


REVOKE_BATCH = 10_000
PRUNE_BATCH = 5_000


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
        jtis = [jti for jti, _ in rows]
        for start in range(0, len(jtis), REVOKE_BATCH):  # a statement takes 65,535 parameters
            batch = jtis[start : start + REVOKE_BATCH]
            TokenRecord.objects.filter(pk__in=batch).update(revoked_at=now)
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


def revoke_tokens_of_client(*, client_id: str, actor: Any = None, user_id: Any = None) -> int:
    """Revoke every unrevoked token issued through ``client_id`` (only ``user_id``'s when
    given); returns how many."""
    queryset = TokenRecord.objects.filter(client_id=str(client_id), expires_at__gt=clock.now())
    if user_id is not None:
        queryset = queryset.filter(user_id=user_id)
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
    removed = 0
    while True:  # in batches: a backlog (beat stopped for a week) never loads, or locks, it all
        batch = list(
            TokenRecord.objects.filter(expires_at__lt=cutoff)
            .order_by()  # any expired rows: no sort of the whole backlog per batch
            .values_list("pk", flat=True)[:PRUNE_BATCH]
        )
        if not batch:
            break
        deleted, _ = TokenRecord.objects.filter(pk__in=batch).delete()
        removed += deleted
    finished = SigningKey.objects.filter(
        state__in=[SigningKey.State.RETIRED, SigningKey.State.REVOKED],
        token_records__isnull=True,
    )
    keys, _ = SigningKey.objects.filter(pk__in=list(finished.values_list("pk", flat=True))).delete()
    return removed + keys
