"""Verification of an Authcore access token, in the order RFC 8725 asks for.

1. The header, before anything is trusted: ``alg`` must be RS256 (§3.1, pinned: the header
   never chooses), no ``jku``/``x5u``/``jwk``/``x5c`` (keys are ours, never the token's, §3.10),
   no ``crit`` (we understand no extension), and a ``kid`` naming a published key
   (anything else, odd characters included, is simply unknown: it is only a dict lookup).
2. Signature, ``exp``/``nbf``/``iat`` with ``LEEWAY``, ``iss``, ``aud`` and the required claims
   (RFC 7519 §4.1), by PyJWT with the algorithm list ``["RS256"]``.
3. State, in one Redis round trip: MGET of the key-set version (a revoked key leaves the set at
   once), the cache epoch, the token's state and a snapshot of its user. A "valid" state
   counts only under the current epoch (``state_cache``: renewed whenever a process
   reconnects after Redis failed, so nothing cached before an outage outlives it). Anything
   missing or stale is read from the database (one query) and cached. With Redis down, the
   database answers every time.

The outcome of steps 1-2 for the very same token bytes is remembered per process
(``VerifiedCache``), so a client reusing its token skips the header parsing and the RSA check.
That is safe because it is a pure function of the bytes and the key: the kid is the key's
RFC 7638 thumbprint, so the public key behind a kid never changes. Everything that does change
is checked on every call: ``exp``/``nbf``/``iat`` against the clock, the key's publication in the
key-set version read by step 3 (the cache belongs to one key-set version and is emptied when
that changes, so after a rotation or revocation every token is verified in full again), and
the token's record, revocation and user.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import jwt

from authcore.models import User
from authcore.store import shared_store
from tokens import app_settings
from tokens.exceptions import InvalidToken
from tokens.internal import clock, keyset, state_cache
from tokens.internal.keyset import KeySet
from tokens.models import TokenRecord

REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "exp", "jti"]
FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "crit", "b64"})
MAX_TOKEN_LENGTH = 8192
# Tokens whose header, signature and claims this process verified (see VerifiedCache).
VERIFIED_CACHE_SIZE = 4096

_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid"),
    (jwt.InvalidIssuerError, "issuer"),
    (jwt.InvalidAudienceError, "audience"),
    (jwt.MissingRequiredClaimError, "claims"),
    (jwt.InvalidSignatureError, "signature"),
    (jwt.InvalidAlgorithmError, "algorithm"),
)


@dataclass(frozen=True)
class VerifiedToken:
    """A token that passed every check.

    Attributes:
        user: the token's user (a real ``User``; see ``state_cache.user_from_snapshot``).
        claims: the verified claims.
        jti: the token's ID.
        client_id: the client the token was issued through, or None.
    """

    user: User
    claims: dict[str, Any]
    jti: str
    client_id: str | None


def _check_raw(raw: object) -> None:
    """A non-empty string of bounded length, before anything parses it."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_TOKEN_LENGTH:
        raise InvalidToken("malformed")


def _check_header(raw: str) -> str:
    """Step 1; returns the kid."""
    try:
        header = jwt.get_unverified_header(raw)
    except jwt.PyJWTError as error:
        raise InvalidToken("malformed") from error
    if header.get("alg") != "RS256":
        raise InvalidToken("algorithm")
    if FORBIDDEN_HEADERS.intersection(header):
        raise InvalidToken("header")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise InvalidToken("unknown_key")
    return kid


def _key_set_with(kid: str) -> KeySet:
    """The view of the published keys that knows ``kid``, or InvalidToken."""
    current = keyset.cached()
    if current is not None and kid in current.keys:
        return current
    # Unknown here: a key published since our last look? One Redis GET (or the throttled
    # database fallback) answers; an attacker's random kids cost no SQL while Redis is up.
    fresh = keyset.checked()
    if kid not in fresh.keys:
        raise InvalidToken("unknown_key")
    return fresh


