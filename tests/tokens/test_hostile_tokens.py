"""The hostile catalogue of issue 4: each is a 401 invalid_token, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from rest_framework.test import APIClient

from authcore.models import User
from tests.leaks import outcome
from tests.tokens import forge
from tests.tokens.conftest import Clock
from tokens import app_settings, services
from tokens.exceptions import InvalidToken
from tokens.internal.key_encryption import public_jwk
from tokens.models import TokenRecord

pytestmark = pytest.mark.django_db(transaction=True)


def me(raw: str) -> Any:
    return APIClient().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {raw}")


def assert_refused(raw: str) -> None:
    response = me(raw)
    assert response.status_code == 401, outcome(response)
    assert response.json()["code"] == "invalid_token"
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'


@pytest.fixture
def issued(user: User) -> services.IssuedToken:
    token = services.issue_token(user=user, kind="client", ttl=3600)
    answered = me(token.raw).status_code
    assert answered == 200  # good before, so the refusals mean something
    return token


def good_claims(issued: services.IssuedToken, **changes: Any) -> dict[str, Any]:
    return {**issued.claims, **changes}


def kid_of(issued: services.IssuedToken) -> str:
    return str(jwt.get_unverified_header(issued.raw)["kid"])


FORGERIES: dict[str, Callable[[services.IssuedToken], str]] = {
    "alg none": lambda t: forge.unsigned(good_claims(t), kid_of(t)),
    "HS256 keyed with our public key": lambda t: forge.hs256_with_public_key(
        good_claims(t), kid_of(t)
    ),
    "unknown kid": lambda t: forge.signed_with(forge.attacker_key(), good_claims(t), kid="x1"),
    "kid with path characters": lambda t: forge.signed_with(
        forge.attacker_key(), good_claims(t), kid="../../../etc/passwd"
    ),
    "kid with SQL characters": lambda t: forge.signed_with(
        forge.attacker_key(), good_claims(t), kid="' OR '1'='1' --"
    ),
    "our kid, attacker's key": lambda t: forge.signed_with(
        forge.attacker_key(), good_claims(t), kid=kid_of(t)
    ),
    "jku header pointing elsewhere": lambda t: forge.signed_with_our_key(
        good_claims(t), kid_of(t), jku="https://evil.example/jwks.json"
    ),
    "x5u header pointing elsewhere": lambda t: forge.signed_with_our_key(
        good_claims(t), kid_of(t), x5u="https://evil.example/cert.pem"
    ),
    "embedded jwk header": lambda t: _embedded_jwk(t),
    "crit header": lambda t: forge.signed_with_our_key(good_claims(t), kid_of(t), crit=["exp"]),
    "not yet valid": lambda t: forge.signed_with_our_key(
        good_claims(t, nbf=t.claims["iat"] + 3600), kid_of(t)
    ),
    "issued in the future": lambda t: forge.signed_with_our_key(
        good_claims(t, iat=t.claims["iat"] + 3600), kid_of(t)
    ),
    "wrong issuer": lambda t: forge.signed_with_our_key(
        good_claims(t, iss="https://evil.example"), kid_of(t)
    ),
    "wrong audience": lambda t: forge.signed_with_our_key(
        good_claims(t, aud="someone-else"), kid_of(t)
    ),
    "no jti": lambda t: forge.signed_with_our_key(
        {k: v for k, v in t.claims.items() if k != "jti"}, kid_of(t)
    ),
    "no exp": lambda t: forge.signed_with_our_key(
        {k: v for k, v in t.claims.items() if k != "exp"}, kid_of(t)
    ),
    "a jti that was never issued": lambda t: forge.signed_with_our_key(
        good_claims(t, jti="never-issued"), kid_of(t)
    ),
    "tampered payload (other subject)": lambda t: forge.tamper_payload(
        t.raw, sub="00000000-0000-0000-0000-000000000000"
    ),
    "tampered signature": lambda t: forge.tamper_signature(t.raw),
    "garbage": lambda t: "a.b.c",
    "two segments": lambda t: ".".join(t.raw.split(".")[:2]),
    "huge": lambda t: "e" * 100_000,
}


EXPECTED_REASON = {
    "alg none": "algorithm",
    "HS256 keyed with our public key": "algorithm",
    "unknown kid": "unknown_key",
    "kid with path characters": "unknown_key",
    "kid with SQL characters": "unknown_key",
    "our kid, attacker's key": "signature",
    "jku header pointing elsewhere": "header",
    "x5u header pointing elsewhere": "header",
    "embedded jwk header": "header",
    "crit header": "malformed",  # PyJWT refuses an unsupported crit while parsing
    "not yet valid": "not_yet_valid",
    "issued in the future": "not_yet_valid",
    "wrong issuer": "issuer",
    "wrong audience": "audience",
    "no jti": "claims",
    "no exp": "claims",
    "a jti that was never issued": "unknown_token",
    "tampered payload (other subject)": "signature",
    "tampered signature": "signature",
    "garbage": "malformed",
    "two segments": "malformed",
    "huge": "malformed",
}


def _embedded_jwk(token: services.IssuedToken) -> str:
    key = forge.attacker_key()
    return forge.signed_with(key, good_claims(token), kid=kid_of(token), jwk=public_jwk(key))


@pytest.mark.parametrize("name", list(FORGERIES))
def test_a_forged_or_altered_token_is_refused(name: str, issued: services.IssuedToken) -> None:
    raw = FORGERIES[name](issued)
    assert_refused(raw)
    with pytest.raises(InvalidToken) as caught:
        services.verify_token(raw)
    assert caught.value.reason == EXPECTED_REASON[name]


def test_an_expired_token_is_refused(user: User, frozen_clock: Clock) -> None:
    token = services.issue_token(user=user, kind="client", ttl=60)  # ten days ago
    assert_refused(token.raw)


def test_a_token_expiring_as_the_clock_moves_is_refused(user: User, frozen_clock: Clock) -> None:
    frozen_clock.now = datetime.now(UTC)
    token = services.issue_token(user=user, kind="client", ttl=600)
    answered = me(token.raw).status_code
    assert answered == 200
    frozen_clock.advance(seconds=600 + app_settings.LEEWAY + 1)
    assert_refused(token.raw)


def test_a_token_whose_record_was_deleted_is_refused(issued: services.IssuedToken) -> None:
    TokenRecord.objects.filter(jti=issued.jti).delete()
    assert_refused(issued.raw)


def test_a_revoked_token_is_refused(issued: services.IssuedToken) -> None:
    services.revoke_token(jti=issued.jti)
    assert_refused(issued.raw)


def test_a_token_revoked_in_the_admin_by_saving_the_record_is_refused(
    issued: services.IssuedToken,
) -> None:
    record = TokenRecord.objects.get(jti=issued.jti)
    record.revoked_at = record.issued_at
    record.save()
    assert_refused(issued.raw)


def test_a_token_of_a_revoked_key_is_refused(issued: services.IssuedToken) -> None:
    services.revoke_key(kid=kid_of(issued))
    assert_refused(issued.raw)


def test_a_deleted_users_token_is_refused(user: User, issued: services.IssuedToken) -> None:
    user.delete()
    assert_refused(issued.raw)


def test_an_inactive_users_token_is_refused(user: User, issued: services.IssuedToken) -> None:
    user.is_active = False
    user.save()
    assert_refused(issued.raw)


def test_a_pem_is_never_accepted_as_bearer(issued: services.IssuedToken) -> None:
    key = forge.attacker_key()
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert_refused(pem.decode().replace("\n", ""))
