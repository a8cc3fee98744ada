"""Errors of the tokens app.

Every refusal of a bearer token is ``InvalidToken``: 401, code ``invalid_token`` (RFC 6750
§3.1) and ``WWW-Authenticate: Bearer error="invalid_token"``. Its ``reason`` (stable, listed in
``REASONS``) labels ``authcore_auth_failures_total`` and the log line; the detail says it in
words. One code keeps clients simple; the reason keeps operators informed.
"""

from __future__ import annotations

from authcore.exceptions import AuthenticationFailed, NotFound

REASONS: dict[str, str] = {
    "malformed": "The access token is malformed.",
    "algorithm": "The access token's algorithm is not allowed.",
    "header": "The access token's header is not allowed.",
    "unknown_key": "The access token was signed by an unknown key.",
    "signature": "The access token's signature is invalid.",
    "expired": "The access token has expired.",
    "not_yet_valid": "The access token is not yet valid.",
    "issuer": "The access token's issuer is not accepted.",
    "audience": "The access token's audience is not accepted.",
    "claims": "The access token lacks required claims.",
    "unknown_token": "The access token is unknown.",
    "revoked": "The access token has been revoked.",
    "user_inactive": "The access token's user is inactive or gone.",
}


class InvalidToken(AuthenticationFailed):
    status_code = 401
    code = "invalid_token"
    detail = "The access token is invalid."
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}

    def __init__(self, reason: str = "malformed") -> None:
        self.reason = reason if reason in REASONS else "malformed"
        super().__init__(REASONS[self.reason])

    def __repr__(self) -> str:
        return f"InvalidToken(reason={self.reason!r})"


class SigningKeyNotFound(NotFound):
    code = "signing_key_not_found"
    detail = "No signing key has this kid."


class SigningKeyUnavailable(Exception):
    """A stored private key cannot be decrypted (``JWT_SECRET`` changed?). Operators' problem:
    ``rotate_keys --now`` makes a fresh key."""
