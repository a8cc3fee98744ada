"""A backend integrating Authcore's client service with ``requests`` (and PyJWT to verify).

    pip install requests "PyJWT[crypto]"
    AUTHCORE_URL=http://localhost:8000 AUTHCORE_API_KEY=ak_... python client_service.py

Without ``AUTHCORE_API_KEY`` it first creates a client with ``MASTER_USERNAME`` and
``MASTER_PASSWORD`` (what an operator does once). Then, as a backend does for each of its users:
create the user (keep the secret it returns, shown once), exchange identifier and secret for a
token, use it, verify it locally against the JWKS, introspect it, revoke it. Exits non-zero at
the first answer that is not the documented one.
"""

from __future__ import annotations

import os
import secrets
import sys
from typing import Any

import jwt
import requests

BASE = os.environ.get("AUTHCORE_URL", "http://localhost:8000").rstrip("/")
AUDIENCE = os.environ.get("AUTHCORE_AUDIENCE", "authcore-dev")  # Authcore's APP_ID
TIMEOUT = 10


def call(http: requests.Session, method: str, path: str, status: int, **kwargs: Any) -> Any:
    """The JSON answer of a call with the expected status; else print the error and exit."""
    response = http.request(method, BASE + path, timeout=TIMEOUT, **kwargs)
    if response.status_code != status:
        # Every Authcore error is {"detail", "code"}: branch on the code, log the detail.
        sys.exit(f"{method} {path}: {response.status_code} {response.text}")
    return response.json() if response.content else None


def api_key(http: requests.Session) -> str:
    key = os.environ.get("AUTHCORE_API_KEY")
    if key:
        return key
    master = (os.environ["MASTER_USERNAME"], os.environ["MASTER_PASSWORD"])
    client = call(http, "POST", "/api/clients", 201, json={"name": "Example"}, auth=master)
    print(f"created client {client['id']} (keep its api_key in your secret manager)")
    return str(client["api_key"])


def main() -> None:
    anonymous = requests.Session()
    backend = requests.Session()
    backend.headers["x-api-key"] = api_key(anonymous)

    # 1. One Authcore user per user of yours; the secret is shown only now: store it.
    identifier = f"customer-{secrets.token_hex(4)}"
    user = call(backend, "POST", "/api/users", 201, json={"identifier": identifier})
    print(f"created user {user['id']} for {identifier}")

    # 2. Identifier + secret -> access token (here for one hour).
    body = {"identifier": identifier, "secret": user["secret"], "expires_in": 3600}
    token = call(backend, "POST", "/api/tokens", 201, json=body)
    bearer = {"Authorization": f"Bearer {token['access_token']}"}

    # 3. The token opens /api/me (and any service that trusts Authcore's JWKS).
    me = call(anonymous, "GET", "/api/me", 200, headers=bearer)
    assert me["id"] == user["id"] and me["identifier"] == identifier
    print(f"/api/me answers {me['identifier']}")

    # 4. Verify locally, as your own API would: RS256 pinned, iss and aud checked, key by kid.
    discovery = call(anonymous, "GET", "/.well-known/openid-configuration", 200)
    jwks = jwt.PyJWKClient(discovery["jwks_uri"])
    claims = jwt.decode(
        token["access_token"],
        jwks.get_signing_key_from_jwt(token["access_token"]).key,
        algorithms=["RS256"],
        audience=AUDIENCE,
        issuer=discovery["issuer"],
    )
    assert claims["sub"] == user["id"] and claims["jti"] == token["jti"]
    print(f"verified locally: sub={claims['sub']} client_id={claims['client_id']}")

    # 5. Introspection (RFC 7662) says whether Authcore still honours it.
    introspect = {"token": token["access_token"]}
    assert call(backend, "POST", "/api/tokens/introspect", 200, json=introspect)["active"]

    # 6. Revoke it: from the next request on, Authcore refuses it on every instance.
    call(backend, "DELETE", f"/api/tokens/{token['jti']}", 204)
    call(anonymous, "GET", "/api/me", 401, headers=bearer)
    assert call(backend, "POST", "/api/tokens/introspect", 200, json=introspect) == {
        "active": False
    }
    print("revoked: /api/me answers 401 and introspection says inactive")


if __name__ == "__main__":
    main()
