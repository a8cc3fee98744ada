"""Whatever access token the provider issues, its sign-in never ends in a 500.

Authcore uses the provider's access token for one thing, the userinfo request (OIDC Core §5.3),
right after the code exchange. These providers are the real test provider, configured to issue
short-lived access tokens or to describe them differently in the token response.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from sessions_app.exceptions import ProviderUnavailable
from sessions_app.models import OidcIdentity
from sessions_app.oidc.discovery import fetch_json
from sessions_app.oidc.flow import _exchange_code, _userinfo
from sessions_app.oidc.providers import Provider
from tests.leaks import outcome
from tests.sessions_app.conftest import provider_entry
from tests.sessions_app.oidc_peer import OidcProviderProcess, WebBrowser


@pytest.fixture
def tuned_provider(
    oidc_settings: Any, provider_keys: Any, live_server: Any
) -> Iterator[Callable[..., OidcProviderProcess]]:
    """Start a provider with these access-token settings and make it the configured one."""
    started: list[OidcProviderProcess] = []

    def start(*, access_token_ttl: int = 3600, **token_response: Any) -> OidcProviderProcess:
        provider = OidcProviderProcess(
            redirect_uri=f"{live_server.url}/auth/web/callback",
            keys=provider_keys,
            extra_env={
                "OIDC_ACCESS_TOKEN_TTL": str(access_token_ttl),
                "OIDC_TOKEN_RESPONSE": json.dumps(token_response),
            },
        )
        started.append(provider)
        oidc_settings.OIDC_PROVIDERS = [provider_entry(provider.issuer)]
        return provider

    yield start
    for provider in started:
        provider.stop()


@pytest.mark.parametrize("lifetime", [1, 30, 60])
def test_a_short_lived_access_token_still_signs_in_with_the_profile(
    web_browser: WebBrowser, tuned_provider: Callable[..., OidcProviderProcess], lifetime: int
) -> None:
    # Keycloak's "Access Token Lifespan: 1 minute" and shorter: the token is still good for
    # the userinfo request made right away.
    tuned_provider(access_token_ttl=lifetime)
    response = web_browser.sign_in()
    assert response.status_code == 302, outcome(response)
    assert response.headers["Location"] == "/dashboard"
    me = web_browser.me()
    assert me.status_code == 200
    if lifetime > 1:  # a one-second token may be gone before userinfo: only the profile is lost
        assert me.json()["user"]["display_name"] == "Alice Liddell"
        assert me.json()["user"]["email"] == "alice@example.test"


@pytest.mark.parametrize("token_type", ["DPoP", "N_A", None, 7])
def test_an_access_token_of_another_type_costs_only_the_profile(
    web_browser: WebBrowser, tuned_provider: Callable[..., OidcProviderProcess], token_type: Any
) -> None:
    # RFC 6749 §7.1: a token of a type Authcore does not understand is not used; the verified
    # ID token alone signs the user in.
    provider = tuned_provider(token_type=token_type)
    response = web_browser.sign_in()
    assert response.status_code == 302, outcome(response)
    me = web_browser.me()
    assert me.status_code == 200
    identity = OidcIdentity.objects.get(issuer=provider.issuer, subject="alice")
    assert me.json()["user"]["id"] == str(identity.user_id)


def test_a_lowercase_bearer_token_type_is_a_bearer_token(
    web_browser: WebBrowser, tuned_provider: Callable[..., OidcProviderProcess]
) -> None:
    # RFC 6749 §5.1: the type is case-insensitive.
    tuned_provider(token_type="bearer", access_token_ttl=30)
    assert web_browser.sign_in().status_code == 302
    assert web_browser.me().json()["user"]["display_name"] == "Alice Liddell"


@pytest.mark.parametrize("expires_in", [[60], {"seconds": 60}, "soon"])
def test_an_unreadable_token_lifetime_is_a_clear_502(
    web_browser: WebBrowser, tuned_provider: Callable[..., OidcProviderProcess], expires_in: Any
) -> None:
    tuned_provider(expires_in=expires_in)
    response = web_browser.sign_in()
    assert response.status_code == 502
    assert response.json() == {
        "detail": "The OpenID provider is unavailable; try again later.",
        "code": "provider_unavailable",
    }
    assert web_browser.me().status_code == 401


class _JsonEndpoint(BaseHTTPRequestHandler):
    """Answers every GET and POST with ``body`` (raw JSON text), as a provider's endpoint."""

    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.do_GET()

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def provider_endpoint(body: str) -> Iterator[str]:
    """A plain HTTP server answering ``body``: for what the Node provider cannot send."""
    handler = type("Endpoint", (_JsonEndpoint,), {"body": body.encode()})
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/endpoint"
    finally:
        server.shutdown()
        server.server_close()


PROVIDER = Provider(name="t", issuer="https://idp.example.test", client_id="c", client_secret="s")
# Deeper than Python's JSON parser recurses (RecursionError, a 500 found by a review's probe).
DEEP = '{"sub": "s", "a": ' + "[" * 5000 + "]" * 5000 + "}"


@pytest.mark.parametrize(
    "body",
    [
        '{"access_token":"a","token_type":"Bearer","expires_in":1e400}',
        '{"access_token":"a","token_type":"Bearer","expires_in":-1e400}',
        DEEP,
    ],
    ids=["1e400", "-1e400", "nested 5000 deep"],
)
def test_a_token_response_no_one_can_read_is_a_clear_502(db: Any, body: str) -> None:
    """JSON's 1e400 reads as infinity, which authlib cannot add to a time (OverflowError, a
    500 found by fuzzing). The Node provider cannot send these (JavaScript writes infinity as
    null), so a plain HTTP server plays the token endpoint."""
    with provider_endpoint(body) as url, pytest.raises(ProviderUnavailable):
        _exchange_code(PROVIDER, {"token_endpoint": url}, code="code", verifier="v" * 43)


def test_a_provider_document_nested_too_deep_is_a_clear_502(db: Any) -> None:
    with provider_endpoint(DEEP) as url, pytest.raises(ProviderUnavailable):
        fetch_json(url, provider=PROVIDER, what="discovery")


def test_userinfo_nested_too_deep_costs_only_the_profile(db: Any) -> None:
    with provider_endpoint(DEEP) as url:
        token = {"access_token": "a", "token_type": "Bearer"}
        assert _userinfo(url, token, PROVIDER) == {}
