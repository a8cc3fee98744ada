"""In-process crypto floors (one core): PyJWT RS256 sign/verify, PEM load, py_webauthn verify."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from webauthn import verify_authentication_response
from webauthn.helpers import bytes_to_base64url

from bench.authenticator import SoftwarePasskey


def _per_second(action: Callable[[], object], seconds: float) -> float:
    """Calls of ``action`` per second over about ``seconds`` (after one warm-up call)."""
    action()
    count, started = 0, time.perf_counter()
    deadline = started + seconds
    while True:
        action()
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - started)


def measure_crypto_floors(key_file: Path, seconds: float) -> dict[str, float]:
    pem = key_file.read_bytes()
    private_key = load_pem_private_key(pem, None)
    public_key = private_key.public_key()
    claims = {"iss": "bench", "aud": "bench", "sub": "1", "iat": 0, "exp": 2**40, "jti": "x"}
    token = jwt.encode(claims, private_key, algorithm="RS256")  # type: ignore[arg-type]

    passkey = SoftwarePasskey(rp_id="localhost", origin="http://localhost:8000")
    challenge = secrets.token_bytes(32)
    assertion = passkey.assert_challenge(bytes_to_base64url(challenge))
    cose_key = passkey.cose_public_key()

    def verify_assertion() -> object:
        return verify_authentication_response(
            credential=assertion,
            expected_challenge=challenge,
            expected_rp_id="localhost",
            expected_origin="http://localhost:8000",
            credential_public_key=cose_key,
            credential_current_sign_count=0,
            require_user_verification=True,
        )

    return {
        "rs256_sign_per_s": _per_second(
            lambda: jwt.encode(claims, private_key, algorithm="RS256"),  # type: ignore[arg-type]
            seconds,
        ),
        "rs256_verify_per_s": _per_second(
            lambda: jwt.decode(token, public_key, algorithms=["RS256"], audience="bench"),  # type: ignore[arg-type]
            seconds,
        ),
        "pem_private_key_load_ms": 1000
        / _per_second(lambda: load_pem_private_key(pem, None), seconds),
        "webauthn_assertion_verify_per_s": _per_second(verify_assertion, seconds),
    }
