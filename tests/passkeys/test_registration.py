"""Registration ceremony (WebAuthn L3 §7.1) through the API, with a software authenticator."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from authcore.models import User
from passkeys.models import Passkey
from tests.leaks import outcome
from tests.passkeys.authenticator import SoftwareAuthenticator
from tests.passkeys.conftest import REGISTER_OPTIONS, REGISTER_VERIFY, bearer, register

pytestmark = pytest.mark.django_db

PASSKEY_FIELDS = {
    "id",
    "credential_id",
    "name",
    "created_at",
    "last_used_at",
    "transports",
    "device_type",
    "backed_up",
    "flagged",
}


def claims_of(token: str) -> dict[str, Any]:
    # Only reads the claims; signature verification is the jose test's job.
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


def test_registration_options_ask_for_a_discoverable_es256_eddsa_or_rs256_key_with_uv(
    api_client: APIClient,
) -> None:
    response = api_client.post(REGISTER_OPTIONS, {"username": "alice"}, format="json")

    assert response.status_code == 200
    options = response.json()
    assert options["rp"] == {"id": settings.API_RP_ID, "name": "Authcore"}
    assert options["user"]["name"] == "alice"
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [-7, -8, -257]
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["attestation"] == "none"
    assert options["excludeCredentials"] == []
    assert len(options["challenge"]) >= 22  # at least 16 random bytes, base64url


def test_a_new_user_registers_a_passkey_and_is_signed_in(
    api_client: APIClient, authenticator: SoftwareAuthenticator
) -> None:
    response = register(api_client, authenticator, "alice")

    assert response.status_code == 201, outcome(response)
    body = response.json()
    assert set(body) == {"user", "credential", "access_token", "token_type", "expires_in"}
    assert body["user"]["username"] == "alice"
    assert set(body["user"]) == {"id", "username", "display_name", "email"}
    assert set(body["credential"]) == PASSKEY_FIELDS
    assert body["credential"]["credential_id"] == authenticator.credentials[0].id
    assert body["credential"]["transports"] == ["internal", "hybrid"]
    assert body["credential"]["flagged"] is False
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.PASSKEY_TOKEN_TTL
    claims = claims_of(body["access_token"])
    assert claims["sub"] == body["user"]["id"]
    assert claims["aud"] == settings.APP_ID
    assert claims["credentialID"] == body["credential"]["credential_id"]


def test_the_stored_credential_keeps_what_users_and_staff_need(
    api_client: APIClient, authenticator: SoftwareAuthenticator
) -> None:
    authenticator.aaguid = bytes.fromhex("adce000235bcc60a648b0b25f1f05503")
    authenticator.backup_eligible = authenticator.backed_up = True

    body = register(api_client, authenticator, "alice").json()

    passkey = Passkey.objects.get(credential_id=body["credential"]["credential_id"])
    assert passkey.aaguid == "adce0002-35bc-c60a-648b-0b25f1f05503"
    assert passkey.device_type == "multi_device"
    assert passkey.backup_eligible and passkey.backed_up
    assert bytes(passkey.public_key) == authenticator.credentials[0].cose_public_key()
    assert passkey.sign_count == 0
    assert passkey.name == "Passkey 1"
    assert body["credential"]["device_type"] == "multi_device"
    assert body["credential"]["backed_up"] is True


def test_a_signed_in_user_adds_a_second_passkey_and_the_first_is_excluded(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    headers = bearer(alice["access_token"])

    options = api_client.post(REGISTER_OPTIONS, {}, format="json", headers=headers).json()
    assert [c["id"] for c in options["excludeCredentials"]] == [
        alice["credential"]["credential_id"]
    ]
    assert options["user"]["id"]  # the same user handle as before
    second = authenticator.create(options)
    response = api_client.post(
        REGISTER_VERIFY, {**second, "name": "Work laptop"}, format="json", headers=headers
    )

    assert response.status_code == 201, outcome(response)
    assert response.json()["user"]["id"] == alice["user"]["id"]
    assert response.json()["credential"]["name"] == "Work laptop"
    assert Passkey.objects.filter(user_id=alice["user"]["id"]).count() == 2
    assert User.objects.count() == 1


def test_a_taken_username_cannot_be_claimed_without_signing_in(
    api_client: APIClient, alice: dict[str, Any]
) -> None:
    response = api_client.post(REGISTER_OPTIONS, {"username": "ALICE"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "username_taken"


def test_two_sign_ups_racing_for_one_username_create_one_user(
    api_client: APIClient, authenticator: SoftwareAuthenticator
) -> None:
    first = api_client.post(REGISTER_OPTIONS, {"username": "carol"}, format="json").json()
    second = api_client.post(REGISTER_OPTIONS, {"username": "carol"}, format="json").json()

    ok = api_client.post(REGISTER_VERIFY, authenticator.create(first), format="json")
    late = api_client.post(REGISTER_VERIFY, authenticator.create(second), format="json")

    assert ok.status_code == 201
    assert late.status_code == 409
    assert late.json()["code"] == "username_taken"
    assert User.objects.filter(username="carol").count() == 1
    assert Passkey.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [{}, {"username": ""}, {"username": "has space"}, {"username": "x" * 151}],
)
def test_signing_up_needs_a_valid_username(api_client: APIClient, body: dict[str, str]) -> None:
    response = api_client.post(REGISTER_OPTIONS, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


def test_the_same_authenticator_credential_cannot_be_registered_twice(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    headers = bearer(alice["access_token"])
    options = api_client.post(REGISTER_OPTIONS, {}, format="json", headers=headers).json()
    again = authenticator.create(options, credential=authenticator.credentials[0])

    response = api_client.post(REGISTER_VERIFY, again, format="json", headers=headers)

    assert response.status_code == 400
    assert response.json()["code"] == "credential_exists"
    assert Passkey.objects.count() == 1
