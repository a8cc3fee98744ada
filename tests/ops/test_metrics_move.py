"""The contract's Prometheus counters move where the events happen: do the thing over HTTP,
scrape ``/metrics`` (as Prometheus would, aggregated over every process of this server) and
see the count change by exactly what was done."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from tests.clients.conftest import (
    MASTER_PASSWORD,
    MASTER_USERNAME,
    basic,
    create_backend,
    create_user,
    get_token,
)

pytestmark = pytest.mark.django_db(transaction=True)


def scrape(**wanted: str) -> dict[str, float]:
    """Every sample of /metrics by ``name{label=value,...}``."""
    response = APIClient().get("/metrics")
    assert response.status_code == 200
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()) if k != "pid")
            key = f"{sample.name}{{{labels}}}"
            samples[key] = samples.get(key, 0.0) + sample.value
    return samples


def moved(before: dict[str, float], after: dict[str, float], key: str) -> float:
    return after.get(key, 0.0) - before.get(key, 0.0)


@pytest.fixture
def backend(settings: Any, api_client: APIClient) -> Any:
    settings.MASTER_USERNAME = MASTER_USERNAME
    settings.MASTER_PASSWORD = MASTER_PASSWORD
    return create_backend(api_client, basic(MASTER_USERNAME, MASTER_PASSWORD), "Metrics shop")


def test_issuing_and_revoking_a_token_moves_both_counters(
    api_client: APIClient, backend: Any
) -> None:
    user = create_user(api_client, backend, "dora")
    before = scrape()
    bearer = get_token(api_client, backend, user)
    middle = scrape()
    assert moved(before, middle, "authcore_tokens_issued_total{kind=client}") == 1
    revoked = api_client.post(
        "/api/tokens/revoke", {"token": bearer.raw}, format="json", headers=backend.headers
    )
    assert revoked.status_code == 200
    after = scrape()
    assert moved(middle, after, "authcore_token_revocations_total{}") == 1


def test_failed_authentications_are_counted_by_reason(api_client: APIClient, backend: Any) -> None:
    create_user(api_client, backend, "erin")
    before = scrape()
    api_client.get("/api/me", headers={"Authorization": "Bearer not-a-token"})
    api_client.post(
        "/api/tokens",
        {"identifier": "erin", "secret": "wrong"},
        format="json",
        headers=backend.headers,
    )
    after = scrape()
    token_failures = sum(
        moved(before, after, key)
        for key in after
        if key.startswith("authcore_auth_failures_total{reason=token_")
    )
    assert token_failures == 1
    assert moved(before, after, "authcore_auth_failures_total{reason=user_secret}") == 1


@pytest.mark.real_rate_limits
def test_a_rate_limit_refusal_is_counted_with_its_scope(settings: Any) -> None:
    settings.RATE_LIMIT_AUTH = "2/1h"
    client = APIClient()
    before = scrape()
    statuses = [
        client.post("/api/auth/email/start", {"email": "f@example.test"}, format="json").status_code
        for _ in range(3)
    ]
    assert statuses[-1] == 429
    after = scrape()
    assert moved(before, after, "authcore_rate_limit_hits_total{scope=auth}") == 1


def test_a_key_rotation_moves_the_rotation_counter_and_the_key_gauges(
    api_client: APIClient, backend: Any
) -> None:
    from django.core.management import call_command

    user = create_user(api_client, backend, "fay")
    get_token(api_client, backend, user)  # the first key exists and signed something
    before = scrape()
    call_command("rotate_keys", "--now")
    after = scrape()
    assert moved(before, after, "authcore_key_rotations_total{}") == 1
    assert after["authcore_signing_keys{state=current}"] == 1
    assert after["authcore_signing_keys{state=retiring}"] == 1
