"""The per-process memory of verified signatures (tokens.internal.verification.VerifiedCache).

A token verified once is not RSA-checked again by the same process, but everything that can
change still is: the key's publication (the memory belongs to one key-set version), the clock,
the record, its revocation and the user. Each test first makes sure the token is remembered,
so the refusal that follows is the memory's to get right.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest

from authcore.models import User
from tests.tokens import forge
from tests.tokens.conftest import Clock
from tokens import app_settings, services
from tokens.exceptions import InvalidToken
from tokens.internal import keyset, verification
from tokens.models import TokenRecord

pytestmark = pytest.mark.django_db(transaction=True)


def remembered(raw: str) -> bool:
    cache = verification._verified
    digest = hashlib.sha256(raw.encode()).digest()
    return cache.version is not None and cache.get(digest, version=cache.version) is not None


def verified_twice(raw: str) -> None:
    services.verify_token(raw)  # in full; fills Redis and the memory
    services.verify_token(raw)  # from memory
    assert remembered(raw)


def refused(raw: str) -> str:
    with pytest.raises(InvalidToken) as caught:
        services.verify_token(raw)
    return caught.value.reason


def test_a_revoked_keys_token_is_refused_at_once_by_a_process_that_remembered_it(
    user: User,
) -> None:
    token = services.issue_token(user=user, kind="client")
    verified_twice(token.raw)  # Redis now also holds "valid" for its record (60 s)
    stale = keyset.cached()
    services.revoke_key(kid=str(jwt.get_unverified_header(token.raw)["kid"]))
    keyset._keyset = stale  # another process: its old key set and its memory of the token
    assert refused(token.raw) == "unknown_key"
    assert not remembered(token.raw)  # the memory of the old key set is gone


def test_an_entry_remembered_under_an_older_key_set_is_never_trusted(user: User) -> None:
    token = services.issue_token(user=user, kind="client")
    services.verify_token(token.raw)
    old_version = verification._verified.version
    assert old_version is not None
    # A forgery that this memory would hold if it had ever been fooled under the old key set.
    forged = forge.signed_with(
        forge.attacker_key(), token.claims, kid=str(jwt.get_unverified_header(token.raw)["kid"])
    )
    verification._verified.put(
        hashlib.sha256(forged.encode()).digest(),
        version=old_version,
        kid=str(jwt.get_unverified_header(token.raw)["kid"]),
        claims=token.claims,
    )
    services.rotate_keys(now=True)  # a new key-set version
    assert refused(forged) == "signature"
    assert services.verify_token(token.raw).jti == token.jti  # re-verified in full: still good


def test_the_memory_is_bounded_and_forgotten_tokens_still_verify(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verification._verified, "size", 8)
    tokens = [services.issue_token(user=user, kind="client", ttl=600) for _ in range(20)]
    for token in tokens:
        services.verify_token(token.raw)
        assert len(verification._verified) <= 8
    assert not remembered(tokens[0].raw) and remembered(tokens[-1].raw)
    for token in tokens:
        assert services.verify_token(token.raw).jti == token.jti


def test_a_remembered_token_is_refused_once_revoked(user: User) -> None:
    token = services.issue_token(user=user, kind="client")
    verified_twice(token.raw)
    services.revoke_token(jti=token.jti)
    assert refused(token.raw) == "revoked"


def test_a_remembered_token_is_refused_once_its_record_is_gone(user: User) -> None:
    token = services.issue_token(user=user, kind="client")
    verified_twice(token.raw)
    TokenRecord.objects.filter(jti=token.jti).delete()
    assert refused(token.raw) == "unknown_token"


def test_a_remembered_token_is_refused_once_its_user_is_deactivated(user: User) -> None:
    token = services.issue_token(user=user, kind="client")
    verified_twice(token.raw)
    user.is_active = False
    user.save()
    assert refused(token.raw) == "user_inactive"


def test_a_remembered_token_is_refused_once_it_expires(user: User, frozen_clock: Clock) -> None:
    frozen_clock.now = datetime.now(UTC)
    token = services.issue_token(user=user, kind="client", ttl=60)
    verified_twice(token.raw)
    frozen_clock.advance(seconds=60 + app_settings.LEEWAY + 1)
    assert refused(token.raw) == "expired"


def test_changing_the_claims_a_caller_got_does_not_change_the_next_verification(
    user: User,
) -> None:
    token = services.issue_token(
        user=user, kind="passkey", extra_claims={"credentialID": "c1", "nested": {"a": 1}}
    )
    first: dict[str, Any] = services.verify_token(token.raw).claims
    first["sub"] = "someone-else"
    first["nested"]["a"] = 2
    again = services.verify_token(token.raw).claims
    assert again["sub"] == str(user.pk) and again["nested"] == {"a": 1}
