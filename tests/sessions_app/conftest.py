"""Fixtures of the browser-session tests: a user and a browser holding a session cookie."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from authcore.models import User
from sessions_app.app_settings import SESSION_COOKIE
from sessions_app.services import open_session
from tests.leaks import outcome

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AuthcoreTest/1.0"


@dataclass
class Browser:
    """An API client that sends a fixed User-Agent and holds a session cookie."""

    client: APIClient
    session_id: str = field(repr=False)  # never in a failing test's output
    user: Any

    @property
    def origin(self) -> str:
        return str(django_settings.API_ORIGIN)

    def csrf_token(self) -> str:
        response = self.client.get("/auth/web/me")
        assert response.status_code == 200, outcome(response)
        return str(response.json()["csrf_token"])

    def post(self, path: str, *, token: str | None = None, **headers: str) -> Any:
        extra: dict[str, Any] = {"HTTP_ORIGIN": self.origin, **headers}
        if token is not None:
            extra["HTTP_X_CSRF_TOKEN"] = token
        return self.client.post(path, **extra)


@pytest.fixture
def user(db: Any) -> User:
    return User.objects.create_user(
        username="ada", email="ada@example.test", display_name="Ada Lovelace"
    )


def open_browser_session(user: User, user_agent: str = BROWSER_UA) -> Browser:
    """Open a session through the public service, as passkey login does, and hand its cookie
    to a client with the same User-Agent and address (127.0.0.1)."""
    request = RequestFactory().post(
        "/api/auth/passkey/login/verify", HTTP_USER_AGENT=user_agent, REMOTE_ADDR="127.0.0.1"
    )
    response = HttpResponse()
    open_session(request=request, response=response, user=user)
    session_id = response.cookies[SESSION_COOKIE].value
    client = APIClient(HTTP_USER_AGENT=user_agent)
    client.cookies[SESSION_COOKIE] = session_id
    return Browser(client=client, session_id=session_id, user=user)


@pytest.fixture
def browser(user: User) -> Browser:
    return open_browser_session(user)


@pytest.fixture
def staff(db: Any) -> Client:
    """A browser signed in to the admin as a superuser."""
    client = Client()
    client.force_login(User.objects.create_superuser(username="root", password="pw-long-enough-1"))
    return client


# --- a real OpenID provider ------------------------------------------------------------------

import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402

import jwt  # noqa: E402

from tests.sessions_app.oidc_peer import (  # noqa: E402
    CLIENT_ID,
    CLIENT_SECRET,
    OidcProviderProcess,
    SigningKeys,
    WebBrowser,
)


@pytest.fixture(scope="session")
def provider_keys() -> SigningKeys:
    return SigningKeys()


@pytest.fixture(scope="session")
def oidc_provider(live_server: Any, provider_keys: SigningKeys) -> Iterator[OidcProviderProcess]:
    """The Node OpenID provider for the whole run, redirecting to the live server's callback."""
    process = OidcProviderProcess(
        redirect_uri=f"{live_server.url}/auth/web/callback", keys=provider_keys
    )
    yield process
    process.stop()


def provider_entry(issuer: str, name: str = "test") -> dict[str, Any]:
    return {
        "name": name,
        "issuer": issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scopes": "openid email profile",
    }


@pytest.fixture
def oidc_settings(settings: Any, live_server: Any, oidc_provider: OidcProviderProcess) -> Any:
    """Point Authcore at the live server's URL and the provider (read at request time)."""
    settings.API_BASE_URL = live_server.url
    settings.API_ORIGIN = live_server.url
    settings.OIDC_PROVIDERS = [provider_entry(oidc_provider.issuer)]
    settings.OIDC_BEARER_AUDIENCES = [CLIENT_ID]
    return settings


@pytest.fixture
def new_browser(oidc_settings: Any, live_server: Any) -> Iterator[Callable[..., WebBrowser]]:
    """Make browsers (each its own cookie jar); all are closed after the test."""
    browsers: list[WebBrowser] = []

    def make(**kwargs: Any) -> WebBrowser:
        browsers.append(WebBrowser(live_server.url, **kwargs))
        return browsers[-1]

    yield make
    for browser in browsers:
        browser.close()


@pytest.fixture
def web_browser(new_browser: Callable[..., WebBrowser]) -> WebBrowser:
    return new_browser()


Mint = Callable[..., str]


@pytest.fixture
def mint(
    oidc_settings: Any, oidc_provider: OidcProviderProcess, provider_keys: SigningKeys
) -> Mint:
    """Sign claims as the provider would (its real keys; an ID token for our client), with
    overrides for the test's one defect (a claim set to None is left out)."""

    def make(
        *, algorithm: str = "RS256", headers: dict[str, Any] | None = None, **claims: Any
    ) -> str:
        now = int(time.time())
        body = {
            "iss": oidc_provider.issuer,
            "sub": "bob",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "email": "bob@example.test",
            "email_verified": True,
            **claims,
        }
        body = {key: value for key, value in body.items() if value is not None}
        if algorithm.startswith("ES"):
            key: Any = provider_keys.ec_key
            kid = provider_keys.ec_kid
        else:
            key, kid = provider_keys.rsa_key, provider_keys.rsa_kid
        return jwt.encode(body, key, algorithm=algorithm, headers={"kid": kid, **(headers or {})})

    return make
