"""The one function that decides a request's client IP.

The socket address (``REMOTE_ADDR``) is the client unless it belongs to ``TRUSTED_PROXIES``; then
``X-Forwarded-For`` is walked from the right, skipping trusted hops, and the first untrusted
address is the client. A header sent by anyone else changes nothing, so it cannot be spoofed to
dodge rate limits or forge a session fingerprint.

An IPv4 address written as IPv6 (``::ffff:10.0.0.5``, how a dual-stack socket reports an IPv4
peer) is read as the IPv4 address, so it matches IPv4 entries and is one client with it. A peer
with no address (a Unix socket behind a local proxy) is trusted only when ``TRUSTED_PROXIES``
names ``unix``; otherwise every such request is ``0.0.0.0``.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:  # settings.py imports this module: nothing from django.http at import
    from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# The TRUSTED_PROXIES entry that trusts a peer without an address (a Unix socket).
UNIX_PEER = "unix"
NO_ADDRESS = "0.0.0.0"  # noqa: S104 - not a bind address: the client of an unparseable peer


def trusted_network(entry: str) -> Network | None:
    """One ``TRUSTED_PROXIES`` entry as a network, None for ``unix``; ValueError otherwise
    (settings call this at startup, so a typo refuses to start instead of failing requests)."""
    entry = entry.strip()
    return None if entry == UNIX_PEER else ipaddress.ip_network(entry, strict=False)


@lru_cache(maxsize=8)
def _trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    networks = (trusted_network(entry) for entry in entries if entry.strip())
    return tuple(network for network in networks if network is not None)


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    candidate = address.strip()
    if candidate.startswith("[") and "]" in candidate:  # [v6]:port
        candidate = candidate[1 : candidate.index("]")]
    elif candidate.count(":") == 1:  # v4:port
        candidate = candidate.split(":", 1)[0]
    try:
        parsed = ipaddress.ip_address(candidate)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


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
    networks = _trusted_networks(trusted)
    if peer is None:
        unix_peer = not remote_addr and UNIX_PEER in (entry.strip() for entry in trusted)
        if not (unix_peer and forwarded_for):
            return NO_ADDRESS
    elif not forwarded_for or not _is_trusted(peer, networks):
        return str(peer)
    hops = [hop for hop in forwarded_for.split(",") if hop.strip()]
    client: ipaddress.IPv4Address | ipaddress.IPv6Address | None = peer
    for hop in reversed(hops):
        parsed = _parse(hop)
        if parsed is None:
            break  # garbage in the chain: stop at the last address we could trust
        client = parsed
        if not _is_trusted(parsed, networks):
            break
    return NO_ADDRESS if client is None else str(client)


@lru_cache(maxsize=4096)
def client_network(ip: str) -> str:
    """What rate limits and lockouts count as one client: an IPv4 address, or the /64 of an
    IPv6 address. One subscriber, one host even, holds a whole /64 (2^64 addresses to step
    around any per-address count with); addresses inside it are one client, as a NAT's users
    are with IPv4. Anything else (``0.0.0.0``) as it is."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return ip


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