def _decode(raw: str, view: KeySet, kid: str, *, times: bool = True) -> dict[str, Any]:
    """Step 2 (without ``exp``/``nbf``/``iat`` when ``times`` is False)."""
    try:
        claims: dict[str, Any] = jwt.decode(
            raw,
            view.keys[kid].public_key,
            algorithms=["RS256"],
            audience=app_settings.AUDIENCE,
            issuer=app_settings.ISSUER,
            leeway=app_settings.LEEWAY,
            options={
                "require": REQUIRED_CLAIMS,
                "strict_aud": False,
                "verify_exp": times,
                "verify_nbf": times,
                "verify_iat": times,
            },
        )
    except jwt.PyJWTError as error:
        for kind, reason in _ERRORS:
            if isinstance(error, kind):
                raise InvalidToken(reason) from error
        raise InvalidToken("malformed") from error
    if not isinstance(claims["jti"], str) or not isinstance(claims["sub"], str):
        raise InvalidToken("claims")
    if times:
        _check_times(claims)
    return claims


def _check_times(claims: dict[str, Any]) -> None:
    """exp/nbf/iat against the app's clock (PyJWT checked the wall clock; tests move ours)."""
    now = clock.now().timestamp()
    leeway = app_settings.LEEWAY
    if claims["exp"] <= now - leeway:
        raise InvalidToken("expired")
    if claims["iat"] > now + leeway or claims.get("nbf", 0) > now + leeway:
        raise InvalidToken("not_yet_valid")


_SCALARS = (str, int, float, bool, type(None))


def _flat(claims: dict[str, Any]) -> bool:
    return all(isinstance(value, _SCALARS) for value in claims.values())


class VerifiedCache:
    """Steps 1-2 remembered for one key-set version: SHA-256 of the token -> (kid, claims).

    Bounded (least recently used first out, at most ``size`` entries, a token being at most
    ``MAX_TOKEN_LENGTH`` bytes); never holds a token itself. An entry is only returned for the
    key-set version it was stored under, and a different version empties the cache: after a
    rotation or revocation each token is verified in full against the new key set.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.version: str | None = None
        self._entries: OrderedDict[bytes, tuple[str, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def _adopt(self, version: str) -> None:
        if version != self.version:
            self._entries.clear()
            self.version = version

    def follow(self, version: str) -> None:
        """The key set is now ``version``: forget everything remembered under another."""
        if version != self.version:
            with self._lock:
                self._adopt(version)

    def get(self, digest: bytes, *, version: str) -> tuple[str, dict[str, Any]] | None:
        """The remembered (kid, claims) as a fresh copy, or None."""
        with self._lock:
            self._adopt(version)
            entry = self._entries.get(digest)
            if entry is None:
                return None
            self._entries.move_to_end(digest)
        kid, claims = entry
        # Claims of scalars only (the usual case) need no deep copy: a dict copy is fresh.
        return kid, dict(claims) if _flat(claims) else copy.deepcopy(claims)

    def put(self, digest: bytes, *, version: str, kid: str, claims: dict[str, Any]) -> None:
        entry = (kid, dict(claims) if _flat(claims) else copy.deepcopy(claims))
        with self._lock:
            self._adopt(version)
            self._entries[digest] = entry
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.version = None


_verified = VerifiedCache(VERIFIED_CACHE_SIZE)


def _signature_and_claims(raw: str, view: KeySet | None = None) -> tuple[str, dict[str, Any]]:
    """Steps 1 and 2 in full, against ``view`` (default: the view that knows the kid)."""
    kid = _check_header(raw)
    if view is None:
        view = _key_set_with(kid)
    elif kid not in view.keys:
        raise InvalidToken("unknown_key")
    return kid, _decode(raw, view, kid)


def signed_claims(raw: str) -> dict[str, Any]:
    """Steps 1 and 2 without the clock: the claims of a token signed by a published key of
    ours, whatever its times and its record's state. For revocation by value (RFC 7009): a
    token refused now (its user deactivated, a clock ahead of ours) may be accepted later, so
    it must still be revocable; ownership is the caller's check."""
    _check_raw(raw)
    kid = _check_header(raw)
    return _decode(raw, _key_set_with(kid), kid, times=False)


