"""A software WebAuthn authenticator and client for API tests.

It answers the server's ``PublicKeyCredentialCreationOptionsJSON`` and
``PublicKeyCredentialRequestOptionsJSON`` the way a browser plus a platform authenticator
would: real ``none`` attestation objects and assertions (ES256 keys from ``cryptography``,
CBOR from ``cbor2``), serialized as ``credential.toJSON()`` does. Every field a hostile client
could bend (origin, RP ID, flags, counter, signature, user handle, ceremony type) can be
overridden per call.

Structures follow WebAuthn L3 §6.1 (authenticator data), §6.5.1.1 (attested credential data),
§5.8.1 (client data) and §8.7 (``none`` attestation).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_BE = 0x08
FLAG_BS = 0x10
FLAG_AT = 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftwareCredential:
    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    @property
    def id(self) -> str:
        return b64url(self.credential_id)

    def cose_public_key(self) -> bytes:
        numbers = self.private_key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )


@dataclass
class SoftwareAuthenticator:
    """Holds discoverable ES256 credentials, like a platform authenticator with UV."""

    rp_id: str
    origin: str
    aaguid: bytes = field(default_factory=lambda: bytes(16))
    backup_eligible: bool = False
    backed_up: bool = False
    counter_step: int = 1
    credentials: list[SoftwareCredential] = field(default_factory=list)

    # --- navigator.credentials.create() ------------------------------------------------------

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        client_data_type: str = "webauthn.create",
        challenge: str | None = None,
        user_present: bool = True,
        user_verified: bool = True,
        cross_origin: bool = False,
        keep: bool = True,
        credential: SoftwareCredential | None = None,
    ) -> dict[str, Any]:
        """A ``RegistrationResponseJSON`` for ``options``; ``keep=False`` forgets the key."""
        effective_rp = rp_id or options["rp"]["id"]
        if credential is None:
            credential = SoftwareCredential(
                credential_id=os.urandom(32),
                private_key=ec.generate_private_key(ec.SECP256R1()),
                rp_id=effective_rp,
                user_handle=from_b64url(options["user"]["id"]),
            )
        client_data = self._client_data(
            client_data_type, challenge or options["challenge"], origin, cross_origin
        )
        attested = (
            self.aaguid
            + struct.pack(">H", len(credential.credential_id))
            + credential.credential_id
            + credential.cose_public_key()
        )
        flags = FLAG_AT | self._flags(user_present, user_verified)
        auth_data = self._auth_data(effective_rp, flags, credential.sign_count) + attested
        attestation_object = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        if keep and credential not in self.credentials:
            self.credentials.append(credential)
        return {
            "id": credential.id,
            "rawId": credential.id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation_object),
                "transports": ["internal", "hybrid"],
            },
        }

    # --- navigator.credentials.get() ---------------------------------------------------------

    def get(
        self,
        options: dict[str, Any],
        *,
        credential: SoftwareCredential | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        client_data_type: str = "webauthn.get",
        challenge: str | None = None,
        user_present: bool = True,
        user_verified: bool = True,
        sign_count: int | None = None,
        user_handle: bytes | str | None = "stored",
        signing_key: ec.EllipticCurvePrivateKey | None = None,
        tamper_signature: bool = False,
    ) -> dict[str, Any]:
        """An ``AuthenticationResponseJSON``; picks an allowed (or the newest) credential."""
        credential = credential or self._pick(options)
        if sign_count is None:
            credential.sign_count += self.counter_step
            sign_count = credential.sign_count
        client_data = self._client_data(
            client_data_type, challenge or options["challenge"], origin, False
        )
        auth_data = self._auth_data(
            rp_id or credential.rp_id, self._flags(user_present, user_verified), sign_count
        )
        key = signing_key or credential.private_key
        signature = key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        if tamper_signature:
            signature = signature[:-1] + bytes([signature[-1] ^ 0x01])
        handle = credential.user_handle if user_handle == "stored" else user_handle
        return {
            "id": credential.id,
            "rawId": credential.id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(handle) if isinstance(handle, bytes) else None,
            },
        }

    # --- helpers ---------------------------------------------------------------------------

    def _pick(self, options: dict[str, Any]) -> SoftwareCredential:
        allowed = {entry["id"] for entry in options.get("allowCredentials") or []}
        candidates = [
            c
            for c in self.credentials
            if c.rp_id == options["rpId"] and (not allowed or c.id in allowed)
        ]
        if not candidates:
            raise LookupError("no credential for these options")
        return candidates[-1]

    def _flags(self, user_present: bool, user_verified: bool) -> int:
        flags = 0
        if user_present:
            flags |= FLAG_UP
        if user_verified:
            flags |= FLAG_UV
        if self.backup_eligible:
            flags |= FLAG_BE
        if self.backed_up:
            flags |= FLAG_BS
        return flags

    def _auth_data(self, rp_id: str, flags: int, sign_count: int) -> bytes:
        return (
            hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", sign_count)
        )

    def _client_data(
        self, kind: str, challenge: str, origin: str | None, cross_origin: bool
    ) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": challenge,
                "origin": origin or self.origin,
                "crossOrigin": cross_origin,
            }
        ).encode()
