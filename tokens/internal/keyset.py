"""The per-process view of the published signing keys, kept in step across processes.

Every process holds one immutable ``KeySet`` (public keys by kid, the current kid, the JWKS
document and its ETag) tagged with a *version*: a digest of the (kid, state) pairs of the
published keys, so any process computes the same version from the same database state.
The version also lives in Redis (``tokens:keyset``). A process compares its own version with
Redis's — inside the MGET that verification does anyway, and at most every
``DOCUMENT_CHECK_INTERVAL`` for the JWKS and for signing — and reloads from the database
when they differ.
With Redis down, the database is re-read at most every ``FALLBACK_INTERVAL`` second instead;
and once a minute in any case, as a safety net. Decrypted private keys are cached by kid
(a kid is a thumbprint: the key behind it never changes), never decrypted per request.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from authcore.metrics import SIGNING_KEYS
from authcore.store import shared_store
from tokens.internal import key_encryption
from tokens.models import SigningKey

logger = structlog.get_logger(__name__)

VERSION_NAME = "tokens:keyset"
PUBLISHED_STATES = (SigningKey.State.NEXT, SigningKey.State.CURRENT, SigningKey.State.RETIRING)
# Seconds between version checks for the JWKS (the contract allows one second).
DOCUMENT_CHECK_INTERVAL = 0.5
# Seconds between database re-reads while Redis is unreachable.
FALLBACK_INTERVAL = 1.0
# Seconds after which the database is re-read whatever Redis says.
SAFETY_INTERVAL = 60.0


@dataclass(frozen=True)
class PublishedKey:
    kid: str
    state: str
    public_key: rsa.RSAPublicKey = field(repr=False)
    jwk: dict[str, str]
    published_at: datetime
    activates_at: datetime
    activated_at: datetime | None


@dataclass(frozen=True)
class KeySet:
    version: str
    keys: dict[str, PublishedKey]
    current_kid: str | None
    jwks_body: bytes
    etag: str
    loaded_at: float  # time.monotonic()

    @property
    def current(self) -> PublishedKey | None:
        return self.keys.get(self.current_kid) if self.current_kid else None

    @property
    def next(self) -> PublishedKey | None:
        return next((k for k in self.keys.values() if k.state == SigningKey.State.NEXT), None)


_lock = threading.Lock()
_keyset: KeySet | None = None
_public_keys: dict[str, rsa.RSAPublicKey] = {}
_private_keys: dict[str, rsa.RSAPrivateKey] = {}
_document_checked_at = 0.0


def version_of(pairs: list[tuple[str, str]]) -> str:
    """Digest of the published (kid, state) pairs: equal database state, equal version."""
    text = ";".join(f"{kid}:{state}" for kid, state in sorted(pairs))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _public_key(kid: str, jwk: dict[str, str]) -> rsa.RSAPublicKey:
    key = _public_keys.get(kid)
    if key is None:
        loaded = RSAAlgorithm.from_jwk(dict(jwk))
        assert isinstance(loaded, rsa.RSAPublicKey)
        key = _public_keys[kid] = loaded
    return key


_ORDER: dict[str, int] = {"current": 0, "next": 1, "retiring": 2}


def _load() -> KeySet:
    rows = list(
        SigningKey.objects.filter(state__in=PUBLISHED_STATES)
        .only("kid", "state", "public_jwk", "published_at", "activates_at", "activated_at")
        .order_by("-created_at")
    )
    rows.sort(key=lambda row: _ORDER.get(row.state, 9))  # current first, for naive consumers
    keys: dict[str, PublishedKey] = {}
    for row in rows:
        jwk = {"kty": row.public_jwk["kty"], "n": row.public_jwk["n"], "e": row.public_jwk["e"]}
        keys[row.kid] = PublishedKey(
            kid=row.kid,
            state=row.state,
            public_key=_public_key(row.kid, jwk),
            jwk=jwk,
            published_at=row.published_at,
            activates_at=row.activates_at,
            activated_at=row.activated_at,
        )
    document = {
        "keys": [
            {
                "kty": k.jwk["kty"],
                "kid": k.kid,
                "use": "sig",
                "alg": "RS256",
                "n": k.jwk["n"],
                "e": k.jwk["e"],
            }
            for k in keys.values()
        ]
    }
    body = json.dumps(document, separators=(",", ":")).encode()
    current = next((k.kid for k in keys.values() if k.state == SigningKey.State.CURRENT), None)
    for state in PUBLISHED_STATES:
        SIGNING_KEYS.labels(state=state).set(sum(k.state == state for k in keys.values()))
    return KeySet(
        version=version_of([(k.kid, k.state) for k in keys.values()]),
        keys=keys,
        current_kid=current,
        jwks_body=body,
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
        loaded_at=time.monotonic(),
    )


def reload() -> KeySet:
    """Read the published keys from the database now and make them this process's view."""
    global _keyset
    with _lock:
        _keyset = _load()
        return _keyset


