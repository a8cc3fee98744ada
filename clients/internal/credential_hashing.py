"""Generating and checking the client service's bearer secrets: API keys and user secrets.

Both are 256-bit random values (``secrets.token_urlsafe(32)``), so a keyed hash is enough to
store them: nothing can be guessed, and a slow password hasher (PBKDF2 at Django's cost checks
about six per second) would cap the API's throughput for no gain. We store
``hmac_sha256$<hex>`` computed with Django's ``salted_hmac`` (the primitive behind
``django.contrib.auth.tokens``) under a purpose-specific ``key_salt`` and ``SECRET_KEY``, and we
try ``SECRET_KEY_FALLBACKS`` as well so the server secret can rotate without killing every key;
a match under a fallback reports that the stored hash should be upgraded.

Shapes (the prefixes make a leaked value recognisable by secret scanners and by
``authcore.logging``'s redaction)::

    ak_<16 hex lookup id>.<43 base64url secret>     API key of a client
    us_<16 hex tag>.<43 base64url secret>           secret of a client user
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

ALGORITHM = "hmac_sha256"
API_KEY_PREFIX = "ak_"
USER_SECRET_PREFIX = "us_"

_LOOKUP_ID_BYTES = 8  # 16 hex characters, not secret
_SECRET_BYTES = 32  # 256 bits of entropy
_SHAPE = re.compile(r"^(ak|us)_([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$")

PURPOSE_API_KEY = "authcore.clients.api_key"
PURPOSE_USER_SECRET = "authcore.clients.user_secret"


@dataclass(frozen=True)
class GeneratedSecret:
    """A freshly generated credential.

    Attributes:
        raw: the whole value, shown to its owner once and never stored.
        lookup_id: the non-secret part after the prefix (an API key's lookup id, a user
            secret's tag), safe to show in the admin and in logs.
        hashed: what the database keeps.
    """

    raw: str = field(repr=False)
    lookup_id: str
    hashed: str = field(repr=False)


@dataclass(frozen=True)
class PresentedSecret:
    """A credential as a caller sent it, split into its parts (``lookup_id`` None if malformed)."""

    raw: str = field(repr=False)
    lookup_id: str | None


def _generate(prefix: str, purpose: str) -> GeneratedSecret:
    lookup_id = secrets.token_hex(_LOOKUP_ID_BYTES)
    raw = f"{prefix}{lookup_id}.{secrets.token_urlsafe(_SECRET_BYTES)}"
    return GeneratedSecret(raw=raw, lookup_id=lookup_id, hashed=hash_secret(raw, purpose=purpose))


def generate_api_key() -> GeneratedSecret:
    """A new client API key (``ak_…``)."""
    return _generate(API_KEY_PREFIX, PURPOSE_API_KEY)


def generate_user_secret() -> GeneratedSecret:
    """A new client-user secret (``us_…``)."""
    return _generate(USER_SECRET_PREFIX, PURPOSE_USER_SECRET)


def parse_api_key(presented: str) -> PresentedSecret:
    """Split a presented API key; a malformed one keeps ``lookup_id=None`` (still hashed)."""
    match = _SHAPE.match(presented)
    if match is None or match.group(1) != "ak":
        return PresentedSecret(raw=presented, lookup_id=None)
    return PresentedSecret(raw=presented, lookup_id=match.group(2))


def hash_secret(raw: str, *, purpose: str, secret_key: str | None = None) -> str:
    """The stored form of ``raw``: ``hmac_sha256$<hex>`` keyed by the server secret."""
    digest = salted_hmac(purpose, raw, secret=secret_key, algorithm="sha256").hexdigest()
    return f"{ALGORITHM}${digest}"


@dataclass(frozen=True)
class CheckResult:
    matches: bool
    must_update: bool  # matched under a SECRET_KEY_FALLBACKS entry: store a fresh hash


def check_secret(raw: str, stored: str, *, purpose: str) -> CheckResult:
    """Compare ``raw`` with a stored hash in constant time, under every server secret.

    Every candidate secret is hashed and compared whatever the outcome, so the work does not
    depend on which secret (if any) matches.
    """
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    matched_at: int | None = None
    for index, key in enumerate(keys):
        if constant_time_compare(hash_secret(raw, purpose=purpose, secret_key=key), stored):
            matched_at = index if matched_at is None else matched_at
    return CheckResult(matches=matched_at is not None, must_update=bool(matched_at))


# Compared against when the presented lookup id or identifier is unknown: the same HMAC and
# compare run as for a real credential (Django ticket #20760), so timing tells nothing.
_DUMMY_STORED = f"{ALGORITHM}${'0' * 64}"


def check_against_dummy(raw: str, *, purpose: str) -> None:
    """Do the work of ``check_secret`` for an unknown credential; never matches."""
    check_secret(raw, _DUMMY_STORED, purpose=purpose)
