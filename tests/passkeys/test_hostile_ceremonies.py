"""Every forged, replayed or misdirected ceremony is a 400 with its code and changes nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from rest_framework.test import APIClient

from authcore.models import AuditEvent, User
from passkeys.models import Passkey
from tests.leaks import outcome
from tests.passkeys.authenticator import (
    SoftwareAuthenticator,
    SoftwareCredential,
    b64url,
    from_b64url,
)
from tests.passkeys.conftest import (
    LOGIN_OPTIONS,
    LOGIN_VERIFY,
    REGISTER_OPTIONS,
    REGISTER_VERIFY,
    bearer,
    login,
    register,
)

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[Any, ...]:
    """What a rejected ceremony must leave untouched."""
    rows = Passkey.objects.order_by("pk").values_list(
        "pk", "sign_count", "last_used_at", "flagged", "name"
    )
    return (User.objects.count(), tuple(rows))


@pytest.fixture
def unchanged() -> Iterator[None]:
    before = snapshot()
    yield
    assert snapshot() == before, "a rejected ceremony changed stored state"


def assert_rejected(response: Any, code: str) -> None:
    assert response.status_code == 400, outcome(response)
    assert response.json()["code"] == code
    assert response.json()["detail"]


def login_options(client: APIClient, username: str | None = None) -> dict[str, Any]:
    body = {"username": username} if username else {}
    options: dict[str, Any] = client.post(LOGIN_OPTIONS, body, format="json").json()
    return options


# --- challenges -----------------------------------------------------------------------------


def test_a_replayed_registration_is_refused(
    api_client: APIClient, authenticator: SoftwareAuthenticator
) -> None:
    options = api_client.post(REGISTER_OPTIONS, {"username": "alice"}, format="json").json()
    credential = authenticator.create(options)
    assert api_client.post(REGISTER_VERIFY, credential, format="json").status_code == 201
    before = snapshot()

    replay = api_client.post(REGISTER_VERIFY, credential, format="json")

    assert_rejected(replay, "challenge_invalid")
    assert snapshot() == before


def test_a_replayed_assertion_is_refused(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    assertion = authenticator.get(login_options(api_client))
    assert api_client.post(LOGIN_VERIFY, assertion, format="json").status_code == 200
    before = snapshot()

    assert_rejected(api_client.post(LOGIN_VERIFY, assertion, format="json"), "challenge_invalid")
    assert snapshot() == before


def test_a_challenge_the_server_never_issued_is_refused(
    api_client: APIClient,
    authenticator: SoftwareAuthenticator,
    alice: dict[str, Any],
    unchanged: None,
) -> None:
    options = login_options(api_client)
    forged = authenticator.get(options, challenge=b64url(os.urandom(64)))

    assert_rejected(api_client.post(LOGIN_VERIFY, forged, format="json"), "challenge_invalid")


def test_a_failed_attempt_still_uses_up_its_challenge(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    options = login_options(api_client)
    bad = authenticator.get(options, tamper_signature=True)
    assert_rejected(api_client.post(LOGIN_VERIFY, bad, format="json"), "signature_invalid")

    good = authenticator.get(options)
    assert_rejected(api_client.post(LOGIN_VERIFY, good, format="json"), "challenge_invalid")


def test_a_login_challenge_cannot_finish_a_registration(
    api_client: APIClient, authenticator: SoftwareAuthenticator, unchanged: None
) -> None:
    register_options = api_client.post(
        REGISTER_OPTIONS, {"username": "mallory"}, format="json"
    ).json()
    login_challenge = login_options(api_client)["challenge"]
    credential = authenticator.create(register_options, challenge=login_challenge)

    assert_rejected(
        api_client.post(REGISTER_VERIFY, credential, format="json"), "challenge_invalid"
    )


def test_a_registration_challenge_cannot_finish_a_sign_in(
    api_client: APIClient,
    authenticator: SoftwareAuthenticator,
    alice: dict[str, Any],
    unchanged: None,
) -> None:
    register_challenge = api_client.post(
        REGISTER_OPTIONS, {"username": "mallory"}, format="json"
    ).json()["challenge"]
    assertion = authenticator.get(login_options(api_client), challenge=register_challenge)

    assert_rejected(api_client.post(LOGIN_VERIFY, assertion, format="json"), "challenge_invalid")


def test_a_registration_response_sent_to_login_verify_is_refused(
    api_client: APIClient,
    authenticator: SoftwareAuthenticator,
    alice: dict[str, Any],
    unchanged: None,
) -> None:
    # A webauthn.get client data carrying a registration challenge, and the reverse.
    options = login_options(api_client)
    assertion = authenticator.get(options, client_data_type="webauthn.create")

    assert_rejected(api_client.post(LOGIN_VERIFY, assertion, format="json"), "challenge_invalid")


def test_a_challenge_issued_for_another_user_is_refused(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    bob_device = SoftwareAuthenticator(rp_id=authenticator.rp_id, origin=authenticator.origin)
    assert register(api_client, bob_device, "bob").status_code == 201
    before = snapshot()

    # Options bound to Bob, answered with Alice's passkey.
    options_for_bob = login_options(api_client, "bob")
    assertion = authenticator.get(options_for_bob, credential=authenticator.credentials[0])

    assert_rejected(api_client.post(LOGIN_VERIFY, assertion, format="json"), "challenge_invalid")
    assert snapshot() == before


def test_an_add_passkey_challenge_works_only_for_the_signed_in_user(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    bob_device = SoftwareAuthenticator(rp_id=authenticator.rp_id, origin=authenticator.origin)
    bob = register(api_client, bob_device, "bob").json()
    before = snapshot()
    options = api_client.post(
        REGISTER_OPTIONS, {}, format="json", headers=bearer(alice["access_token"])
    ).json()
    credential = authenticator.create(options)

    anonymous = api_client.post(REGISTER_VERIFY, credential, format="json")
    assert_rejected(anonymous, "challenge_invalid")

    options = api_client.post(
        REGISTER_OPTIONS, {}, format="json", headers=bearer(alice["access_token"])
    ).json()
    as_bob = api_client.post(
        REGISTER_VERIFY,
        authenticator.create(options),
        format="json",
        headers=bearer(bob["access_token"]),
    )
    assert_rejected(as_bob, "challenge_invalid")
    assert snapshot() == before


# --- origin, RP ID, user verification -------------------------------------------------------


def test_a_registration_from_another_origin_is_refused(
    api_client: APIClient, authenticator: SoftwareAuthenticator, unchanged: None
) -> None:
    response = register(api_client, authenticator, "alice", origin="https://evil.example")
    assert_rejected(response, "origin_mismatch")


def test_an_assertion_from_another_origin_is_refused(
    api_client: APIClient,
    authenticator: SoftwareAuthenticator,
    alice: dict[str, Any],
    unchanged: None,
) -> None:
    response = login(api_client, authenticator, origin="http://localhost:8001")
    assert_rejected(response, "origin_mismatch")


def test_a_cross_origin_iframe_registration_is_refused(
    api_client: APIClient, authenticator: SoftwareAuthenticator, unchanged: None
) -> None:
    assert_rejected(
        register(api_client, authenticator, "alice", cross_origin=True), "origin_mismatch"
    )


def test_a_registration_for_another_rp_id_is_refused(
    api_client: APIClient, authenticator: SoftwareAuthenticator, unchanged: None
) -> None:
    response = register(api_client, authenticator, "alice", rp_id="evil.example")
    assert_rejected(response, "rp_id_mismatch")


def test_an_assertion_for_another_rp_id_is_refused(
    api_client: APIClient,
    authenticator: SoftwareAuthenticator,
    alice: dict[str, Any],
    unchanged: None,
) -> None:
    response = login(api_client, authenticator, rp_id="evil.example")
    assert_rejected(response, "rp_id_mismatch")


def test_a_registration_without_user_verification_is_refused(
    api_client: APIClient, authenticator: SoftwareAuthenticator, unchanged: None
) -> None:
    response = register(api_client, authenticator, "alice", user_verified=False)
    assert_rejected(response, "user_verification_required")


def test_an_assertion_without_user_verification_is_refused(
    api_client: APIClient,
    authenticator: SoftwareAuthenticator,
    alice: dict[str, Any],
    unchanged: None,
) -> None:
    response = login(api_client, authenticator, user_verified=False)
    assert_rejected(response, "user_verification_required")


@pytest.mark.parametrize("verification", ["required", "preferred"])
def test_an_assertion_without_user_presence_is_refused(
    api_client: APIClient,
    authenticator: SoftwareAuthenticator,
    alice: dict[str, Any],
    unchanged: None,
    settings: Any,
    verification: str,
) -> None:
    """With verification only "preferred", the user-presence check alone refuses it."""
    settings.PASSKEY_USER_VERIFICATION = verification
    response = login(api_client, authenticator, user_present=False, user_verified=False)
    assert_rejected(response, "user_verification_required")


def test_user_verification_can_be_made_optional(
    api_client: APIClient, authenticator: SoftwareAuthenticator, settings: Any
) -> None:
    settings.PASSKEY_USER_VERIFICATION = "preferred"

    assert register(api_client, authenticator, "alice", user_verified=False).status_code == 201
    assert login(api_client, authenticator, user_verified=False).status_code == 200
    options = login_options(api_client)
    assert options["userVerification"] == "preferred"


# --- signatures and credentials -------------------------------------------------------------


def test_a_tampered_signature_is_refused(
    api_client: APIClient,
    authenticator: SoftwareAuthenticator,
    alice: dict[str, Any],
    unchanged: None,
) -> None:
    assert_rejected(login(api_client, authenticator, tamper_signature=True), "signature_invalid")


def test_an_assertion_signed_by_another_key_is_refused(
    api_client: APIClient,
    authenticator: SoftwareAuthenticator,
    alice: dict[str, Any],
    unchanged: None,
) -> None:
    impostor = ec.generate_private_key(ec.SECP256R1())
    assert_rejected(login(api_client, authenticator, signing_key=impostor), "signature_invalid")


def test_an_unknown_credential_is_refused(
    api_client: APIClient,
    authenticator: SoftwareAuthenticator,
    alice: dict[str, Any],
    unchanged: None,
) -> None:
    stranger = SoftwareCredential(
        credential_id=os.urandom(32),
        private_key=ec.generate_private_key(ec.SECP256R1()),
        rp_id=authenticator.rp_id,
        user_handle=os.urandom(16),
    )
    response = login(api_client, authenticator, credential=stranger)
    assert_rejected(response, "credential_unknown")


def test_a_user_handle_naming_another_account_is_refused(
    api_client: APIClient,
    authenticator: SoftwareAuthenticator,
    alice: dict[str, Any],
    unchanged: None,
) -> None:
    response = login(api_client, authenticator, user_handle=os.urandom(16))
    assert_rejected(response, "credential_unknown")


def test_a_username_less_assertion_must_name_its_account(
    api_client: APIClient,
    authenticator: SoftwareAuthenticator,
    alice: dict[str, Any],
    unchanged: None,
) -> None:
    response = login(api_client, authenticator, user_handle=None)
    assert_rejected(response, "credential_unknown")


# --- sign-count regression (WebAuthn L3 §6.1.1) ---------------------------------------------


def test_a_counter_that_went_backwards_is_refused_and_flags_the_passkey(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    headers = bearer(alice["access_token"])
    assert login(api_client, authenticator, sign_count=10).status_code == 200

    cloned = login(api_client, authenticator, sign_count=5)

    assert_rejected(cloned, "sign_count_regressed")
    listed = api_client.get("/api/passkeys", headers=headers).json()
    assert listed[0]["flagged"] is True
    assert Passkey.objects.get().sign_count == 10  # the stored counter is kept
    event = AuditEvent.objects.get(action="passkey.sign_count_regressed")
    assert event.target == f"passkey:{alice['credential']['id']}"
    assert event.detail == {"stored_sign_count": 10, "reported_sign_count": 5}


def test_an_equal_counter_is_a_regression_too(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    assert login(api_client, authenticator, sign_count=3).status_code == 200
    assert_rejected(login(api_client, authenticator, sign_count=3), "sign_count_regressed")


def test_a_forged_low_counter_cannot_get_someone_elses_passkey_flagged(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    assert login(api_client, authenticator, sign_count=10).status_code == 200
    before = snapshot()

    forged = login(api_client, authenticator, sign_count=1, tamper_signature=True)

    assert_rejected(forged, "signature_invalid")
    assert snapshot() == before
    assert not AuditEvent.objects.filter(action="passkey.sign_count_regressed").exists()


# --- malformed input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: {},
        lambda c: {**c, "rawId": "not base64!!"},
        lambda c: {**c, "id": "AAAA"},
        lambda c: {**c, "type": "password"},
        lambda c: {**c, "response": {**c["response"], "clientDataJSON": b64url(b"{not json")}},
        lambda c: {**c, "response": {**c["response"], "clientDataJSON": b64url(b"[]")}},
        lambda c: {**c, "response": {**c["response"], "authenticatorData": b64url(b"short")}},
        lambda c: {**c, "response": {**c["response"], "signature": 42}},
        lambda c: {**c, "response": "nope"},
    ],
)
def test_malformed_assertions_are_a_400_not_a_500(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any], mangle: Any
) -> None:
    assertion = authenticator.get(login_options(api_client))
    before = snapshot()

    response = api_client.post(LOGIN_VERIFY, mangle(assertion), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert snapshot() == before


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: {**c, "response": {**c["response"], "attestationObject": b64url(b"\xa1")}},
        lambda c: {**c, "response": {**c["response"], "attestationObject": "???"}},
        lambda c: {**c, "response": {"clientDataJSON": c["response"]["clientDataJSON"]}},
    ],
)
def test_malformed_registrations_are_a_400_not_a_500(
    api_client: APIClient, authenticator: SoftwareAuthenticator, mangle: Any, unchanged: None
) -> None:
    options = api_client.post(REGISTER_OPTIONS, {"username": "alice"}, format="json").json()

    response = api_client.post(
        REGISTER_VERIFY, mangle(authenticator.create(options)), format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


# --- what the authenticator data claims about the credential -----------------------------------


@dataclass
class OddKeyCredential(SoftwareCredential):
    """A credential whose authenticator data carries ``cose`` as its public key."""

    cose: bytes = b""

    def cose_public_key(self) -> bytes:
        return self.cose


def _p256_point() -> tuple[bytes, bytes]:
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    return numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")


def _odd_keys() -> dict[str, bytes]:
    x, y = _p256_point()
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key().public_numbers()
    return {
        "empty map": cbor2.dumps({}),
        "no coordinates": cbor2.dumps({1: 2, 3: -7}),
        "not a map": cbor2.dumps(1),
        "an array": cbor2.dumps([1, 2]),
        "text coordinates": cbor2.dumps({1: 2, 3: -7, -1: 1, -2: "a", -3: "b"}),
        "point off the curve": cbor2.dumps({1: 2, 3: -7, -1: 1, -2: x, -3: bytes(32)}),
        "ES256 on P-384": cbor2.dumps(
            {1: 2, 3: -7, -1: 2, -2: p384.x.to_bytes(48, "big"), -3: p384.y.to_bytes(48, "big")}
        ),
        "RS256 naming an EC key": cbor2.dumps({1: 2, 3: -257, -1: 1, -2: x, -3: y}),
    }


@pytest.mark.parametrize("name", list(_odd_keys()))
def test_a_malformed_credential_public_key_is_refused_at_registration(
    api_client: APIClient, authenticator: SoftwareAuthenticator, name: str, unchanged: None
) -> None:
    """py_webauthn reads the key by indexing it (KeyError, TypeError) and, with ``none``
    attestation, never builds it: each of these was a 500 or a stored key no login could use."""
    options = api_client.post(REGISTER_OPTIONS, {"username": "mallory"}, format="json").json()
    odd = OddKeyCredential(
        credential_id=os.urandom(32),
        private_key=ec.generate_private_key(ec.SECP256R1()),
        rp_id=options["rp"]["id"],
        user_handle=b"",
        cose=_odd_keys()[name],
    )

    response = api_client.post(
        REGISTER_VERIFY, authenticator.create(options, credential=odd), format="json"
    )

    assert_rejected(response, "invalid_request")


def _certificate_on_a_curve_cryptography_lacks() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "odd")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2040, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    der = certificate.public_bytes(serialization.Encoding.DER)
    # P-256's OID (1.2.840.10045.3.1.7) turned into 1.2.840.10045.3.1.9.
    return der.replace(bytes.fromhex("06082a8648ce3d030107"), bytes.fromhex("06082a8648ce3d030109"))


def _odd_statements() -> dict[str, tuple[str, dict[str, Any]]]:
    odd_certificate = _certificate_on_a_curve_cryptography_lacks()
    return {
        "SafetyNet response as text": ("android-safetynet", {"ver": "1", "response": "a.b.c"}),
        "SafetyNet JWS header a list": (
            "android-safetynet",
            {"ver": "1", "response": f"{b64url(b'[1]')}.{b64url(b'{}')}.AA".encode()},
        ),
        "packed with a certificate on an unknown curve": (
            "packed",
            {"alg": -7, "sig": b"\x30\x00", "x5c": [odd_certificate]},
        ),
        "fido-u2f with a certificate on an unknown curve": (
            "fido-u2f",
            {"sig": b"\x30\x00", "x5c": [odd_certificate]},
        ),
    }


@pytest.mark.parametrize("name", list(_odd_statements()))
def test_a_malformed_attestation_statement_is_a_400_not_a_500(
    api_client: APIClient, authenticator: SoftwareAuthenticator, name: str, unchanged: None
) -> None:
    """py_webauthn's statement verifiers read the sender's CBOR, JWS and certificates without
    checking their types (found by fuzzing: each of these was a 500)."""
    options = api_client.post(REGISTER_OPTIONS, {"username": "mallory"}, format="json").json()
    body = authenticator.create(options)
    fmt, statement = _odd_statements()[name]
    attestation = cbor2.loads(from_b64url(body["response"]["attestationObject"]))
    attestation.update(fmt=fmt, attStmt=statement)
    body["response"]["attestationObject"] = b64url(cbor2.dumps(attestation))

    response = api_client.post(REGISTER_VERIFY, body, format="json")

    assert_rejected(response, "invalid_request")


def test_a_stored_key_no_login_can_use_is_a_400_not_a_500(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    """A key registered before registration checked keys (text coordinates) fails its logins
    with ``signature_invalid``."""
    Passkey.objects.update(public_key=_odd_keys()["text coordinates"])

    response = api_client.post(
        LOGIN_VERIFY, authenticator.get(login_options(api_client)), format="json"
    )

    assert_rejected(response, "signature_invalid")


def _register_with_id(
    client: APIClient,
    authenticator: SoftwareAuthenticator,
    raw_id: bytes,
    *,
    sent_id: bytes | None = None,
) -> Any:
    options = client.post(REGISTER_OPTIONS, {"username": "mallory"}, format="json").json()
    credential = SoftwareCredential(
        credential_id=raw_id,
        private_key=ec.generate_private_key(ec.SECP256R1()),
        rp_id=options["rp"]["id"],
        user_handle=b"",
    )
    body = authenticator.create(options, credential=credential)
    if sent_id is not None:
        body = {**body, "id": b64url(sent_id), "rawId": b64url(sent_id)}
    return client.post(REGISTER_VERIFY, body, format="json")


def test_a_credential_id_longer_than_1023_bytes_is_refused(
    api_client: APIClient, authenticator: SoftwareAuthenticator, unchanged: None
) -> None:
    assert_rejected(
        _register_with_id(api_client, authenticator, os.urandom(1024)), "invalid_request"
    )


def test_a_credential_id_of_1023_bytes_is_accepted(
    api_client: APIClient, authenticator: SoftwareAuthenticator
) -> None:
    raw_id = os.urandom(1023)

    response = _register_with_id(api_client, authenticator, raw_id)

    assert response.status_code == 201, outcome(response)
    assert response.json()["credential"]["credential_id"] == b64url(raw_id)


@pytest.mark.parametrize("stored_size", [32, 1100])
def test_a_raw_id_other_than_the_authenticator_datas_is_refused(
    api_client: APIClient, authenticator: SoftwareAuthenticator, stored_size: int, unchanged: None
) -> None:
    """The ID stored is the one in the authenticator data; one the browser does not hold (or one
    too long for the column, a 500 on PostgreSQL before) is refused."""
    response = _register_with_id(
        api_client, authenticator, os.urandom(stored_size), sent_id=os.urandom(32)
    )

    assert_rejected(response, "invalid_request")
