"""Who the client is: the socket peer, or X-Forwarded-For walked from the right only behind a
trusted proxy. Properties over generated addresses and chains (hypothesis)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authcore.client_ip import client_ip, resolve_client_ip

TRUSTED = ("10.0.0.0/8", "fd00::/8")
trusted_v4 = st.integers(0, 2**24 - 1).map(lambda n: str(ipaddress.IPv4Address(0x0A000000 + n)))
public_v4 = st.ip_addresses(v=4).filter(lambda a: a.is_global).map(str)
public_v6 = st.ip_addresses(v=6).filter(lambda a: a.is_global).map(str)
public = st.one_of(public_v4, public_v6)
junk = st.text(max_size=40)


def canonical(address: str) -> str:
    """How the resolver writes an address: an IPv4-mapped IPv6 address as its IPv4 one."""
    parsed = ipaddress.ip_address(address)
    mapped = parsed.ipv4_mapped if isinstance(parsed, ipaddress.IPv6Address) else None
    return str(mapped or parsed)


@given(peer=public, forwarded=junk)
def test_an_untrusted_peer_is_the_client_whatever_it_forwards(peer, forwarded):
    assert resolve_client_ip(peer, forwarded, TRUSTED) == canonical(peer)


@given(
    peer=trusted_v4,
    client=public,
    spoofed=st.lists(public, max_size=3),
    hops=st.lists(trusted_v4, max_size=3),
)
def test_behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client(
    peer, client, spoofed, hops
):
    # what the client claimed, then what the first proxy saw, then the inner proxies
    chain = ", ".join([*spoofed, client, *hops])
    assert resolve_client_ip(peer, chain, TRUSTED) == canonical(client)


@given(peer=st.one_of(trusted_v4, public), forwarded=st.one_of(junk, st.none()))
def test_the_answer_is_always_the_peer_or_an_address_from_the_chain(peer, forwarded):
    answer = resolve_client_ip(peer, forwarded, TRUSTED)
    ipaddress.ip_address(answer)  # always an address
    # each hop as the resolver reads a lone address (ports and brackets stripped)
    hops = {resolve_client_ip(hop, None, ()) for hop in (forwarded or "").split(",")}
    candidates = {canonical(peer)} | (hops - {"0.0.0.0"})
    assert answer in candidates


@given(peer=trusted_v4, hops=st.lists(trusted_v4, min_size=1, max_size=4))
def test_a_chain_of_only_trusted_hops_yields_the_leftmost(peer, hops):
    assert resolve_client_ip(peer, ", ".join(hops), TRUSTED) == hops[0]


def test_garbage_in_the_chain_stops_the_walk_at_the_last_good_address():
    assert resolve_client_ip("10.0.0.1", "203.0.113.5, not-an-ip, 10.0.0.2", TRUSTED) == "10.0.0.2"


def test_ports_and_brackets_are_stripped():
    assert resolve_client_ip("10.0.0.1", "203.0.113.5:4711", TRUSTED) == "203.0.113.5"
    assert resolve_client_ip("10.0.0.1", "[2001:db8::1]:443", TRUSTED) == "2001:db8::1"


def test_a_request_from_an_untrusted_peer_ignores_its_forwarded_header(rf, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = rf.get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "198.51.100.7"


def test_a_request_through_a_trusted_proxy_is_the_forwarded_client(rf, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = rf.get("/", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.9.9.9")
    assert client_ip(request) == "1.2.3.4"


def test_an_ipv4_peer_written_as_ipv6_matches_ipv4_trusted_proxies():
    """A dual-stack socket ([::]:8000) reports an IPv4 load balancer as ::ffff:10.0.0.5."""
    assert resolve_client_ip("::ffff:10.0.0.5", "203.0.113.7", TRUSTED) == "203.0.113.7"
    assert resolve_client_ip("::ffff:198.51.100.7", "203.0.113.7", TRUSTED) == "198.51.100.7"
    assert resolve_client_ip("10.0.0.5", "::ffff:203.0.113.7", TRUSTED) == "203.0.113.7"


def test_a_unix_socket_peer_is_trusted_only_when_named():
    assert resolve_client_ip("", "203.0.113.7, 10.0.0.2", (*TRUSTED, "unix")) == "203.0.113.7"
    assert resolve_client_ip("", "203.0.113.7", TRUSTED) == "0.0.0.0"
    assert resolve_client_ip("", None, (*TRUSTED, "unix")) == "0.0.0.0"
    assert resolve_client_ip("garbage", "203.0.113.7", (*TRUSTED, "unix")) == "0.0.0.0"


@pytest.mark.django_db
@pytest.mark.real_rate_limits
def test_clients_behind_a_unix_socket_proxy_have_their_own_rate_limit_windows(client, settings):
    settings.TRUSTED_PROXIES = ["unix"]
    settings.RATE_LIMIT_GLOBAL = "1/15m"
    codes = [
        client.get("/nope", REMOTE_ADDR="", HTTP_X_FORWARDED_FOR=forwarded).status_code
        for forwarded in ("203.0.113.7", "203.0.113.8", "203.0.113.7")
    ]
    assert codes == [404, 404, 429]
