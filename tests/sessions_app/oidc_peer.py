"""A real OpenID provider (Node ``oidc-provider``, tests/node/oidc-provider-server.mjs) and a
browser driven with ``requests`` against it and the live Authcore server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.leaks import outcome

NODE_DIR = Path(__file__).resolve().parent.parent / "node"
SERVER_SCRIPT = NODE_DIR / "oidc-provider-server.mjs"
CLIENT_ID = "authcore-web"
CLIENT_SECRET = "test-client-secret-0123456789abcdef"
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) OidcTestBrowser/1.0"
ACCOUNTS = {
    "alice": {
        "email": "alice@example.test",
        "email_verified": True,
        "name": "Alice Liddell",
        "preferred_username": "alice",
    },
    "mallory": {"email": "ada@example.test", "email_verified": False, "name": "Mallory"},
}


@dataclass
class SigningKeys:
    """The provider's private keys: the tests sign their own tokens with them."""

    rsa_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    ec_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    rsa_kid: str = "rsa-test-1"
    ec_kid: str = "ec-test-1"

    def private_jwks(self) -> dict[str, Any]:
        rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.rsa_key))
        ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.ec_key))
        rsa_jwk.update(kid=self.rsa_kid, use="sig", alg="RS256")
        ec_jwk.update(kid=self.ec_kid, use="sig", alg="ES256")
        return {"keys": [rsa_jwk, ec_jwk]}


class OidcProviderProcess:
    """``node oidc-provider-server.mjs`` on a free port; ``stop()`` ends it.

    ``extra_env`` passes the script's other settings (``OIDC_ACCESS_TOKEN_TTL``,
    ``OIDC_TOKEN_RESPONSE``).
    """

    def __init__(
        self,
        *,
        redirect_uri: str,
        keys: SigningKeys,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        node = shutil.which("node")
        if node is None or not (NODE_DIR / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError("node and tests/node/node_modules are needed (make test installs)")
        env = {
            **os.environ,
            "OIDC_PORT": "0",
            "OIDC_CLIENTS": json.dumps(
                [
                    {
                        "client_id": CLIENT_ID,
                        "client_secret": CLIENT_SECRET,
                        "redirect_uris": [redirect_uri],
                    }
                ]
            ),
            "OIDC_ACCOUNTS": json.dumps(ACCOUNTS),
            "OIDC_JWKS": json.dumps(keys.private_jwks()),
            **(extra_env or {}),
        }
        self.process = subprocess.Popen(
            [node, str(SERVER_SCRIPT)],
            cwd=NODE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.kill()
            raise RuntimeError("oidc-provider did not start")
        self.issuer: str = json.loads(line)["issuer"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # Wait until the port refuses connections, so "provider down" is really down.
        for _ in range(50):
            try:
                requests.get(self.issuer, timeout=0.2)
            except requests.ConnectionError:
                return
            time.sleep(0.1)


class _Forms(HTMLParser):
    """The forms of an HTML page: action and the inputs' names and values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attributes.get("action") or "", "fields": {}})
        elif tag == "input" and self.forms and attributes.get("name"):
            self.forms[-1]["fields"][attributes["name"]] = attributes.get("value") or ""


def page_form(response: requests.Response) -> tuple[str, dict[str, str]]:
    parser = _Forms()
    parser.feed(response.text)
    assert parser.forms, f"no form on {response.url}: {response.status_code}"
    form = parser.forms[0]
    return urljoin(response.url, form["action"]), dict(form["fields"])


class WebBrowser:
    """What a browser does, with ``requests``: cookies, redirects, posting the provider's forms."""

    def __init__(self, base_url: str, user_agent: str = BROWSER_UA) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()
        self.http.headers["User-Agent"] = user_agent

    def close(self) -> None:
        """Close the sockets: the live server's request thread keeps its database connection
        until its keep-alive connection ends, which would block the test database's teardown."""
        self.http.close()

    def url(self, path: str) -> str:
        return self.base_url + path

    def start_login(
        self, *, provider: str = "test", next_path: str = "/dashboard"
    ) -> requests.Response:
        return self.http.get(
            self.url("/auth/web/login"),
            params={"provider": provider, "next": next_path},
            allow_redirects=False,
            timeout=10,
        )

    def sign_in_at_provider(self, authorization_url: str, *, account: str = "alice") -> str:
        """Follow the provider's redirects, filling its dev login and consent forms as they
        come (a returning user may see neither); returns our callback URL, not yet opened."""
        callback = self.url("/auth/web/callback")
        response = self.http.get(authorization_url, allow_redirects=False, timeout=10)
        for _ in range(12):
            if response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if location.startswith(callback):
                    return location
                response = self.http.get(location, allow_redirects=False, timeout=10)
                continue
            action, fields = page_form(response)
            if fields.get("prompt") == "login":
                fields.update(login=account, password="any")
            response = self.http.post(action, data=fields, allow_redirects=False, timeout=10)
        raise AssertionError("the provider never redirected back")

    def callback_url(self, *, provider: str = "test", next_path: str = "/dashboard") -> str:
        start = self.start_login(provider=provider, next_path=next_path)
        assert start.status_code == 302, outcome(start)
        return self.sign_in_at_provider(start.headers["Location"])

    def open(self, url: str) -> requests.Response:
        return self.http.get(url, allow_redirects=False, timeout=10)

    def sign_in(self, *, next_path: str = "/dashboard") -> requests.Response:
        return self.open(self.callback_url(next_path=next_path))

    def me(self) -> requests.Response:
        return self.http.get(self.url("/auth/web/me"), timeout=10)

    def post(
        self, path: str, *, csrf: str | None, origin: str | None = "self"
    ) -> requests.Response:
        headers = {}
        if csrf is not None:
            headers["X-CSRF-Token"] = csrf
        if origin is not None:
            headers["Origin"] = self.base_url if origin == "self" else origin
        return self.http.post(self.url(path), headers=headers, timeout=10)
