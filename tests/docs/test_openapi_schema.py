"""The OpenAPI document at /api/schema: valid, complete against the URL conf and the contract,
and right about the errors the running server answers."""

from __future__ import annotations

import base64
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.validation import validate_schema

from authcore.openapi.errors import OPERATION_ERRORS, known_codes

REPO = Path(django_settings.BASE_DIR)
CONTRACT = REPO.parent / "shared" / "API.md"  # CI keeps shared/ beside the clone
DOCUMENTED_PREFIXES = ("/api/", "/auth/web/", "/.well-known/")
NOT_IN_SCHEMA = {"/api/schema", "/api/docs"}  # the schema and its page describe the rest
PROBES = {("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics")}
# Endpoints beyond the contract, and the page that documents each.
EXTENSIONS = {
    ("get", "/auth/web/sessions"): "docs/browser-sessions.md",
    ("delete", "/auth/web/sessions/{}"): "docs/browser-sessions.md",
}
METHODS = ("get", "post", "put", "patch", "delete")
MASTER = ("operator", "a-long-random-master-password-for-tests-0123456789")

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        response = Client().get("/api/schema", {"format": "json"})
    assert response.status_code == 200
    document: dict[str, Any] = json.loads(response.content)
    return document


def shape(path: str) -> str:
    """``/api/clients/{client_id}/rotate-key`` -> ``/api/clients/{}/rotate-key``."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def operations(schema: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method, shape(path))
        for path, item in schema["paths"].items()
        for method in item
        if method in METHODS
    }


def url_conf_endpoints() -> set[tuple[str, str]]:
    """(method, path) of every route under the documented prefixes."""
    found: set[tuple[str, str]] = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
                continue
            assert isinstance(pattern, URLPattern)
            path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).lstrip("^").rstrip("$")
            if not path.startswith(DOCUMENTED_PREFIXES) or path in NOT_IN_SCHEMA:
                continue
            view_class = getattr(pattern.callback, "cls", None) or getattr(
                pattern.callback, "view_class", None
            )
            methods = [m for m in METHODS if hasattr(view_class, m)] if view_class else ["get"]
            found.update((method, shape(path)) for method in methods)

    walk(get_resolver().url_patterns, "")
    return found


def contract_endpoints() -> set[tuple[str, str]]:
    if not CONTRACT.is_file():
        pytest.fail(f"the contract is missing: expected {CONTRACT} (shared/API.md beside the repo)")
    calls = re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)", CONTRACT.read_text())
    return {
        (method.lower(), shape(path))
        for method, path in calls
        if path.startswith(DOCUMENTED_PREFIXES) and path not in NOT_IN_SCHEMA
    } | PROBES


def test_the_schema_is_valid_openapi_3(schema: dict[str, Any]) -> None:
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # drf-spectacular's bundled OpenAPI 3 JSON Schema


def test_every_endpoint_of_the_url_conf_is_in_the_schema(schema: dict[str, Any]) -> None:
    endpoints = url_conf_endpoints()
    assert ("post", "/api/tokens") in endpoints and ("get", "/.well-known/jwks.json") in endpoints
    missing = endpoints - operations(schema)
    assert not missing, f"routes missing from /api/schema: {sorted(missing)}"


def test_the_schema_has_every_contract_endpoint_and_no_undocumented_extra(
    schema: dict[str, Any],
) -> None:
    contract = contract_endpoints()
    assert ("post", "/api/clients/{}/rotate-key") in contract
    assert ("post", "/auth/web/token") in contract
    in_schema = operations(schema)
    assert not contract - in_schema, f"contract calls missing: {sorted(contract - in_schema)}"
    extra = in_schema - contract
    assert extra == set(EXTENSIONS), f"schema calls beyond the contract: {sorted(extra)}"
    for (_, path), page in EXTENSIONS.items():
        assert path.replace("{}", "{id}") in (REPO / page).read_text(), f"{page} must say {path}"


def test_security_schemes_cover_bearer_api_key_basic_and_the_session_cookie_with_csrf(
    schema: dict[str, Any],
) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert schemes["Bearer"] == {**schemes["Bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["ApiKey"] == {"type": "apiKey", "in": "header", "name": "x-api-key"}
    assert schemes["MasterBasic"]["scheme"] == "basic"
    assert schemes["SessionCookie"]["in"] == "cookie"
    assert schemes["SessionCookie"]["name"] == "user_session_id"
    assert schemes["CsrfToken"]["name"] == "X-CSRF-Token"
    # A state-changing call with the cookie needs the CSRF header too; a read does not.
    delete = schema["paths"]["/api/passkeys/{passkey_id}"]["delete"]["security"]
    assert {"SessionCookie": [], "CsrfToken": []} in delete
    listing = schema["paths"]["/api/passkeys"]["get"]["security"]
    assert {"SessionCookie": []} in listing and {"Bearer": []} in listing
    assert schema["paths"]["/api/clients"]["post"]["security"] == [{"MasterBasic": []}]


def test_the_discovery_schema_names_exactly_the_fields_the_server_serves(
    schema: dict[str, Any],
) -> None:
    """A client generated from the schema must not look for endpoints we do not advertise."""
    served = Client().get("/.well-known/openid-configuration").json()
    documented = schema["components"]["schemas"]["Discovery"]
    assert set(documented["properties"]) == set(served)
    assert set(documented["required"]) == set(served)
    assert "introspection_endpoint" not in served and "revocation_endpoint" not in served


def test_every_operation_documents_its_error_codes_and_the_table_has_no_stale_row(
    schema: dict[str, Any],
) -> None:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if not path.startswith(("/api/", "/auth/web/")):
                continue
            errors = [status for status in operation["responses"] if status >= "400"]
            assert errors, f"{method.upper()} {path} documents no error"
    stale = {key for key in OPERATION_ERRORS if key[1] not in schema["paths"]}
    assert not stale, f"error table rows for unknown paths: {stale}"


def test_every_documented_error_code_is_raised_somewhere_with_that_status(
    schema: dict[str, Any],
) -> None:
    known = known_codes()
    for (method, path), table in OPERATION_ERRORS.items():
        for status, codes in table.items():
            for code in codes:
                assert status in known.get(code, {}), (
                    f"{method.upper()} {path}: no error class answers {status} {code!r}"
                )
    example = schema["paths"]["/api/tokens"]["post"]["responses"]["401"]["content"]
    body = example["application/json"]["examples"]["invalid_credentials"]["value"]
    assert body == {"detail": "Invalid identifier or secret.", "code": "invalid_credentials"}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]*\}", str(uuid.uuid4()), path)


def _credentials(client: Client, settings: Any) -> dict[str, dict[str, str]]:
    """Header sets a caller might send: none, junk, a real API key + token, master Basic."""
    settings.MASTER_USERNAME, settings.MASTER_PASSWORD = MASTER
    basic = "Basic " + base64.b64encode(":".join(MASTER).encode()).decode()
    created = client.post(
        "/api/clients",
        {"name": "schema"},
        content_type="application/json",
        headers={"Authorization": basic},
    ).json()
    key = created["api_key"]
    user = client.post(
        "/api/users",
        {"identifier": "u1"},
        content_type="application/json",
        headers={"x-api-key": key},
    ).json()
    token = client.post(
        "/api/tokens",
        {"identifier": "u1", "secret": user["secret"]},
        content_type="application/json",
        headers={"x-api-key": key},
    ).json()["access_token"]
    return {
        "anonymous": {},
        "junk": {"Authorization": "Bearer not-a-token", "x-api-key": "ak_0.junk"},
        "signed in": {"Authorization": f"Bearer {token}", "x-api-key": key},
        "master": {"Authorization": basic},
    }


def test_failing_requests_answer_only_statuses_and_codes_the_schema_lists(
    schema: dict[str, Any], settings: Any
) -> None:
    """Every operation, called without, with junk and with real credentials and with an empty
    or a malformed body: each answer's status is documented, and an error's code is listed."""
    client = Client()
    callers = _credentials(client, settings)
    undocumented: list[str] = []
    checked = 0
    for path, item in schema["paths"].items():
        if not path.startswith(("/api/", "/auth/web/")):
            continue
        for method, operation in item.items():
            bodies = ["{}", "{"] if "requestBody" in operation else [""]
            for who, headers in callers.items():
                for body in bodies:
                    response = client.generic(
                        method.upper(),
                        _concrete(path),
                        body,
                        content_type="application/json",
                        headers=headers,
                    )
                    checked += 1
                    status = str(response.status_code)
                    documented = operation["responses"].get(status)
                    label = f"{method.upper()} {path} ({who}, body {body!r}) -> {status}"
                    if documented is None:
                        undocumented.append(f"{label}: status not documented")
                        continue
                    if response.status_code >= 400:
                        code = response.json()["code"]
                        listed = documented["content"]["application/json"]["schema"]["allOf"][1]
                        if code not in listed["properties"]["code"]["enum"]:
                            undocumented.append(f"{label}: code {code!r} not listed")
    assert checked > 100
    assert not undocumented, "\n".join(undocumented)


def test_the_docs_page_renders_swagger_ui_from_our_own_static_files() -> None:
    client = Client()
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "/api/schema" in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(source.startswith("/static/") for source in sources), sources
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200, source
    # The contract's security headers hold on this page too.
    assert page["X-Frame-Options"] == "DENY"
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Cache-Control"].startswith("no-store")