def _from_database(claims: dict[str, Any], kid: str, client: Any, epoch: bytes | None) -> User:
    """The token's record and user from the database (cache miss or Redis down); ``epoch`` is
    the cache epoch the MGET read before this query."""
    jti = claims["jti"]
    records = TokenRecord.objects.select_related("user").filter(jti=jti)
    if client is None:  # no key-set version to compare: the key's state comes with the record
        records = records.select_related("signing_key").defer(
            "signing_key__private_key_encrypted", "signing_key__public_jwk"
        )
    record = records.first()
    if record is None or str(record.user_id) != claims["sub"] or record.signing_key_id != kid:
        raise InvalidToken("unknown_token")
    if client is None and record.signing_key.state not in keyset.PUBLISHED_STATES:
        # Without Redis this process's view may be up to a second old: a key revoked
        # meanwhile is refused here, even for a token this very process signed with it.
        raise InvalidToken("unknown_key")
    user = record.user
    if client is not None:
        state_cache.fill(
            client,
            jti=jti,
            revoked=record.revoked_at is not None,
            expires_at=record.expires_at,
            user=user,
            epoch=epoch,
        )
    if record.revoked_at is not None:
        raise InvalidToken("revoked")
    if not user.is_active:
        raise InvalidToken("user_inactive")
    return user


def verify(raw: str) -> VerifiedToken:
    """Every check of the module docstring; raises ``InvalidToken`` with a reason."""
    _check_raw(raw)
    digest = hashlib.sha256(raw.encode()).digest()
    seen = keyset.cached()
    remembered = _verified.get(digest, version=seen.version) if seen is not None else None
    if remembered is not None:
        kid, claims = remembered
        _check_times(claims)  # time moves on: never remembered
    else:
        kid, claims = _signature_and_claims(raw)
    jti, sub = claims["jti"], claims["sub"]

    store = shared_store()
    client = store.redis
    user: User | None = None
    view: KeySet | None = None
    epoch = token_state = snapshot = None
    if client is not None:
        try:
            version, epoch, token_state, snapshot = client.mget(  # type: ignore[misc]
                [
                    store.key(keyset.VERSION_NAME),
                    store.key(state_cache.EPOCH_NAME),
                    store.key(state_cache.token_name(jti)),
                    store.key(state_cache.user_name(sub)),
                ]
            )
        except Exception as error:  # redis errors: the database decides
            store.trip(error)
            client = None
        else:
            view = keyset.for_version(version)
    if view is None:
        view = keyset.without_redis()
    _verified.follow(view.version)
    if kid not in view.keys:
        raise InvalidToken("unknown_key")  # the key was revoked meanwhile
    if remembered is not None and (seen is None or view.version != seen.version):
        # The key set changed since the entry was remembered: verify in full against it.
        kid, claims = _signature_and_claims(raw, view)
        remembered = None
    if remembered is None:
        _verified.put(digest, version=view.version, kid=kid, claims=claims)

    if client is not None:
        if token_state == state_cache.REVOKED:
            raise InvalidToken("revoked")
        if token_state == state_cache.GONE:
            raise InvalidToken("unknown_token")
        if snapshot == state_cache.GONE:
            raise InvalidToken("user_inactive")
        if state_cache.is_valid(token_state, epoch) and snapshot is not None:
            user = state_cache.user_from_snapshot(snapshot)
            if not user.is_active or str(user.pk) != sub:
                raise InvalidToken("user_inactive")
    if user is None:
        user = _from_database(claims, kid, client, epoch)
    client_id = claims.get("client_id")
    return VerifiedToken(
        user=user,
        claims=claims,
        jti=jti,
        client_id=client_id if isinstance(client_id, str) else None,
    )
