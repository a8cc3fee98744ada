"""Introspection (RFC 7662), revocation (RFC 7009), DELETE /api/tokens/{jti} and /api/me."""

from __future__ import annotations

import pytest

from authcore.models import User
from tests.clients.conftest import create_user, get_token

# Real commits: revocation reaches Redis in transaction.on_commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def _assert_refused_on_me(api_client, bearer) -> None:
    response = api_client.get("/api/me", headers=bearer.headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_a_client_introspects_its_own_active_token(api_client, backend, alice, bearer):
    response = api_client.post(
        "/api/tokens/introspect", {"token": bearer.raw}, format="json", headers=backend.headers
    )
    assert response.status_code == 200
    body = response.json()
    assert body["active"] is True
    assert body["sub"] == alice.id
    assert body["client_id"] == backend.id
    assert body["jti"] == bearer.jti
    assert {"exp", "iat", "iss", "aud"} <= set(body)


def test_another_clients_token_is_inactive_and_shows_nothing(api_client, other_backend, bearer):
    response = api_client.post(
        "/api/tokens/introspect",
        {"token": bearer.raw},
        format="json",
        headers=other_backend.headers,
    )
    assert response.status_code == 200
    assert response.json() == {"active": False}


@pytest.mark.parametrize("token", ["garbage", "eyJhbGciOiJub25lIn0.e30.", "a.b.c"])
def test_a_malformed_token_is_inactive(api_client, backend, token):
    response = api_client.post(
        "/api/tokens/introspect", {"token": token}, format="json", headers=backend.headers
    )
    assert response.status_code == 200
    assert response.json() == {"active": False}


def test_introspection_needs_an_api_key_not_a_bearer(api_client, bearer):
    response = api_client.post(
        "/api/tokens/introspect", {"token": bearer.raw}, format="json", headers=bearer.headers
    )
    assert response.status_code == 401


def test_introspection_without_a_token_is_a_400(api_client, backend):
    response = api_client.post("/api/tokens/introspect", {}, format="json", headers=backend.headers)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


def test_the_client_revokes_a_token_by_value_and_api_me_refuses_it_at_once(
    api_client, backend, bearer
):
    response = api_client.post(
        "/api/tokens/revoke", {"token": bearer.raw}, format="json", headers=backend.headers
    )
    assert response.status_code == 200
    _assert_refused_on_me(api_client, bearer)
    introspected = api_client.post(
        "/api/tokens/introspect", {"token": bearer.raw}, format="json", headers=backend.headers
    )
    assert introspected.json() == {"active": False}


def _set_active(user_id: str, active: bool) -> None:
    """What staff do in the admin: the user's save() (and its receivers) runs."""
    user = User.objects.get(pk=user_id)
    user.is_active = active
    user.save()


def test_a_token_revoked_by_value_while_its_user_is_inactive_stays_revoked(
    api_client, backend, alice, bearer
):
    """Deactivating a user only masks their tokens; a revocation made meanwhile must hold
    once the user is reactivated (RFC 7009: the token is invalidated, not merely refused)."""
    _set_active(alice.id, False)
    _assert_refused_on_me(api_client, bearer)
    response = api_client.post(
        "/api/tokens/revoke", {"token": bearer.raw}, format="json", headers=backend.headers
    )
    assert response.status_code == 200

    _set_active(alice.id, True)

    _assert_refused_on_me(api_client, bearer)
    fresh = get_token(api_client, backend, alice)  # the user is back: only that token is dead
    assert api_client.get("/api/me", headers=fresh.headers).status_code == 200


def test_another_clients_key_cannot_revoke_an_inactive_users_token_by_value(
    api_client, other_backend, alice, bearer
):
    _set_active(alice.id, False)
    api_client.post(
        "/api/tokens/revoke", {"token": bearer.raw}, format="json", headers=other_backend.headers
    )
    _set_active(alice.id, True)
    answered = api_client.get("/api/me", headers=bearer.headers).status_code
    assert answered == 200


def test_the_client_revokes_a_token_by_jti(api_client, backend, bearer):
    response = api_client.post(
        "/api/tokens/revoke", {"jti": bearer.jti}, format="json", headers=backend.headers
    )
    assert response.status_code == 200
    _assert_refused_on_me(api_client, bearer)


def test_the_bearer_revokes_its_own_token(api_client, bearer):
    response = api_client.post(
        "/api/tokens/revoke", {"token": bearer.raw}, format="json", headers=bearer.headers
    )
    assert response.status_code == 200
    _assert_refused_on_me(api_client, bearer)


def test_delete_by_jti_is_204_and_api_me_refuses_the_token_at_once(api_client, backend, bearer):
    response = api_client.delete(f"/api/tokens/{bearer.jti}", headers=backend.headers)
    assert response.status_code == 204
    _assert_refused_on_me(api_client, bearer)


def test_revoking_an_unknown_token_is_still_200(api_client, backend):
    for body in ({"token": "not-a-token"}, {"jti": "no-such-jti"}):
        response = api_client.post(
            "/api/tokens/revoke", body, format="json", headers=backend.headers
        )
        assert response.status_code == 200


def test_deleting_an_unknown_jti_is_404(api_client, backend):
    response = api_client.delete("/api/tokens/no-such-jti", headers=backend.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_another_clients_key_is_powerless_over_our_tokens_and_users(
    api_client, backend, other_backend, alice, bearer
):
    by_value = api_client.post(
        "/api/tokens/revoke", {"token": bearer.raw}, format="json", headers=other_backend.headers
    )
    by_jti = api_client.post(
        "/api/tokens/revoke", {"jti": bearer.jti}, format="json", headers=other_backend.headers
    )
    assert by_value.status_code == by_jti.status_code == 200  # RFC 7009: no disclosure...
    deleted = api_client.delete(f"/api/tokens/{bearer.jti}", headers=other_backend.headers)
    assert deleted.status_code == 404  # ...and a foreign jti looks unknown
    answered = api_client.get("/api/me", headers=bearer.headers).status_code
    assert answered == 200  # still alive
    token = api_client.post(
        "/api/tokens",
        {"identifier": alice.identifier, "secret": alice.secret},
        format="json",
        headers=other_backend.headers,
    )
    assert token.status_code == 401


def test_a_bearer_cannot_revoke_another_users_token(api_client, backend, alice, bearer):
    bob = create_user(api_client, backend, "bob")
    bobs = get_token(api_client, backend, bob)
    response = api_client.post(
        "/api/tokens/revoke", {"jti": bearer.jti}, format="json", headers=bobs.headers
    )
    assert response.status_code == 200
    answered = api_client.get("/api/me", headers=bearer.headers).status_code
    assert answered == 200


def test_delete_by_jti_needs_the_clients_key_not_a_bearer(api_client, bearer):
    response = api_client.delete(f"/api/tokens/{bearer.jti}", headers=bearer.headers)
    assert response.status_code == 401
    answered = api_client.get("/api/me", headers=bearer.headers).status_code
    assert answered == 200


@pytest.mark.parametrize(
    "body", [{}, {"token": ""}, {"token": "a", "jti": "b"}, {"jti": 5}, {"token": ["x"]}]
)
def test_a_bad_revoke_body_is_a_400(api_client, backend, body):
    response = api_client.post("/api/tokens/revoke", body, format="json", headers=backend.headers)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


def test_revocation_without_any_credentials_is_401(api_client, bearer):
    response = api_client.post("/api/tokens/revoke", {"jti": bearer.jti}, format="json")
    assert response.status_code == 401
    answered = api_client.get("/api/me", headers=bearer.headers).status_code
    assert answered == 200


def test_api_me_without_credentials_is_401_with_a_bearer_challenge(api_client, db):
    response = api_client.get("/api/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_api_me_with_a_forged_token_is_401_invalid_token(api_client, db):
    response = api_client.get("/api/me", headers={"Authorization": "Bearer a.b.c"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_a_rotated_key_is_dead_for_every_call(api_client, master, backend, bearer):
    rotated = api_client.post(f"/api/clients/{backend.id}/rotate-key", headers=master)
    assert rotated.status_code == 200
    calls = [
        ("post", "/api/users", {"identifier": "z"}),
        ("post", "/api/tokens", {"identifier": "alice@shop", "secret": "x"}),
        ("post", "/api/tokens/introspect", {"token": bearer.raw}),
        ("post", "/api/tokens/revoke", {"jti": bearer.jti}),
        ("delete", f"/api/tokens/{bearer.jti}", None),
    ]
    for method, path, body in calls:
        response = getattr(api_client, method)(path, body, format="json", headers=backend.headers)
        assert response.status_code == 401, path
        assert response.json()["code"] == "invalid_api_key"
    # Tokens issued before the rotation stay valid: rotation is about the key, not the users.
    answered = api_client.get("/api/me", headers=bearer.headers).status_code
    assert answered == 200
