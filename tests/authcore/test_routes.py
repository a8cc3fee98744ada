"""The project's own URL configuration answers the probes and unknown URLs as the contract says."""

from __future__ import annotations

import pytest


def test_healthz_answers_on_the_project_urls(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_answers_on_the_project_urls(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_an_unknown_url_is_a_json_404_on_the_project_urls(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert response["X-Frame-Options"] == "DENY"


def test_metrics_are_prometheus_text_on_the_project_urls(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"authcore_rate_limit_hits_total" in response.content
