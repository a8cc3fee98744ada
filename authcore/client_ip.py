"""The one function that decides a request's client IP.

The socket address (``REMOTE_ADDR``) is the client unless it belongs to ``TRUSTED_PROXIES``; then
``X-Forwarded-For`` is walked from the right, skipping trusted hops, and the first untrusted
address is the client. A header sent by anyone else changes nothing, so it cannot be spoofed to
dodge rate limits or forge a session fingerprint.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry)


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    candidate = address.strip()
    if candidate.startswith("[") and "]" in candidate:  # [v6]:port
        candidate = candidate[1 : candidate.index("]")]
    elif candidate.count(":") == 1:  # v4:port
        candidate = candidate.split(":", 1)[0]
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


def _is_trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: tuple[Network, ...]
) -> bool:
    return any(address in network for network in networks)


@lru_cache(maxsize=4096)
def resolve_client_ip(remote_addr: str, forwarded_for: str | None, trusted: tuple[str, ...]) -> str:
    """Pure form of ``client_ip`` (property-tested): see the module docstring.

    Memoised (bounded): a server sees the same few peers and proxy chains over and over, and
    parsing them with ``ipaddress`` on every request was a measurable share of a cheap one.
    """
    peer = _parse(remote_addr or "")
    if peer is None:
        return "0.0.0.0"  # noqa: S104 - not a bind address: an unparseable peer
    networks = _trusted_networks(trusted)
    if not forwarded_for or not _is_trusted(peer, networks):
        return str(peer)
    hops = [hop for hop in forwarded_for.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        parsed = _parse(hop)
        if parsed is None:
            break  # garbage in the chain: stop at the last address we could trust
        client = parsed
        if not _is_trusted(parsed, networks):
            break
    return str(client)


def client_ip(request: HttpRequest) -> str:
    """The client IP of ``request`` per the trusted-proxy rule (memoised on the request)."""
    cached = getattr(request, "_authcore_client_ip", None)
    if cached is None:
        cached = resolve_client_ip(
            request.META.get("REMOTE_ADDR", ""),
            request.META.get("HTTP_X_FORWARDED_FOR"),
            tuple(settings.TRUSTED_PROXIES),
        )
        request._authcore_client_ip = cached  # type: ignore[attr-defined]
    return cached
