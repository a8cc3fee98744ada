"""POST /api/tokens: identifier + secret -> access token (API.md "Client service")."""

from __future__ import annotations

import jwt
import pytest

from tests.clients.conftest import create_user, get_token
from tokens.internal import keyset

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
    "raw", [b"{not json", b'{"identifier": "\xff\xfe", "secret": "x"}', b"[1, 2]", b"x" * 5000]
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


def test_a_token_exchange_costs_one_join_and_the_record_insert(
    api_client, backend, alice, django_assert_num_queries
):
    """Issue 11: client and user are found in one statement (a LEFT JOIN that is the same for
    unknown identifiers), then the token record is written; nothing else touches SQL."""
    get_token(api_client, backend, alice)  # this process now knows the key's client id
    with django_assert_num_queries(2) as captured:
        get_token(api_client, backend, alice)
    assert "LEFT OUTER JOIN" in captured.captured_queries[0]["sql"]
    assert captured.captured_queries[1]["sql"].startswith("INSERT")
