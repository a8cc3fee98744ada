"""The only module that calls py_webauthn: options, parsing, and the verification steps.

Each public function walks its part of WebAuthn L3 §7.1 (registration) or §7.2
(authentication) in spec order and raises a typed error from ``passkeys.exceptions``. The
checks whose failure has its own contract code (challenge, origin, RP ID hash, user presence and
verification) are made here from py_webauthn's own parsers before its verify function runs, so
that what is left for py_webauthn to refuse is the attestation or assertion signature.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import structlog
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    bytes_to_base64url,
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
    parse_attestation_object,
    parse_authentication_credential_json,
    parse_authenticator_data,
    parse_backup_flags,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidRegistrationResponse,
    WebAuthnException,
)
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorData,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    ClientDataType,
    CollectedClientData,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from passkeys import app_settings
from passkeys.exceptions import (
    ChallengeInvalid,
    CredentialMalformed,
    OriginMismatch,
    RpIdMismatch,
    SignatureInvalid,
    UserVerificationRequired,
)

logger = structlog.get_logger(__name__)

# Allow-list, in order of preference (API.md: ES256, EdDSA, RS256).
SUPPORTED_ALGORITHMS = [
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
]
# WebAuthn L3 §5.1: a credential ID is at most 1023 bytes; §7.1 step 24 refuses longer ones.
MAX_CREDENTIAL_ID_BYTES = 1023


@dataclass(frozen=True)
class StoredCredential:
    """A credential known to the server, as options need it."""

    credential_id: str  # base64url
    transports: list[str]


@dataclass(frozen=True)
class ParsedRegistration:
    credential: RegistrationCredential
    client_data: CollectedClientData
    auth_data: AuthenticatorData
    attestation_format: str = ""


@dataclass(frozen=True)
class ParsedAuthentication:
    credential: AuthenticationCredential
    client_data: CollectedClientData
    auth_data: AuthenticatorData
    credential_id: str  # base64url of rawId
    user_handle: bytes | None


@dataclass(frozen=True)
class RegisteredCredential:
    """What registration verify learned, to be stored (WebAuthn L3 §7.1 step 27)."""

    credential_id: str
    public_key: bytes
    sign_count: int
    aaguid: str
    attestation_format: str
    transports: list[str]
    backup_eligible: bool
    backed_up: bool
    device_type: str


@dataclass(frozen=True)
class VerifiedAssertion:
    new_sign_count: int
    backed_up: bool
    device_type: str


def _text(value: Any) -> str:
    """py_webauthn gives str enums, or plain strings where it parsed unknown values."""
    return str(getattr(value, "value", value))


def _user_verification() -> UserVerificationRequirement:
    return UserVerificationRequirement(app_settings.USER_VERIFICATION)


def _descriptors(credentials: list[StoredCredential]) -> list[PublicKeyCredentialDescriptor]:
    from webauthn.helpers import base64url_to_bytes

    descriptors = []
    for stored in credentials:
        transports = []
        for value in stored.transports:
            try:
                transports.append(AuthenticatorTransport(value))
            except ValueError:
                continue
        descriptors.append(
            PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(stored.credential_id), transports=transports or None
            )
        )
    return descriptors


def registration_options(
    *,
    challenge: bytes,
    user_handle: bytes,
    username: str,
    display_name: str,
    exclude: list[StoredCredential],
) -> dict[str, Any]:
    """``PublicKeyCredentialCreationOptionsJSON`` (WebAuthn L3 §5.4): resident key preferred
    so sign-in works without a username, the user's credentials in ``excludeCredentials`` so a
    device is not registered twice, ``none`` attestation."""
    options = generate_registration_options(
        rp_id=app_settings.RP_ID,
        rp_name=app_settings.RP_NAME,
        user_id=user_handle,
        user_name=username,
        user_display_name=display_name or username,
        challenge=challenge,
        timeout=app_settings.CEREMONY_TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=_user_verification(),
        ),
        exclude_credentials=_descriptors(exclude),
        supported_pub_key_algs=SUPPORTED_ALGORITHMS,
    )
    result: dict[str, Any] = json.loads(options_to_json(options))
    return result


def authentication_options(*, challenge: bytes, allow: list[StoredCredential]) -> dict[str, Any]:
    """``PublicKeyCredentialRequestOptionsJSON``; ``allowCredentials`` is empty for a
    discoverable (username-less) sign-in (WebAuthn L3 §5.5)."""
    options = generate_authentication_options(
        rp_id=app_settings.RP_ID,
        challenge=challenge,
        timeout=app_settings.CEREMONY_TIMEOUT_MS,
        allow_credentials=_descriptors(allow),
        user_verification=_user_verification(),
    )
    result: dict[str, Any] = json.loads(options_to_json(options))
    return result


def parse_registration(body: dict[str, Any]) -> ParsedRegistration:
    """Parse ``RegistrationResponseJSON`` with py_webauthn's parsers (§7.1 steps 5-12)."""
    try:
        credential = parse_registration_credential_json(body)
        if bytes_to_base64url(credential.raw_id) != credential.id:
            raise CredentialMalformed("The credential's id and rawId differ.")
        client_data = parse_client_data_json(credential.response.client_data_json)
        attestation = parse_attestation_object(credential.response.attestation_object)
    except CredentialMalformed:
        raise
    except Exception as error:  # py_webauthn, base64 and CBOR errors alike: malformed input
        raise CredentialMalformed() from error
    return ParsedRegistration(
        credential=credential,
        client_data=client_data,
        auth_data=attestation.auth_data,
        attestation_format=_text(attestation.fmt),
    )


