"""The shared HTTP layer as a client sees it: JSON errors, security and cache headers, CORS,
request ids. Runs the full middleware stack on the real routes and on small test views
(``tests/authcore/urls.py``)."""

from __future__ import annotations

import json

import pytest

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "1; mode=block",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
}
NO_STORE = {
    "Cache-Control": "no-store, no-cache, must-revalidate, proxy-revalidate",
    "Pragma": "no-cache",
    "Expires": "0",
}
TEST_URLS = "tests.authcore.urls"
# The test URLs hold the real health routes and admin; tests/authcore/test_routes.py checks the
# same on the project's own URL configuration.
pytestmark = pytest.mark.urls(TEST_URLS)


def assert_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        assert response[name] == value, name
    policy = response["Permissions-Policy"]
    for feature in ("geolocation", "camera", "microphone", "payment", "usb", "interest-cohort"):
        assert f"{feature}=()" in policy
    assert "fullscreen=(self)" in policy


def assert_no_store(response):
    for name, value in NO_STORE.items():
        assert response[name] == value, name


def post_json(client, path, body, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", **extra)


@pytest.mark.django_db
def test_an_unknown_url_is_a_json_404_with_the_security_headers(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert_security_headers(response)
    assert_no_store(response)
    assert len(response["X-Request-ID"]) >= 8


def test_healthz_says_the_process_is_alive_with_the_security_headers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert_security_headers(response)
    assert_no_store(response)


@pytest.mark.django_db
def test_readyz_reports_database_and_redis(client, settings):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["redis"] == ("ok" if settings.REDIS_URL else "not_configured")


def test_a_successful_api_call_carries_security_and_no_store_headers(client):
    response = post_json(client, "/api/echo", {"name": "alice"})
    assert response.status_code == 200
    assert response.json() == {"name": "alice"}
    assert_security_headers(response)
    assert_no_store(response)


def test_a_public_document_is_cacheable_but_keeps_the_security_headers(client):
    response = client.get("/.well-known/test-document.json")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300"
    assert "Pragma" not in response
    assert "Expires" not in response
    assert_security_headers(response)


def test_malformed_json_is_a_400_malformed_json(client):
    response = post_json(client, "/api/echo", '{"name": "alice"')
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
    assert set(response.json()) == {"detail", "code"}
    assert_security_headers(response)
    assert_no_store(response)


def test_a_json_list_where_an_object_is_expected_is_a_400(client):
    response = post_json(client, "/api/echo", [{"name": "alice"}])
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert "dictionary" in response.json()["detail"]
    assert_security_headers(response)


def test_a_missing_field_names_the_field(client):
    response = post_json(client, "/api/echo", {})
    assert response.status_code == 400
    assert response.json() == {"detail": "name: This field is required.", "code": "invalid_request"}


def test_an_oversized_body_is_a_413_json_before_it_is_read(client, settings):
    too_big = {"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    response = post_json(client, "/api/echo", too_big)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large.", "code": "payload_too_large"}
    assert_security_headers(response)
    assert_no_store(response)


@pytest.mark.django_db
def test_oversized_bodies_count_against_the_rate_limit(client, settings):
    settings.RATE_LIMIT_GLOBAL = "2/1h"
    too_big = {"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    first = post_json(client, "/api/echo", too_big)
    assert first.status_code == 413
    assert first["X-RateLimit-Remaining"] == "1"
    assert post_json(client, "/api/echo", too_big).status_code == 413
    refused = post_json(client, "/api/echo", too_big)
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"


def test_a_wrong_method_is_a_405_json_with_allow(client):
    response = client.get("/api/echo")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert "POST" in response["Allow"]
    assert_security_headers(response)
    assert_no_store(response)


def test_a_host_not_allowed_is_a_400_json(client):
    response = client.get("/healthz", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request.", "code": "bad_request"}
    assert_security_headers(response)
    assert_no_store(response)


@pytest.mark.django_db
def test_the_admin_keeps_its_html_pages(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert "text/html" in response["Content-Type"]
    assert_security_headers(response)


# --- request ids --------------------------------------------------------------------------


def test_every_response_has_a_fresh_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert first != second


def test_a_well_formed_caller_request_id_is_kept_and_a_forged_one_replaced(client):
    kept = client.get("/healthz", headers={"X-Request-ID": "trace-1234abcd"})
    assert kept["X-Request-ID"] == "trace-1234abcd"
    forged = client.get("/healthz", headers={"X-Request-ID": "x\nlevel=error fake=1"})
    assert forged["X-Request-ID"] != "x\nlevel=error fake=1"
    assert "\n" not in forged["X-Request-ID"]


# --- CORS ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_allowed_origin_gets_cors_with_credentials(client):
    response = client.get("/nope", headers={"Origin": "https://auth.privy.io"})
    assert response["Access-Control-Allow-Origin"] == "https://auth.privy.io"
    assert response["Access-Control-Allow-Credentials"] == "true"


@pytest.mark.django_db
def test_a_foreign_origin_gets_no_cors_headers(client):
    response = client.get("/nope", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Credentials" not in response


def test_a_preflight_from_an_allowed_origin_lists_the_api_headers(client):
    response = client.options(
        "/api/tokens",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-api-key",
        },
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "x-api-key" in response["Access-Control-Allow-Headers"]
    assert_security_headers(response)


@pytest.mark.django_db
def test_the_service_origin_is_always_allowed(client, settings):
    """Listed or not in CORS_ALLOWED_ORIGINS, Authcore's own origin (the demo page's) may call
    the API with credentials; settings.py adds it (a "*" refuses to start: test_startup)."""
    response = client.get("/nope", headers={"Origin": settings.API_ORIGIN})
    assert response["Access-Control-Allow-Origin"] == settings.API_ORIGIN
    assert response["Access-Control-Allow-Credentials"] == "true"
