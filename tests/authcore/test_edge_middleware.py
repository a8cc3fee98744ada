"""The cheaper request edge behaves as the separate middlewares did: nothing of one request's
log context is left for the next one on the same thread, caches learn that answers depend on
Origin even for requests without one, and every request is counted."""

from __future__ import annotations

import pytest
import structlog

from authcore import metrics
from authcore.logging import request_context

pytestmark = [pytest.mark.urls("tests.authcore.urls"), pytest.mark.django_db]


def test_a_request_leaves_no_request_id_or_client_ip_bound_for_the_next_one(client):
    before = structlog.contextvars.get_contextvars()
    response = client.get("/nope", REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 404
    assert structlog.contextvars.get_contextvars() == before
    assert request_context() == {}


@pytest.mark.parametrize("path", ["/healthz", "/nope", "/.well-known/test-document.json"])
def test_answers_vary_by_origin_also_for_requests_without_one(client, path):
    assert "origin" in client.get(path)["Vary"].lower()


def test_a_view_that_varies_by_something_else_varies_by_origin_too(client):
    assert client.get("/api/greeting")["Vary"] == "Accept-Language, origin"


def test_every_answer_is_counted_by_method_and_status(client):
    def count(status: str) -> float:
        return metrics.HTTP_REQUESTS.labels(method="GET", status=status)._value.get()

    ok, missing = count("200"), count("404")
    client.get("/healthz")
    client.get("/nope")
    client.get("/nope")
    assert (count("200"), count("404")) == (ok + 1, missing + 2)


@pytest.mark.parametrize("path", ["/healthz", "/nope"])
def test_answers_carry_their_content_length(client, path):
    response = client.get(path)
    assert response["Content-Length"] == str(len(response.content))