def parse_authentication(body: dict[str, Any]) -> ParsedAuthentication:
    """Parse ``AuthenticationResponseJSON`` with py_webauthn's parsers (§7.2 steps 5-11)."""
    try:
        credential = parse_authentication_credential_json(body)
        if bytes_to_base64url(credential.raw_id) != credential.id:
            raise CredentialMalformed("The credential's id and rawId differ.")
        client_data = parse_client_data_json(credential.response.client_data_json)
        auth_data = parse_authenticator_data(credential.response.authenticator_data)
    except CredentialMalformed:
        raise
    except Exception as error:
        raise CredentialMalformed() from error
    return ParsedAuthentication(
        credential=credential,
        client_data=client_data,
        auth_data=auth_data,
        credential_id=bytes_to_base64url(credential.raw_id),
        user_handle=credential.response.user_handle,
    )


def check_client_data(client_data: CollectedClientData, *, ceremony: str) -> None:
    """§7.1 steps 7 and 9 / §7.2 steps 11 and 13: the type and the origin.

    The challenge itself (step 8 / 12) was matched by looking it up in the store.
    """
    expected_type = (
        ClientDataType.WEBAUTHN_CREATE
        if ceremony == "registration"
        else ClientDataType.WEBAUTHN_GET
    )
    if client_data.type != expected_type:
        raise ChallengeInvalid("The response belongs to another kind of ceremony.")
    if client_data.origin != app_settings.EXPECTED_ORIGIN:
        raise OriginMismatch()
    if client_data.cross_origin:
        # §7.1 step 10 / §7.2 step 14: Authcore is never embedded in another origin's frame.
        raise OriginMismatch("The passkey was used from a cross-origin frame.")


def check_authenticator_data(auth_data: AuthenticatorData) -> None:
    """§7.1 steps 13-15 / §7.2 steps 15-17: RP ID hash, user present, user verified."""
    expected = hashlib.sha256(app_settings.RP_ID.encode()).digest()
    if auth_data.rp_id_hash != expected:
        raise RpIdMismatch()
    if not auth_data.flags.up:
        raise UserVerificationRequired("The authenticator did not confirm the user was present.")
    if app_settings.REQUIRE_USER_VERIFICATION and not auth_data.flags.uv:
        raise UserVerificationRequired()


