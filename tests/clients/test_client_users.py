"""POST /api/users with a client's API key (API.md "Client service")."""

from __future__ import annotations

import pytest

from authcore.models import User
from clients.models import ClientUser
from tests.clients.conftest import create_user
from tests.leaks import assert_distinct

pytestmark = pytest.mark.django_db


def test_a_client_creates_a_user_and_receives_its_secret_once(api_client, backend):
    response = api_client.post(
        "/api/users",
        {"identifier": "alice@shop", "email": "alice@example.test"},
        format="json",
        headers=backend.headers,
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "identifier", "secret"}
    assert body["identifier"] == "alice@shop"
    assert body["secret"].startswith("us_")
    user = User.objects.get(pk=body["id"])  # the one user model: it can add a passkey later
    assert not user.has_usable_password()
    assert ClientUser.objects.get(user=user).email == "alice@example.test"


def test_a_duplicate_identifier_within_a_client_is_a_409(api_client, backend):
    create_user(api_client, backend, "alice")
    again = api_client.post(
        "/api/users", {"identifier": "alice"}, format="json", headers=backend.headers
    )
    assert again.status_code == 409
    assert again.json()["code"] == "identifier_taken"
    assert ClientUser.objects.filter(identifier="alice").count() == 1
    assert User.objects.count() == 1  # nothing half-written


def test_the_same_identifier_in_another_client_is_another_user(api_client, backend, other_backend):
    ours = create_user(api_client, backend, "alice")
    theirs = create_user(api_client, other_backend, "alice")
    assert ours.id != theirs.id
    assert_distinct(ours.secret, theirs.secret, "users' secrets")


def test_a_shared_email_across_clients_reveals_nothing(api_client, backend, other_backend):
    ours = create_user(api_client, backend, "a", email="same@example.test")

    def sign_up(identifier: str, email: str):
        body = {"identifier": identifier, "email": email}
        return api_client.post("/api/users", body, format="json", headers=other_backend.headers)

    # The other client must not learn that this address is known elsewhere: it gets what a
    # new address gets, for a user of its own.
    shared, fresh = sign_up("b", "SAME@example.test"), sign_up("c", "new@example.test")
    assert shared.status_code == fresh.status_code == 201
    assert set(shared.json()) == set(fresh.json())
    assert shared.json()["id"] != ours.id


def test_identifiers_that_are_not_usernames_still_get_a_valid_unique_user(api_client, backend):
    weird = create_user(api_client, backend, "Ünïcödé name / with spaces")
    plain = create_user(api_client, backend, "x" * 255)
    for created in (weird, plain):
        username = User.objects.get(pk=created.id).username
        assert len(username) <= 150
        User._meta.get_field("username").run_validators(username)


def test_a_taken_username_does_not_block_a_client_user(api_client, backend):
    User.objects.create_user(username=f"alice+{backend.id.replace('-', '')[:8]}")
    created = create_user(api_client, backend, "alice")
    assert User.objects.get(pk=created.id).username.startswith("alice+")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"identifier": ""},
        {"identifier": None},
        {"identifier": 42},
        {"identifier": {"$ne": ""}},
        {"identifier": "x" * 256},
        {"identifier": "nul\x00byte"},
        {"identifier": "a", "email": "not-an-email"},
        [],
    ],
)
def test_a_bad_user_body_is_a_400_and_creates_nothing(api_client, backend, body):
    response = api_client.post("/api/users", body, format="json", headers=backend.headers)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert not ClientUser.objects.exists()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-api-key": ""},
        {"x-api-key": "ak_nonsense"},
        {"x-api-key": "ak_0123456789abcdef." + "A" * 43},
    ],
    ids=["none", "empty", "malformed", "unknown"],
)
def test_creating_a_user_needs_a_valid_api_key(api_client, db, headers):
    response = api_client.post("/api/users", {"identifier": "x"}, format="json", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] in {"not_authenticated", "invalid_api_key"}
    assert "WWW-Authenticate" in response
    assert not ClientUser.objects.exists()


def test_the_client_api_key_fallback_does_not_create_users(api_client, backend, settings):
    settings.CLIENT_API_KEY = backend.api_key
    response = api_client.post("/api/users", {"identifier": "x"}, format="json")
    assert response.status_code == 401


def test_a_master_basic_header_is_not_an_api_key(api_client, master, backend):
    response = api_client.post("/api/users", {"identifier": "x"}, format="json", headers=master)
    assert response.status_code == 401
