"""Authentication ceremony (WebAuthn L3 §7.2): username-less and by username."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from passkeys.models import Passkey
from tests.leaks import outcome
from tests.passkeys.authenticator import SoftwareAuthenticator
from tests.passkeys.conftest import LOGIN_OPTIONS, LOGIN_VERIFY, bearer, login
from tests.passkeys.test_registration import claims_of

pytestmark = pytest.mark.django_db


def test_username_less_options_allow_any_discoverable_credential(api_client: APIClient) -> None:
    response = api_client.post(LOGIN_OPTIONS, format="json")

    assert response.status_code == 200
    options = response.json()
    assert options["allowCredentials"] == []
    assert options["rpId"] == settings.API_RP_ID
    assert options["userVerification"] == "required"


def test_a_user_signs_in_without_typing_a_username(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    response = login(api_client, authenticator)

    assert response.status_code == 200, outcome(response)
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "user"}
    assert body["user"] == alice["user"]
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.PASSKEY_TOKEN_TTL
    claims = claims_of(body["access_token"])
    assert claims["sub"] == alice["user"]["id"]
    assert claims["credentialID"] == alice["credential"]["credential_id"]
    assert claims["aud"] == settings.APP_ID
    assert claims["exp"] - claims["iat"] == settings.PASSKEY_TOKEN_TTL


def test_a_sign_in_records_the_new_counter_and_the_time_of_use(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    before = Passkey.objects.get().last_used_at

    login(api_client, authenticator, sign_count=7)

    passkey = Passkey.objects.get()
    assert passkey.sign_count == 7
    assert passkey.last_used_at is not None and before is not None
    assert passkey.last_used_at > before


def test_options_for_a_username_list_that_users_credentials(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    options = api_client.post(LOGIN_OPTIONS, {"username": "alice"}, format="json").json()

    assert [c["id"] for c in options["allowCredentials"]] == [alice["credential"]["credential_id"]]
    assert login(api_client, authenticator, "alice").status_code == 200


def test_an_authenticator_with_a_zero_counter_signs_in_again_and_again(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    # WebAuthn L3 §6.1.1: many synced passkeys always report 0; that is not a regression.
    for _ in range(3):
        assert login(api_client, authenticator, sign_count=0).status_code == 200
    assert Passkey.objects.get().flagged is False


def test_session_true_also_opens_a_browser_session(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    options = api_client.post(LOGIN_OPTIONS, format="json").json()
    assertion = {**authenticator.get(options), "session": True}

    response = api_client.post("/api/auth/passkey/login/verify", assertion, format="json")

    assert response.status_code == 200
    assert "user_session_id" in response.cookies
    assert response.cookies["user_session_id"]["httponly"]
    me = api_client.get("/auth/web/me")
    assert me.status_code == 200
    assert me.json()["user"]["id"] == alice["user"]["id"]


def test_without_session_true_no_cookie_is_set(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    response = login(api_client, authenticator)

    assert response.status_code == 200
    assert "user_session_id" not in response.cookies


def sign_in_with_session(client: APIClient, authenticator: SoftwareAuthenticator) -> str:
    """A username-less sign-in with ``"session": true``; the new session cookie's value."""
    options = client.post(LOGIN_OPTIONS, {}, format="json").json()
    response = client.post(
        LOGIN_VERIFY, {**authenticator.get(options), "session": True}, format="json"
    )
    assert response.status_code == 200
    value: str = response.cookies["user_session_id"].value
    return value


def test_signing_in_again_with_a_session_ends_the_browsers_previous_session(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    first = sign_in_with_session(api_client, authenticator)
    second = sign_in_with_session(api_client, authenticator)

    replaced = second == first  # compared here: session ids never reach the test output
    assert not replaced
    assert api_client.get("/auth/web/me").status_code == 200
    old_copy = APIClient()
    old_copy.cookies["user_session_id"] = first
    assert old_copy.get("/auth/web/me").status_code == 401
    sessions = api_client.get("/auth/web/sessions", headers=bearer(alice["access_token"]))
    assert len(sessions.json()) == 1
