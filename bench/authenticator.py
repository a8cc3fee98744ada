"""A software passkey (platform authenticator, ES256, "none" attestation) for the benchmark.

It plays the browser and authenticator of WebAuthn L3: it builds ``RegistrationResponseJSON``
and ``AuthenticationResponseJSON`` exactly as ``credential.toJSON()`` gives them, so Authcore
and the floor verify them with py_webauthn like any real passkey. Signing uses
``cryptography`` (ECDSA P-256 / SHA-256); encoding uses ``cbor2`` and py_webauthn's base64url
helpers. The signature counter stays 0, as many synced passkeys report (§6.1.1: no counter
check when both values are 0), so assertions may arrive in any order under load.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

# Authenticator data flags (WebAuthn L3 §6.1): user present, user verified, attested data.
_FLAG_UP = 0x01
_FLAG_UV = 0x04
_FLAG_AT = 0x40
_AAGUID = bytes(16)


@dataclass
class SoftwarePasskey:
    """One discoverable ES256 credential bound to ``rp_id``, used from ``origin``."""

    rp_id: str
    origin: str
    user_handle: bytes = b""
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()), repr=False
    )

    @property
    def credential_id_b64(self) -> str:
        return bytes_to_base64url(self.credential_id)

    def cose_public_key(self) -> bytes:
        """The credential public key as a COSE_Key (RFC 9053 EC2, alg -7, crv P-256)."""
        numbers = self.private_key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _client_data(self, ceremony: str, challenge_b64: str) -> bytes:
        return json.dumps(
            {
                "type": ceremony,
                "challenge": challenge_b64,
                "origin": self.origin,
                "crossOrigin": False,
            },
            separators=(",", ":"),
        ).encode()

    def _rp_id_hash(self) -> bytes:
        return hashlib.sha256(self.rp_id.encode()).digest()

    def register(self, options: dict[str, Any]) -> dict[str, Any]:
        """``RegistrationResponseJSON`` for ``PublicKeyCredentialCreationOptionsJSON``."""
        if options.get("user", {}).get("id"):
            self.user_handle = base64url_to_bytes(options["user"]["id"])
        credential_data = (
            _AAGUID
            + len(self.credential_id).to_bytes(2, "big")
            + self.credential_id
            + self.cose_public_key()
        )
        authenticator_data = (
            self._rp_id_hash()
            + bytes([_FLAG_UP | _FLAG_UV | _FLAG_AT])
            + (0).to_bytes(4, "big")
            + credential_data
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": authenticator_data})
        client_data = self._client_data("webauthn.create", options["challenge"])
        return {
            "id": self.credential_id_b64,
            "rawId": self.credential_id_b64,
            "type": "public-key",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "attestationObject": bytes_to_base64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def assert_challenge(self, challenge_b64: str) -> dict[str, Any]:
        """``AuthenticationResponseJSON`` signing ``challenge_b64`` (a discoverable login)."""
        authenticator_data = (
            self._rp_id_hash() + bytes([_FLAG_UP | _FLAG_UV]) + (0).to_bytes(4, "big")
        )
        client_data = self._client_data("webauthn.get", challenge_b64)
        signed = authenticator_data + hashlib.sha256(client_data).digest()
        signature = self.private_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        response: dict[str, Any] = {
            "clientDataJSON": bytes_to_base64url(client_data),
            "authenticatorData": bytes_to_base64url(authenticator_data),
            "signature": bytes_to_base64url(signature),
        }
        if self.user_handle:
            response["userHandle"] = bytes_to_base64url(self.user_handle)
        return {
            "id": self.credential_id_b64,
            "rawId": self.credential_id_b64,
            "type": "public-key",
            "response": response,
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
