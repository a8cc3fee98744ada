"""POST /api/tokens: identifier + secret -> access token (API.md "Client service")."""

from __future__ import annotations

import re

import jwt
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.clients.conftest import Backend, create_user, get_token
from tokens.internal import keyset
from tokens.models import TokenRecord

pytestmark = pytest.mark.django_db


def _claims(raw: str) -> dict:
    # Only reading the claims; the signature is the tokens app's business (tests/tokens).
    return jwt.decode(raw, options={"verify_signature": False})


def test_a_user_exchanges_identifier_and_secret_for_a_30_day_token(api_client, backend, alice):
    response = api_client.post(
        "/api/tokens",
        {"identifier": alice.identifier, "secret": alice.secret},
        format="json",
        headers=backend.headers,
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "jti"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 2_592_000
    claims = _claims(body["access_token"])
    assert claims["sub"] == alice.id
    assert claims["client_id"] == backend.id
    assert claims["jti"] == body["jti"]
    assert claims["exp"] - claims["iat"] == 2_592_000


def test_the_token_opens_api_me_as_the_client_user(api_client, backend, alice, bearer):
    response = api_client.get("/api/me", headers=bearer.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == alice.id
    assert body["identifier"] == "alice@shop"
    assert body["email"] == "alice@example.test"
    assert body["client_id"] == backend.id
    assert {"username", "display_name"} <= set(body)


def test_expires_in_up_to_the_maximum_is_honoured(api_client, backend, alice, settings):
    assert get_token(api_client, backend, alice, expires_in=60).expires_in == 60
    maximum = settings.TOKEN_MAX_TTL
    assert get_token(api_client, backend, alice, expires_in=maximum).expires_in == maximum


def test_expires_in_above_the_maximum_is_a_clear_400(api_client, backend, alice, settings):
    response = api_client.post(
        "/api/tokens",
        {
            "identifier": alice.identifier,
            "secret": alice.secret,
            "expires_in": settings.TOKEN_MAX_TTL + 1,
        },
        format="json",
        headers=backend.headers,
    )
    assert response.status_code == 400
    assert response.json()["code"] == "expires_in_too_large"


@pytest.mark.parametrize("expires_in", [0, -5, "soon", 1.5, True, None, 10**40])
def test_a_bad_expires_in_is_a_400(api_client, backend, alice, expires_in):
    response = api_client.post(
        "/api/tokens",
        {"identifier": alice.identifier, "secret": alice.secret, "expires_in": expires_in},
        format="json",
        headers=backend.headers,
    )
    assert response.status_code == 400
    assert response.json()["code"] in {"invalid_request", "expires_in_too_large"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"identifier": "alice@shop"},
        {"secret": "x"},
        {"identifier": "", "secret": ""},
        {"identifier": ["alice@shop"], "secret": "x"},
        "just a string",
    ],
)
def test_a_bad_token_body_is_a_400(api_client, backend, alice, body):
    response = api_client.post("/api/tokens", body, format="json", headers=backend.headers)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b'{"identifier": "\xff\xfe", "secret": "x"}',
        b"[1, 2]",
        b"x" * 5000,
        b"[" * 2000 + b"]" * 2000,  # small enough for the read-ahead, too deep for json
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400_after_the_read_ahead_too(
    api_client, backend, alice, raw
):
    get_token(api_client, backend, alice)  # the process now knows the key's client
    response = api_client.generic(
        "POST", "/api/tokens", raw, content_type="application/json", headers=backend.headers
    )
    assert response.status_code == 400
    assert response.json()["code"] in {"invalid_request", "malformed_json"}


def test_wrong_identifier_and_wrong_secret_get_the_same_401(api_client, backend, alice):
    wrong_secret = api_client.post(
        "/api/tokens",
        {"identifier": alice.identifier, "secret": "us_" + "0" * 16 + "." + "A" * 43},
        format="json",
        headers=backend.headers,
    )
    wrong_identifier = api_client.post(
        "/api/tokens",
        {"identifier": "nobody", "secret": alice.secret},
        format="json",
        headers=backend.headers,
    )
    assert wrong_secret.status_code == wrong_identifier.status_code == 401
    assert (
        wrong_secret.json()
        == wrong_identifier.json()
        == {
            "detail": "Invalid identifier or secret.",
            "code": "invalid_credentials",
        }
    )
    ignored = {"X-Request-ID", "Content-Length", "X-RateLimit-Remaining", "X-RateLimit-Reset"}
    assert {k: v for k, v in wrong_secret.headers.items() if k not in ignored} == {
        k: v for k, v in wrong_identifier.headers.items() if k not in ignored
    }


