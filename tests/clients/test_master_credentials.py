"""POST /api/clients and rotate-key with the master credentials (API.md "Client service")."""

from __future__ import annotations

import pytest

from clients.models import Client
from tests.clients.conftest import MASTER_PASSWORD, MASTER_USERNAME, basic, create_backend
from tests.leaks import assert_distinct

pytestmark = pytest.mark.django_db


def test_without_configured_master_credentials_client_creation_is_a_clear_403(api_client, settings):
    settings.MASTER_USERNAME = ""
    settings.MASTER_PASSWORD = ""
    for headers in ({}, basic("", ""), basic("admin", "admin"), basic("admin", "")):
        response = api_client.post("/api/clients", {"name": "x"}, format="json", headers=headers)
        assert response.status_code == 403
        assert response.json()["code"] == "master_disabled"
    assert not Client.objects.exists()


def test_a_username_without_a_password_does_not_enable_the_master(api_client, settings):
    settings.MASTER_USERNAME = "operator"
    settings.MASTER_PASSWORD = ""
    response = api_client.post(
        "/api/clients", {"name": "x"}, format="json", headers=basic("operator", "")
    )
    assert response.status_code == 403
    assert response.json()["code"] == "master_disabled"


def test_the_master_creates_a_client_and_receives_its_key_once(api_client, master):
    response = api_client.post("/api/clients", {"name": "Shop"}, format="json", headers=master)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "api_key", "created_at"}
    assert body["name"] == "Shop"
    prefixed = body["api_key"].startswith("ak_")
    assert prefixed
    assert Client.objects.get(pk=body["id"]).name == "Shop"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic(MASTER_USERNAME, "wrong-password"),
        basic("someone", MASTER_PASSWORD),
        {"Authorization": "Basic not-base64!!"},
        {"Authorization": "Bearer whatever"},
    ],
    ids=["none", "wrong password", "wrong username", "garbage", "other scheme"],
)
def test_missing_or_wrong_master_credentials_are_401_with_a_basic_challenge(
    api_client, master, headers
):
    response = api_client.post("/api/clients", {"name": "x"}, format="json", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    assert response.json()["code"] in {"not_authenticated", "invalid_master_credentials"}
    assert not Client.objects.exists()


@pytest.mark.parametrize(
    "body", [{}, {"name": ""}, {"name": None}, {"name": ["x"]}, {"name": "x" * 201}, ["x"]]
)
def test_a_bad_client_body_is_a_400_and_creates_nothing(api_client, master, body):
    response = api_client.post("/api/clients", body, format="json", headers=master)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert not Client.objects.exists()


def test_malformed_json_is_a_400(api_client, master):
    response = api_client.post(
        "/api/clients", data="{nope", content_type="application/json", headers=master
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def test_rotating_a_key_returns_a_new_one_and_kills_the_old_one_at_once(api_client, master):
    backend = create_backend(api_client, master, "Shop")
    response = api_client.post(f"/api/clients/{backend.id}/rotate-key", headers=master)
    assert response.status_code == 200
    new_key = response.json()["api_key"]
    assert set(response.json()) == {"api_key"}
    assert new_key.startswith("ak_")
    assert_distinct(new_key, backend.api_key, "API keys")

    old = api_client.post(
        "/api/users", {"identifier": "bob"}, format="json", headers={"x-api-key": backend.api_key}
    )
    assert old.status_code == 401
    assert old.json()["code"] == "invalid_api_key"
    new = api_client.post(
        "/api/users", {"identifier": "bob"}, format="json", headers={"x-api-key": new_key}
    )
    assert new.status_code == 201


@pytest.mark.parametrize("client_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_rotating_an_unknown_client_is_a_404(api_client, master, client_id):
    response = api_client.post(f"/api/clients/{client_id}/rotate-key", headers=master)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_rotation_needs_the_master_not_the_clients_own_key(api_client, master):
    backend = create_backend(api_client, master, "Shop")
    response = api_client.post(f"/api/clients/{backend.id}/rotate-key", headers=backend.headers)
    assert response.status_code == 401


def test_a_cross_site_form_post_with_cached_master_credentials_cannot_rotate_a_key(
    api_client, master
):
    """A browser that answered the Basic prompt resends the credentials on a form another
    site submits; rotate-key reads no body, so nothing else would stop it."""
    backend = create_backend(api_client, master, "shop")
    before = Client.objects.get(pk=backend.id).key_id

    response = api_client.post(
        f"/api/clients/{backend.id}/rotate-key",
        "x=1",
        content_type="application/x-www-form-urlencoded",
        headers={**master, "Origin": "https://evil.example"},
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "Origin not allowed", "code": "origin_not_allowed"}
    assert Client.objects.get(pk=backend.id).key_id == before
    assert (
        api_client.post(
            "/api/users", {"identifier": "a"}, format="json", headers=backend.headers
        ).status_code
        == 201
    )


@pytest.mark.parametrize("origin", [None, "http://localhost:3000"])
def test_servers_and_allowed_origins_still_use_the_master(api_client, master, origin):
    headers = {**master, **({"Origin": origin} if origin else {})}
    response = api_client.post("/api/clients", {"name": "shop"}, format="json", headers=headers)
    assert response.status_code == 201


def test_a_cross_origin_request_without_credentials_is_the_usual_401(api_client, master):
    response = api_client.post(
        "/api/clients", {"name": "x"}, format="json", headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 401
