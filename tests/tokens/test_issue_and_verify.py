"""issue_token / verify_token: the interface other apps use."""

from __future__ import annotations

import jwt
import pytest
from rest_framework.test import APIClient

from authcore.models import User
from tests.leaks import assert_absent
from tests.tokens.conftest import copies_of
from tokens import selectors, services
from tokens.exceptions import InvalidToken
from tokens.models import TokenRecord


@pytest.mark.django_db(transaction=True)
def test_an_issued_token_verifies_and_names_its_user(user: User) -> None:
    issued = services.issue_token(user=user, kind="client", client_id="c1", ttl=600)
    verified = services.verify_token(issued.raw)
    assert verified.user.pk == user.pk
    assert verified.jti == issued.jti
    assert verified.client_id == "c1"
    assert verified.claims["sub"] == str(user.pk)
    assert issued.token_type == "Bearer" and issued.expires_in == 600


@pytest.mark.django_db(transaction=True)
def test_a_token_carries_the_contract_claims_and_kid(user: User, settings: object) -> None:
    issued = services.issue_token(user=user, kind="passkey", extra_claims={"credentialID": "abc"})
    header = jwt.get_unverified_header(issued.raw)
    claims = jwt.decode(issued.raw, options={"verify_signature": False})
    assert header["alg"] == "RS256" and header["kid"]
    assert claims["iss"] == "http://localhost:8000" or claims["iss"].startswith("http")
    assert claims["aud"] == claims["aud"] and claims["credentialID"] == "abc"
    assert {"iss", "aud", "sub", "iat", "exp", "jti"} <= claims.keys()
    assert claims["exp"] - claims["iat"] == 2_592_000


@pytest.mark.django_db(transaction=True)
def test_the_token_record_is_kept_but_never_the_token(user: User) -> None:
    issued = services.issue_token(user=user, kind="client", client_id="c9")
    record = selectors.token_by_jti(issued.jti)
    assert record is not None
    assert record.client_id == "c9" and record.user_id == user.pk
    assert_absent(repr(record) + repr(issued), "the reprs", token=issued.raw)


@pytest.mark.django_db(transaction=True)
def test_a_revoked_token_is_refused(user: User) -> None:
    issued = services.issue_token(user=user, kind="client")
    services.verify_token(issued.raw)  # cached as valid in Redis
    assert services.revoke_token(jti=issued.jti) is True
    with pytest.raises(InvalidToken) as caught:
        services.verify_token(issued.raw)
    assert caught.value.reason == "revoked"
    assert services.revoke_token(jti=issued.jti) is False


@pytest.mark.django_db(transaction=True)
def test_revoking_a_users_and_a_clients_tokens(user: User) -> None:
    mine = [services.issue_token(user=user, kind="client", client_id="k") for _ in range(2)]
    other = User.objects.create_user(username="bob")
    theirs = services.issue_token(user=other, kind="client", client_id="z")
    assert services.revoke_tokens_of_user(user=user) == 2
    for token in mine:
        with pytest.raises(InvalidToken):
            services.verify_token(token.raw)
    services.verify_token(theirs.raw)
    assert services.revoke_tokens_of_client(client_id="z") == 1
    with pytest.raises(InvalidToken):
        services.verify_token(theirs.raw)


@pytest.mark.django_db(transaction=True)
def test_a_protected_view_sees_the_bearers_user(user: User) -> None:
    user.display_name = "Alice A."
    user.save()
    issued = services.issue_token(user=user, kind="client")
    client = APIClient()
    for _ in range(2):  # the first from the database, the second from the Redis snapshot
        response = client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {issued.raw}")
        assert response.status_code == 200
        assert response.json() == {
            "id": str(user.pk),
            "username": "alice",
            "email": "alice@example.test",
            "identifier": "alice",
            "display_name": "Alice A.",
            "client_id": None,
        }


@pytest.mark.django_db(transaction=True)
def test_a_bad_bearer_is_a_401_with_www_authenticate(user: User) -> None:
    response = APIClient().get("/api/me", HTTP_AUTHORIZATION="Bearer not.a.jwt")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.django_db(transaction=True)
def test_no_credentials_is_a_401(user: User) -> None:
    assert APIClient().get("/api/me").status_code == 401


def test_revoking_more_tokens_than_one_statement_can_name(user: User) -> None:
    """A busy client can hold more live tokens than PostgreSQL takes parameters in one
    statement (65,535): "revoke every token" (and deleting the client) must still work."""
    token = services.issue_token(user=user, kind="client", client_id="busy")
    record = TokenRecord.objects.get(jti=token.jti)
    copies_of(record, 65_536, prefix="bulk")

    assert services.revoke_tokens_of_client(client_id="busy") == 65_537

    assert not TokenRecord.objects.filter(client_id="busy", revoked_at__isnull=True).exists()
    with pytest.raises(InvalidToken):
        services.verify_token(token.raw)
