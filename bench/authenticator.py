"""One software passkey for the benchmark, on the suite's authenticator (tests/passkeys).

``tests.passkeys.authenticator`` plays browser and platform authenticator exactly as the
passkeys tests do (ES256, "none" attestation, ``credential.toJSON()`` shapes). This adapter
holds one discoverable credential and keeps its signature counter at 0, as many synced
passkeys report (WebAuthn L3 §6.1.1: no counter check when both values are 0), so assertions
may be verified in any order under load.
"""

from __future__ import annotations

from typing import Any

from tests.passkeys.authenticator import SoftwareAuthenticator, SoftwareCredential, b64url


class SoftwarePasskey:
    """A discoverable ES256 credential for ``rp_id``, used from ``origin``."""

    def __init__(self, *, rp_id: str, origin: str) -> None:
        self.rp_id = rp_id
        self._authenticator = SoftwareAuthenticator(rp_id=rp_id, origin=origin, counter_step=0)
        self._credential: SoftwareCredential | None = None

    @property
    def credential(self) -> SoftwareCredential:
        """The credential, created on first use when no server registered it (the floor)."""
        if self._credential is None:
            self.register(
                {
                    "rp": {"id": self.rp_id},
                    "user": {"id": b64url(b"floor")},
                    "challenge": b64url(b"no-server"),
                }
            )
        assert self._credential is not None
        return self._credential

    @property
    def credential_id_b64(self) -> str:
        return self.credential.id

    def cose_public_key(self) -> bytes:
        return self.credential.cose_public_key()

    def register(self, options: dict[str, Any]) -> dict[str, Any]:
        """``RegistrationResponseJSON`` for ``PublicKeyCredentialCreationOptionsJSON``."""
        response = self._authenticator.create(options)
        self._credential = self._authenticator.credentials[-1]
        return response

    def assert_challenge(self, challenge_b64: str) -> dict[str, Any]:
        """``AuthenticationResponseJSON`` signing ``challenge_b64`` (a discoverable login)."""
        return self._authenticator.get(
            {"challenge": challenge_b64, "rpId": self.rp_id}, credential=self.credential
        )
