"""Property tests of the parsers that read attacker-controlled text: the client IP from
``X-Forwarded-For``, the ``Authorization`` header, the CSRF token. (The ``next`` checker is
property-tested in tests/sessions_app/test_safe_next_path.py.)"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIRequestFactory

from authcore.client_ip import resolve_client_ip
from sessions_app.csrf import csrf_token_valid, make_csrf_token
from tokens.authentication import BearerTokenAuthentication, bearer_credentials
from tokens.exceptions import InvalidToken
from tokens.services import verify_token

PROXIES = ("10.0.0.0/8", "fd00::/8")
ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(str)
address = st.one_of(ipv4, ipv6)
garbage = st.one_of(st.text(alphabet="0123456789abcdef.:[]%, \t", max_size=40), st.just("unknown"))
hop = st.one_of(address, garbage, st.sampled_from(["10.1.2.3", "fd00::1", "10.9.9.9:443"]))


def canonical(text: str) -> str:
    """An address as the resolver writes it: an IPv4-mapped IPv6 address as its IPv4 one."""
    parsed = ipaddress.ip_address(text)
    mapped = parsed.ipv4_mapped if isinstance(parsed, ipaddress.IPv6Address) else None
    return str(mapped or parsed)


def trusted(text: str) -> bool:
    parsed = ipaddress.ip_address(canonical(text))
    return any(parsed in ipaddress.ip_network(network) for network in PROXIES)


# --- client IP ------------------------------------------------------------------------------


@settings(max_examples=400)
@given(peer=address, chain=st.lists(hop, max_size=6))
@example(peer="203.0.113.9", chain=["10.0.0.1"])
def test_an_untrusted_peer_is_the_client_whatever_it_forwards(peer: str, chain: list[str]) -> None:
    if trusted(peer):
        return
    assert resolve_client_ip(peer, ", ".join(chain), PROXIES) == canonical(peer)


@settings(max_examples=400)
@given(chain=st.lists(hop, max_size=6), proxy=st.sampled_from(["10.0.0.7", "fd00::7"]))
def test_behind_a_trusted_proxy_the_result_is_an_address_from_the_socket_or_the_chain(
    chain: list[str], proxy: str
) -> None:
    """Never a made-up value, never a crash; a trusted hop is chosen only when the whole chain
    (right of it) is trusted."""
    header = ", ".join(chain)
    result = resolve_client_ip(proxy, header, PROXIES)
    parsed = ipaddress.ip_address(result)
    seen = {proxy}
    for entry in chain:
        candidate = entry.strip()
        if candidate.startswith("[") and "]" in candidate:
            candidate = candidate[1 : candidate.index("]")]
        elif candidate.count(":") == 1:
            candidate = candidate.split(":", 1)[0]
        try:
            seen.add(canonical(candidate))
        except ValueError:
            continue
    assert str(parsed) in seen


@settings(max_examples=300)
@given(client=address, spoofed=st.lists(address, max_size=4))
def test_addresses_the_client_prepends_cannot_displace_it(client: str, spoofed: list[str]) -> None:
    """What a trusted proxy appends (the real peer) wins over what the client wrote before."""
    if trusted(client):
        return
    header = ", ".join([*spoofed, client])
    assert resolve_client_ip("10.0.0.7", header, PROXIES) == canonical(client)


@given(remote=st.text(max_size=30), header=st.one_of(st.none(), st.text(max_size=60)))
def test_any_socket_address_and_header_give_an_ip_address(remote: str, header: str | None) -> None:
    ipaddress.ip_address(resolve_client_ip(remote, header, PROXIES))


# --- Authorization header -------------------------------------------------------------------

factory = APIRequestFactory()


@given(header=st.text(max_size=80))
@example(header="Bearer")
@example(header="bearer  x")
@example(header="Bearer\tx")
@example(header="Basic Zm9vOmJhcg==")
def test_only_the_bearer_scheme_yields_credentials(header: str) -> None:
    request = factory.get("/", HTTP_AUTHORIZATION=header)
    credentials = bearer_credentials(request)
    scheme = header.partition(" ")[0]
    if scheme.lower() != "bearer":
        assert credentials is None
    else:
        assert credentials == header.partition(" ")[2].strip()


jwt_alphabet = st.sampled_from([*"eyJhbGciOiJSUzI1NiJ9.-_=+/ ", "e30", "."])


@pytest.mark.django_db
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=st.one_of(
        st.text(max_size=200),
        st.lists(jwt_alphabet, max_size=60).map("".join),
        st.binary(max_size=120).map(lambda b: b.decode("latin-1")),
    )
)
@example(raw="e30.e30.")
@example(raw="eyJhbGciOiJub25lIn0.e30.")
@example(raw="x" * 9000)
def test_any_bearer_text_is_refused_as_invalid_token_never_a_crash(raw: str) -> None:
    """A forged value of any shape ends in InvalidToken (a 401), not in another exception."""
    with pytest.raises(InvalidToken):
        verify_token(raw)
    request = factory.get("/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    with pytest.raises(InvalidToken):
        BearerTokenAuthentication().authenticate(request)


# --- CSRF token -----------------------------------------------------------------------------


@settings(max_examples=300)
@given(token=st.text(max_size=120))
@example(token="0:")
@example(token="99999999999999999999:abc")
@example(token="١٢٣:abc")  # non-ASCII digits
@example(token=":" * 5)
def test_a_csrf_token_never_made_for_the_session_is_refused(token: str) -> None:
    assert csrf_token_valid(token=token, session_id="s-1", csrf_secret="c-1") is False


@settings(max_examples=200)
@given(
    session_id=st.text(min_size=1, max_size=40),
    secret=st.text(min_size=1, max_size=40),
    position=st.integers(min_value=0, max_value=200),
    replacement=st.characters(),
)
def test_changing_any_character_of_a_valid_csrf_token_breaks_it(
    session_id: str, secret: str, position: int, replacement: str
) -> None:
    token = make_csrf_token(session_id=session_id, csrf_secret=secret)
    assert csrf_token_valid(token=token, session_id=session_id, csrf_secret=secret)
    index = position % len(token)
    changed = token[:index] + replacement + token[index + 1 :]
    if changed == token:
        return
    assert not csrf_token_valid(token=changed, session_id=session_id, csrf_secret=secret)
