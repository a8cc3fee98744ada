"""``ALLOWED_HOSTS`` is enforced on every path (EdgeMiddleware, in place of CommonMiddleware)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/healthz", "/api/me", "/.well-known/jwks.json", "/admin/"])
def test_a_foreign_host_is_a_json_400_on_every_path(
    client: Client, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="django.security.DisallowedHost"):
        response = client.get(path, HTTP_HOST="attacker.example")
    assert response.status_code == 400
    assert json.loads(response.content)["code"] == "bad_request"
    assert response["X-Content-Type-Options"] == "nosniff" and response["X-Request-ID"]
    assert any("attacker.example" in record.getMessage() for record in caplog.records)


def test_a_foreign_host_is_refused_also_after_an_allowed_one(client: Client) -> None:
    for _ in range(2):
        assert client.get("/healthz", HTTP_HOST="localhost").status_code == 200
        assert client.get("/healthz", HTTP_HOST="attacker.example").status_code == 400
    # the same name on another port, or behind a forwarded host, is checked on its own
    assert client.get("/healthz", HTTP_HOST="localhost:8000").status_code == 200
    assert client.get("/healthz", HTTP_HOST="localhost:bad").status_code == 400


def test_a_changed_allowed_hosts_setting_applies_at_once(client: Client, settings: Any) -> None:
    assert client.get("/healthz", HTTP_HOST="localhost").status_code == 200
    settings.ALLOWED_HOSTS = ["auth.example.com"]
    assert client.get("/healthz", HTTP_HOST="localhost").status_code == 400
    assert client.get("/healthz", HTTP_HOST="auth.example.com").status_code == 200


def test_the_admin_root_without_slash_redirects(client: Client) -> None:
    response = client.get("/admin")
    assert response.status_code == 301 and response["Location"] == "/admin/"
