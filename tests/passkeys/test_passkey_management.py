"""Listing, renaming and removing one's passkeys (``/api/passkeys``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from authcore.models import User
from passkeys.models import Passkey
from tests.passkeys.authenticator import SoftwareAuthenticator
from tests.passkeys.conftest import REGISTER_OPTIONS, REGISTER_VERIFY, bearer, login, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob(api_client: APIClient, authenticator: SoftwareAuthenticator) -> dict[str, Any]:
    device = SoftwareAuthenticator(rp_id=authenticator.rp_id, origin=authenticator.origin)
    result: dict[str, Any] = register(api_client, device, "bob").json()
    return result


def add_passkey(client: APIClient, device: SoftwareAuthenticator, token: str) -> dict[str, Any]:
    options = client.post(REGISTER_OPTIONS, {}, format="json", headers=bearer(token)).json()
    response = client.post(
        REGISTER_VERIFY, device.create(options), format="json", headers=bearer(token)
    )
    assert response.status_code == 201
    credential: dict[str, Any] = response.json()["credential"]
    return credential


def test_a_user_lists_only_their_own_passkeys(
    api_client: APIClient, alice: dict[str, Any], bob: dict[str, Any]
) -> None:
    response = api_client.get("/api/passkeys", headers=bearer(alice["access_token"]))

    assert response.status_code == 200
    assert response.json() == [alice["credential"]]


def test_listing_passkeys_needs_a_signed_in_user(api_client: APIClient) -> None:
    response = api_client.get("/api/passkeys")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_user_renames_a_passkey(api_client: APIClient, alice: dict[str, Any]) -> None:
    passkey_id = alice["credential"]["id"]

    response = api_client.patch(
        f"/api/passkeys/{passkey_id}",
        {"name": "  Phone  "},
        format="json",
        headers=bearer(alice["access_token"]),
    )

    assert response.status_code == 200
    assert response.json() == {**alice["credential"], "name": "Phone"}


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_passkey_name_must_be_sensible(
    api_client: APIClient, alice: dict[str, Any], name: str
) -> None:
    response = api_client.patch(
        f"/api/passkeys/{alice['credential']['id']}",
        {"name": name},
        format="json",
        headers=bearer(alice["access_token"]),
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


def test_another_users_passkey_is_not_found(
    api_client: APIClient, alice: dict[str, Any], bob: dict[str, Any]
) -> None:
    bobs = f"/api/passkeys/{bob['credential']['id']}"
    headers = bearer(alice["access_token"])

    renamed = api_client.patch(bobs, {"name": "mine now"}, format="json", headers=headers)
    removed = api_client.delete(bobs, headers=headers)

    assert renamed.status_code == 404
    assert removed.status_code == 404
    assert renamed.json()["code"] == "not_found"
    assert Passkey.objects.get(pk=bob["credential"]["id"]).name == bob["credential"]["name"]


@pytest.mark.parametrize(
    "passkey_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", "0" * 33]
)
def test_an_unknown_passkey_id_is_not_found(
    api_client: APIClient, alice: dict[str, Any], passkey_id: str
) -> None:
    response = api_client.delete(
        f"/api/passkeys/{passkey_id}", headers=bearer(alice["access_token"])
    )

    assert response.status_code == 404


@pytest.mark.parametrize(
    "spelling",
    [str.upper, lambda uuid: uuid.replace("-", ""), lambda uuid: f"urn:uuid:{uuid}"],
    ids=["upper case", "no hyphens", "urn"],
)
def test_any_spelling_patch_accepts_also_removes_the_passkey(
    api_client: APIClient,
    authenticator: SoftwareAuthenticator,
    alice: dict[str, Any],
    spelling: Any,
) -> None:
    second_device = SoftwareAuthenticator(rp_id=authenticator.rp_id, origin=authenticator.origin)
    add_passkey(api_client, second_device, alice["access_token"])
    url = f"/api/passkeys/{spelling(alice['credential']['id'])}"
    headers = bearer(alice["access_token"])

    renamed = api_client.patch(url, {"name": "Old laptop"}, format="json", headers=headers)
    removed = api_client.delete(url, headers=headers)

    assert renamed.status_code == 200
    assert removed.status_code == 204
    assert not Passkey.objects.filter(pk=alice["credential"]["id"]).exists()


def test_a_user_removes_one_of_two_passkeys_and_it_no_longer_signs_in(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    second_device = SoftwareAuthenticator(rp_id=authenticator.rp_id, origin=authenticator.origin)
    add_passkey(api_client, second_device, alice["access_token"])

    response = api_client.delete(
        f"/api/passkeys/{alice['credential']['id']}", headers=bearer(alice["access_token"])
    )

    assert response.status_code == 204
    listed = api_client.get("/api/passkeys", headers=bearer(alice["access_token"])).json()
    assert [p["credential_id"] for p in listed] == [second_device.credentials[0].id]
    refused = login(api_client, authenticator)
    assert refused.status_code == 400
    assert refused.json()["code"] == "credential_unknown"
    assert login(api_client, second_device).status_code == 200


def test_the_last_passkey_cannot_be_removed_without_a_verified_email(
    api_client: APIClient, alice: dict[str, Any]
) -> None:
    response = api_client.delete(
        f"/api/passkeys/{alice['credential']['id']}", headers=bearer(alice["access_token"])
    )

    assert response.status_code == 409
    assert response.json()["code"] == "last_sign_in_method"
    assert Passkey.objects.count() == 1


def test_the_last_passkey_can_be_removed_when_the_email_is_verified(
    api_client: APIClient, alice: dict[str, Any]
) -> None:
    User.objects.filter(pk=alice["user"]["id"]).update(
        email="alice@example.test", email_verified=True
    )

    response = api_client.delete(
        f"/api/passkeys/{alice['credential']['id']}", headers=bearer(alice["access_token"])
    )

    assert response.status_code == 204
    assert Passkey.objects.count() == 0


def test_a_browser_session_manages_passkeys_with_its_csrf_token(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    from tests.passkeys.conftest import LOGIN_OPTIONS, LOGIN_VERIFY

    options = api_client.post(LOGIN_OPTIONS, format="json").json()
    api_client.post(LOGIN_VERIFY, {**authenticator.get(options), "session": True}, format="json")
    csrf = api_client.get("/auth/web/me").json()["csrf_token"]
    url = f"/api/passkeys/{alice['credential']['id']}"

    listed = api_client.get("/api/passkeys")
    forged = api_client.patch(
        url, {"name": "x"}, format="json", headers={"Origin": settings.API_ORIGIN}
    )
    renamed = api_client.patch(
        url,
        {"name": "Laptop"},
        format="json",
        headers={"X-CSRF-Token": csrf, "Origin": settings.API_ORIGIN},
    )

    assert listed.status_code == 200
    assert forged.status_code == 403
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Laptop"
