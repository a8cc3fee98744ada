"""The client service's lockout subjects (the counting itself: ``authcore.lockout``).

Master credentials are counted per client IP, an API key per (lookup id, client IP) and a user
secret per (client, identifier); an IPv6 client IP counts as its /64 (``client_network``).

API keys are counted per source IP too because their lookup id is not secret (it is shown in
the admin and in logs): a lockout per lookup id alone would let anyone who saw it stop a
client's production traffic with a handful of bad requests. Guessing a 256-bit secret from
many addresses remains hopeless, which is why this costs no security.
"""

from __future__ import annotations

from authcore.client_ip import client_network
from authcore.lockout import (
    LockState,
    Subject,
    clear_failures,
    ensure_not_locked,
    raise_if_locked,
    read_lock_states,
    record_failure,
    reserve_attempt,
    settle_failure,
)

__all__ = [
    "LockState",
    "Subject",
    "api_key_subject",
    "clear_failures",
    "ensure_not_locked",
    "master_subject",
    "raise_if_locked",
    "read_lock_states",
    "record_failure",
    "reserve_attempt",
    "settle_failure",
    "user_secret_subject",
]


def master_subject(ip: str) -> Subject:
    return Subject("master", (client_network(ip),))


def api_key_subject(lookup_id: str | None, ip: str) -> Subject:
    return Subject("api_key", (lookup_id or "-", client_network(ip)))


def user_secret_subject(client_id: str, identifier: str, *, anonymous_ip: str = "") -> Subject:
    """Per (client, identifier); for a caller without a key of its own (the deployment's
    ``CLIENT_API_KEY`` stood in), per (client, identifier, client IP) instead: anyone may send
    such requests, and their failures must not lock the user for the client's own backend."""
    if anonymous_ip:
        return Subject("user_secret", (client_id, identifier, client_network(anonymous_ip)))
    return Subject("user_secret", (client_id, identifier))
