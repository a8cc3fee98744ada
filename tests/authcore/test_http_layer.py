"""The shared HTTP layer as a client sees it."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_an_unknown_url_is_a_json_404_with_the_security_headers(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["Cache-Control"] == "no-store, no-cache, must-revalidate, proxy-revalidate"
    assert len(response["X-Request-ID"]) >= 8


def test_healthz_says_the_process_is_alive(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_database_and_redis(client, settings):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["redis"] == ("ok" if settings.REDIS_URL else "not_configured")