def verify_registration(parsed: ParsedRegistration, *, challenge: bytes) -> RegisteredCredential:
    """Run py_webauthn's registration verification (attestation statement, algorithm
    allow-list, backup flags) after the checks above have passed."""
    # Read before the try: a settings mistake must surface as itself, not as a bad credential.
    rp_id, origin = app_settings.RP_ID, app_settings.EXPECTED_ORIGIN
    require_user_verification = app_settings.REQUIRE_USER_VERIFICATION
    try:
        verified = verify_registration_response(
            credential=parsed.credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            require_user_verification=require_user_verification,
            supported_pub_key_algs=SUPPORTED_ALGORITHMS,
        )
    except (InvalidRegistrationResponse, WebAuthnException) as error:
        raise SignatureInvalid("The attestation could not be verified.") from error
    except (KeyError, TypeError, ValueError, IndexError) as error:
        # py_webauthn reads the COSE key by indexing it: a map without a field raises KeyError,
        # a CBOR value that is not a map TypeError, a CBOR array IndexError.
        raise CredentialMalformed("The credential's public key is malformed.") from error
    except Exception as error:
        # Its attestation-statement verifiers read the sender's CBOR, JWS and certificates
        # with no type checks of their own (a text SafetyNet response: AttributeError; a
        # certificate on a curve cryptography lacks: UnsupportedAlgorithm). Whatever they
        # raise, the sender's bytes could not be read: the same 400 as a malformed body.
        # Logged with its traceback: were a library update to break one vendor's genuine
        # attestation, this is where it would show.
        logger.warning(
            "passkey_attestation_unreadable",
            fmt=parsed.attestation_format[:40],
            exc_info=error,
        )
        raise CredentialMalformed("The attestation statement is malformed.") from error
    if len(verified.credential_id) > MAX_CREDENTIAL_ID_BYTES:
        raise CredentialMalformed("The credential ID is longer than 1023 bytes.")
    if verified.credential_id != parsed.credential.raw_id:
        # The ID stored is the one in the authenticator data; the browser holds rawId.
        raise CredentialMalformed("The credential's rawId differs from its authenticator data.")
    check_public_key(verified.credential_public_key)
    transports = [_text(t) for t in parsed.credential.response.transports or []]
    return RegisteredCredential(
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        attestation_format=_text(verified.fmt),
        transports=transports,
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backed_up=verified.credential_backed_up,
        device_type=_text(verified.credential_device_type),
    )


def check_public_key(cose_key: bytes) -> None:
    """§7.1 step 22 (the algorithm is one we asked for; py_webauthn checked that) taken to its
    end: the key decodes to a usable key of its algorithm's type (an on-curve P-256 point for
    ES256, Ed25519 for EdDSA, RSA for RS256). With ``none`` attestation nothing else builds the
    key before the first sign-in, so a malformed one would be stored and fail every login."""
    try:
        decoded = decode_credential_public_key(cose_key)
        key = decoded_public_key_to_cryptography(decoded)
    except (WebAuthnException, KeyError, TypeError, ValueError, IndexError) as error:
        raise CredentialMalformed("The credential's public key is malformed.") from error
    algorithm = decoded.alg
    if algorithm == COSEAlgorithmIdentifier.ECDSA_SHA_256:
        usable = isinstance(key, EllipticCurvePublicKey) and isinstance(key.curve, SECP256R1)
    elif algorithm == COSEAlgorithmIdentifier.EDDSA:
        usable = isinstance(key, Ed25519PublicKey)
    elif algorithm == COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256:
        usable = isinstance(key, RSAPublicKey)
    else:
        usable = False
    if not usable:
        raise CredentialMalformed("The credential's public key does not fit its algorithm.")


def verify_assertion(
    parsed: ParsedAuthentication, *, challenge: bytes, public_key: bytes
) -> VerifiedAssertion:
    """Verify the assertion signature with py_webauthn (§7.2 steps 19-20).

    The signature counter is deliberately NOT compared here (``credential_current_sign_count=0``
    disables py_webauthn's check): py_webauthn compares it before the signature, and a
    regression must only flag a credential when the assertion is genuinely signed by it
    (§7.2 step 21; the caller compares after this returns). Otherwise anyone knowing a
    credential ID could get it flagged with a forged assertion.
    """
    try:
        verified = verify_authentication_response(
            credential=parsed.credential,
            expected_challenge=challenge,
            expected_rp_id=app_settings.RP_ID,
            expected_origin=app_settings.EXPECTED_ORIGIN,
            credential_public_key=public_key,
            credential_current_sign_count=0,
            require_user_verification=app_settings.REQUIRE_USER_VERIFICATION,
        )
    except (InvalidAuthenticationResponse, WebAuthnException, ValueError) as error:
        raise SignatureInvalid() from error
    except (KeyError, TypeError, IndexError) as error:
        # A stored key check_public_key would refuse (registered before it existed).
        raise SignatureInvalid("The passkey's stored public key is unusable.") from error
    try:
        backup = parse_backup_flags(parsed.auth_data.flags)
    except WebAuthnException as error:
        raise SignatureInvalid("The authenticator reported impossible backup flags.") from error
    return VerifiedAssertion(
        new_sign_count=verified.new_sign_count,
        backed_up=backup.credential_backed_up,
        device_type=_text(backup.credential_device_type),
    )
