"""API views answer JSON whatever ``Accept`` says; the schema view still negotiates."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "*/*", "nonsense;;q=x"])
def test_a_json_endpoint_answers_json_for_any_accept(api_client: APIClient, accept: str) -> None:
    response = api_client.post(
        "/api/auth/passkey/login/options", {}, format="json", HTTP_ACCEPT=accept
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["challenge"]


def test_an_error_is_json_for_any_accept(api_client: APIClient) -> None:
    response = api_client.get("/api/me", HTTP_ACCEPT="text/html")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["code"]


def test_the_schema_still_negotiates_yaml_or_json(api_client: APIClient) -> None:
    as_yaml = api_client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert as_yaml.status_code == 200 and as_yaml.content.startswith(b"openapi:")
    as_json = api_client.get("/api/schema?format=json")
    assert as_json.status_code == 200 and json.loads(as_json.content)["openapi"]


def test_the_api_docs_page_answers_only_get(api_client: APIClient) -> None:
    """OPTIONS made the Swagger page's HTML renderer render DRF's metadata: a 500 (fuzzing)."""
    assert api_client.get("/api/docs").status_code == 200
    options = api_client.options("/api/docs")
    assert options.status_code == 405
    assert json.loads(options.content)["code"] == "method_not_allowed"