def test_another_clients_key_cannot_get_a_token_for_our_user(
    api_client, backend, other_backend, alice
):
    response = api_client.post(
        "/api/tokens",
        {"identifier": alice.identifier, "secret": alice.secret},
        format="json",
        headers=other_backend.headers,
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_the_client_api_key_setting_stands_in_when_no_header_is_sent(
    api_client, backend, alice, settings
):
    settings.CLIENT_API_KEY = backend.api_key
    response = api_client.post(
        "/api/tokens", {"identifier": alice.identifier, "secret": alice.secret}, format="json"
    )
    assert response.status_code == 201
    assert _claims(response.json()["access_token"])["client_id"] == backend.id


def test_an_explicit_header_wins_over_the_fallback(api_client, backend, other_backend, settings):
    settings.CLIENT_API_KEY = backend.api_key
    theirs = create_user(api_client, other_backend, "theirs")
    response = api_client.post(
        "/api/tokens",
        {"identifier": theirs.identifier, "secret": theirs.secret},
        format="json",
        headers=other_backend.headers,
    )
    assert response.status_code == 201
    assert _claims(response.json()["access_token"])["client_id"] == other_backend.id


def test_without_header_or_fallback_a_token_needs_an_api_key(api_client, backend, alice):
    response = api_client.post(
        "/api/tokens", {"identifier": alice.identifier, "secret": alice.secret}, format="json"
    )
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_secret_works_again_and_again_until_the_user_is_deactivated(api_client, backend, alice):
    from authcore.models import User

    get_token(api_client, backend, alice)
    get_token(api_client, backend, alice)
    User.objects.filter(pk=alice.id).update(is_active=False)
    response = api_client.post(
        "/api/tokens",
        {"identifier": alice.identifier, "secret": alice.secret},
        format="json",
        headers=backend.headers,
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_a_signing_key_sealed_under_an_old_jwt_secret_is_a_503_json_error_not_a_500(
    api_client, backend, alice, settings
):
    get_token(api_client, backend, alice)  # a current key exists
    settings.JWT_SECRET = "a-new-jwt-secret-without-rotate-keys-now-" + "z" * 20
    keyset.forget()  # as after the redeploy: no key decrypted yet

    response = api_client.post(
        "/api/tokens",
        {"identifier": alice.identifier, "secret": alice.secret},
        format="json",
        headers=backend.headers,
    )

    assert response.status_code == 503
    assert response.json()["code"] == "signing_unavailable"
    # Nothing issued, nothing recorded: the record the statement wrote is gone again.
    assert TokenRecord.objects.count() == 1


def test_a_token_exchange_is_one_sql_statement_that_records_the_token(
    api_client, backend, alice, django_assert_num_queries
):
    """Issue 11: once the process knows the key's client, client and user are found and the
    token record is written by one statement (the join inside a data-modifying WITH)."""
    get_token(api_client, backend, alice)  # this process now knows the key's client id
    with django_assert_num_queries(1) as captured:
        token = get_token(api_client, backend, alice)
    sql = captured.captured_queries[0]["sql"]
    assert "LEFT OUTER JOIN" in sql
    assert "INSERT INTO" in sql

    record = TokenRecord.objects.get(jti=token.jti)
    claims = _claims(token.raw)
    assert str(record.user_id) == claims["sub"] == alice.id
    assert record.client_id == claims["client_id"] == backend.id
    assert record.kind == "client"
    assert record.signing_key_id == jwt.get_unverified_header(token.raw)["kid"]
    assert int(record.issued_at.timestamp()) == claims["iat"]
    assert int(record.expires_at.timestamp()) == claims["exp"]
    # The token verifies, so its record is the one verification reads.
    me = api_client.get("/api/me", headers=token.headers)
    assert me.status_code == 200
    assert me.json()["id"] == alice.id


def _without_literals(sql: str) -> str:
    """A logged statement without its values (Django logs them quoted into the text)."""
    return re.sub(r"'(?:[^']|'')*'", "?", sql)


def _attempt(api_client, backend, identifier: str, secret: str):
    return api_client.post(
        "/api/tokens",
        {"identifier": identifier, "secret": secret},
        format="json",
        headers=backend.headers,
    )


def test_a_refused_exchange_records_nothing_and_looks_like_every_other_refusal(
    api_client, backend, alice
):
    """A wrong key, an unknown identifier, a wrong secret and an inactive user's right secret
    each run the same statements (the lookup, then the audit event of the failure) and leave
    no token record: nothing tells one failure from another."""
    from authcore.models import User

    get_token(api_client, backend, alice)
    inactive = create_user(api_client, backend, "inactive@shop")
    User.objects.filter(pk=inactive.id).update(is_active=False)
    before = TokenRecord.objects.count()
    lookup_id = backend.api_key.split(".")[0]
    wrong_key = Backend(id=backend.id, name=backend.name, api_key=lookup_id + "." + "A" * 43)
    attempts = [
        (wrong_key, alice.identifier, alice.secret, "invalid_api_key"),
        (backend, "nobody", alice.secret, "invalid_credentials"),
        (backend, alice.identifier, "us_" + "0" * 16 + "." + "A" * 43, "invalid_credentials"),
        (backend, inactive.identifier, inactive.secret, "invalid_credentials"),
    ]
    statements = []
    for who, identifier, secret, code in attempts:
        with CaptureQueriesContext(connection) as captured:
            response = _attempt(api_client, who, identifier, secret)
        assert response.status_code == 401
        assert response.json()["code"] == code
        statements.append(tuple(_without_literals(query["sql"]) for query in captured))
    assert TokenRecord.objects.count() == before
    # The same statements every time (the lookup's values are parameters, not in its text).
    assert len(set(statements)) == 1
    assert "LEFT OUTER JOIN" in statements[0][0]
    assert statements[0][1].startswith('INSERT INTO "authcore_auditevent"')


def test_an_inactive_user_gets_no_token_record(api_client, backend, alice):
    from authcore.models import User

    get_token(api_client, backend, alice)
    before = TokenRecord.objects.count()
    User.objects.filter(pk=alice.id).update(is_active=False)
    response = _attempt(api_client, backend, alice.identifier, alice.secret)
    assert response.status_code == 401
    assert TokenRecord.objects.count() == before


def _lock_user(api_client, backend, identifier: str) -> None:
    for _ in range(5):  # LOCKOUT_MAX_FAILURES
        response = _attempt(api_client, backend, identifier, "us_" + "1" * 16 + "." + "B" * 43)
        assert response.status_code == 401


def test_a_locked_user_with_the_right_secret_gets_a_429_and_nothing_is_written(
    api_client, backend, alice, django_assert_num_queries
):
    """The secret of a locked user is not offered to the statement, so the right secret
    writes nothing (no record to delete, no extra statement that would time the guess)."""
    get_token(api_client, backend, alice)  # both lock states are read before the statement
    _lock_user(api_client, backend, alice.identifier)
    before = TokenRecord.objects.count()
    with django_assert_num_queries(1):
        response = _attempt(api_client, backend, alice.identifier, alice.secret)
    assert response.status_code == 429
    assert TokenRecord.objects.count() == before


def test_a_record_written_under_a_stale_client_name_is_deleted_when_the_user_is_locked(
    api_client, backend, other_backend, alice
):
    """The process's memory of the key's client only names the lock it reads ahead; when it
    is stale the statement may record a token that the real lock then refuses: the record
    goes again."""
    from clients.selectors import remember_client_id

    get_token(api_client, backend, alice)
    _lock_user(api_client, backend, alice.identifier)
    lookup_id = backend.api_key.split(".")[0].removeprefix("ak_")
    remember_client_id(lookup_id, other_backend.id)  # the read-ahead now names another lock
    before = TokenRecord.objects.count()

    with CaptureQueriesContext(connection) as captured:
        response = _attempt(api_client, backend, alice.identifier, alice.secret)

    assert response.status_code == 429
    statements = [query["sql"] for query in captured]
    assert "INSERT INTO" in statements[0]  # the statement recorded a token...
    assert any(sql.startswith('DELETE FROM "tokens_tokenrecord"') for sql in statements[1:])
    assert TokenRecord.objects.count() == before  # ...and it is gone again


def test_a_key_hashed_under_a_fallback_server_secret_still_gets_its_token(
    api_client, backend, alice, settings
):
    """The statement only matches hashes made with the current SECRET_KEY; a key or secret
    stored under a fallback is checked as before, its hash upgraded, its token recorded."""
    get_token(api_client, backend, alice)
    old_secret = settings.SECRET_KEY
    settings.SECRET_KEY = "the-next-server-secret-" + "q" * 40
    settings.SECRET_KEY_FALLBACKS = [old_secret]

    with CaptureQueriesContext(connection) as captured:
        token = get_token(api_client, backend, alice)

    statements = [query["sql"] for query in captured]
    assert "INSERT INTO" in statements[0]  # the one statement, which recorded nothing...
    assert statements[-1].startswith('INSERT INTO "tokens_tokenrecord"')  # ...the usual INSERT
    assert TokenRecord.objects.filter(jti=token.jti).exists()
    answered = api_client.get("/api/me", headers=token.headers).status_code
    assert answered == 200
    settings.SECRET_KEY_FALLBACKS = []  # both hashes were upgraded: the fallback can go
    assert get_token(api_client, backend, alice).jti != token.jti


def test_a_bad_key_with_malformed_json_is_a_401_before_the_400(api_client, backend):
    response = api_client.generic(
        "POST",
        "/api/tokens",
        b"{not json",
        content_type="application/json",
        headers={"x-api-key": "ak_" + "0" * 16 + "." + "A" * 43},
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"
    good_key = api_client.generic(
        "POST",
        "/api/tokens",
        b"{not json",
        content_type="application/json",
        headers=backend.headers,
    )
    assert good_key.status_code == 400