def cached() -> KeySet | None:
    """This process's view without any I/O (may be stale: callers check the version)."""
    return _keyset


def for_version(remote: bytes | None) -> KeySet:
    """The view matching Redis's ``remote`` version, reloading when it differs.

    When the database disagrees with Redis after a reload (a rotation made while Redis was
    down), the database wins and its version is written back.
    """
    keyset = _keyset
    if (
        keyset is not None
        and remote is not None
        and remote.decode() == keyset.version
        and time.monotonic() - keyset.loaded_at < SAFETY_INTERVAL
    ):
        return keyset
    keyset = reload()
    if remote is None:
        shared_store().set(VERSION_NAME, keyset.version, only_new=True)
    elif remote.decode() != keyset.version:
        shared_store().set(VERSION_NAME, keyset.version)
    return keyset


def without_redis() -> KeySet:
    """Redis is down: the database, re-read at most every ``FALLBACK_INTERVAL``."""
    keyset = _keyset
    if keyset is not None and time.monotonic() - keyset.loaded_at < FALLBACK_INTERVAL:
        return keyset
    return reload()


def checked() -> KeySet:
    """The up-to-date view: one Redis GET (or the database fallback)."""
    store = shared_store()
    client = store.redis
    if client is None:
        return without_redis()
    try:
        remote: Any = client.get(store.key(VERSION_NAME))
    except Exception as error:  # redis errors: open the breaker, use the database
        store.trip(error)
        return without_redis()
    return for_version(remote)


def for_documents() -> KeySet:
    """The view for the JWKS: checked at most every ``DOCUMENT_CHECK_INTERVAL``. Without
    Redis, ``without_redis`` alone paces the reloads (no check costs I/O there, and a second
    gate would let a revoked key sign for up to 1.5 s instead of one)."""
    global _document_checked_at
    if not shared_store().using_redis:  # an attribute read: no client built per call
        return without_redis()
    keyset = _keyset
    now = time.monotonic()
    if keyset is not None and now - _document_checked_at < DOCUMENT_CHECK_INTERVAL:
        return keyset
    _document_checked_at = now
    return checked()


def for_signing() -> KeySet:
    """The view for signing: like the JWKS, checked at most every ``DOCUMENT_CHECK_INTERVAL``
    (no Redis round trip per issued token). After ``rotate_keys --now`` or ``revoke_key`` every
    process signs with the new key within that interval; the process that made the change at
    once (``rotation`` reloads it on commit)."""
    return for_documents()


def announce(keyset: KeySet) -> None:
    """After a change committed: every process compares against this version."""
    shared_store().set(VERSION_NAME, keyset.version)


def private_key(kid: str) -> rsa.RSAPrivateKey:
    """The decrypted signing key of ``kid``, decrypted once per process."""
    key = _private_keys.get(kid)
    if key is None:
        row = SigningKey.objects.only("kid", "private_key_encrypted").get(kid=kid)
        key = key_encryption.unseal(bytes(row.private_key_encrypted), kid=kid)
        with _lock:
            _private_keys[kid] = key
    return key


def recheck() -> None:
    """Make the next ``for_documents``/``for_signing`` compare versions with Redis (tests whose
    database is rolled back under the process's view, as if another instance had rotated)."""
    global _document_checked_at
    _document_checked_at = 0.0


def forget() -> None:
    """Drop this process's view (tests that rebuild the database)."""
    global _keyset, _document_checked_at
    with _lock:
        _keyset = None
        _document_checked_at = 0.0
        _private_keys.clear()
