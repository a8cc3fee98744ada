"""Per-client-IP rate limits as a client sees them: headers, 429, scopes, exemptions, sharing."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ImproperlyConfigured

from authcore import metrics
from authcore.models import AuditEvent
from authcore.rate_limits import consume, evaluate, parse_rate
from authcore.store import shared_store

pytestmark = [
    pytest.mark.real_rate_limits,
    pytest.mark.urls("tests.authcore.urls"),
    pytest.mark.django_db,
]


def rate_limit_hits(scope: str) -> float:
    return metrics.RATE_LIMIT_HITS.labels(scope=scope)._value.get()


def test_every_limited_response_shows_limit_remaining_and_reset(client, settings):
    settings.RATE_LIMIT_GLOBAL = "3/15m"
    remaining = []
    for _ in range(3):
        response = client.get("/nope")
        assert response.status_code == 404
        assert response["X-RateLimit-Limit"] == "3"
        # A request counts until it has left the sliding window: up to two periods.
        assert 1 <= int(response["X-RateLimit-Reset"]) <= 2 * 900
        remaining.append(response["X-RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]


def test_the_request_after_the_limit_is_a_429_with_retry_after(client, settings):
    settings.RATE_LIMIT_GLOBAL = "2/15m"
    before = rate_limit_hits("global")
    client.get("/nope")
    client.get("/nope")
    response = client.get("/nope")
    assert response.status_code == 429
    assert response.json() == {"detail": "Rate limit exceeded", "code": "rate_limited"}
    assert response["X-RateLimit-Limit"] == "2"
    assert response["X-RateLimit-Remaining"] == "0"
    # Two requests this window: the second may go once they weigh at most one, half-way into
    # the next window (sliding window counter), so past this window but within two periods.
    assert 900 // 2 <= int(response["Retry-After"]) <= 2 * 900
    assert response["X-RateLimit-Reset"] == response["Retry-After"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cache-Control"].startswith("no-store")
    assert rate_limit_hits("global") == before + 1


def test_a_refused_request_does_not_use_up_more_of_the_window(client, settings):
    settings.RATE_LIMIT_GLOBAL = "1/1h"
    client.get("/nope")
    for _ in range(3):
        assert client.get("/nope").status_code == 429
    settings.RATE_LIMIT_GLOBAL = "4/1h"  # a new limit is a new window
    assert client.get("/nope")["X-RateLimit-Remaining"] == "3"


def test_the_limit_is_read_from_settings_on_each_request(client, settings):
    settings.RATE_LIMIT_GLOBAL = "10/1m"
    assert client.get("/nope")["X-RateLimit-Limit"] == "10"
    settings.RATE_LIMIT_GLOBAL = "20/1h"
    assert client.get("/nope")["X-RateLimit-Limit"] == "20"


@pytest.mark.django_db
def test_health_probes_and_well_known_documents_are_never_limited(client, settings):
    settings.RATE_LIMIT_GLOBAL = "1/1h"
    client.get("/nope")
    assert client.get("/nope").status_code == 429
    for path in ("/healthz", "/readyz", "/.well-known/test-document.json"):
        for _ in range(3):
            response = client.get(path)
            assert response.status_code == 200, path
            assert "X-RateLimit-Limit" not in response


@pytest.mark.django_db
def test_metrics_count_against_the_global_limit_like_any_route(client, settings):
    """API.md exempts the health probes and ``/.well-known/*`` only: an unauthenticated scrape
    of every worker's metrics is no probe, and is limited like the rest."""
    settings.RATE_LIMIT_GLOBAL = "2/1h"
    first = client.get("/metrics")
    assert first.status_code == 200
    assert first["X-RateLimit-Remaining"] == "1"
    assert client.get("/metrics").status_code == 200
    refused = client.get("/metrics")
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"


def test_sign_in_routes_have_the_stricter_auth_limit_on_top(client, settings):
    settings.RATE_LIMIT_GLOBAL = "100/15m"
    settings.RATE_LIMIT_AUTH = "2/1h"
    body = {"name": "alice"}
    first = client.post("/api/auth/echo", body, content_type="application/json")
    assert first.status_code == 200
    assert first["X-RateLimit-Limit"] == "2"
    assert first["X-RateLimit-Remaining"] == "1"
    client.post("/api/auth/echo", body, content_type="application/json")
    refused = client.post("/api/auth/echo", body, content_type="application/json")
    assert refused.status_code == 429
    assert refused["X-RateLimit-Limit"] == "2"
    assert int(refused["Retry-After"]) > 15 * 60  # the hour-long auth window, not the global one
    elsewhere = client.post("/api/echo", body, content_type="application/json")
    assert elsewhere.status_code == 200
    assert elsewhere["X-RateLimit-Limit"] == "100"
    assert elsewhere["X-RateLimit-Remaining"] == "97"  # two auth calls counted globally too


def test_each_client_ip_has_its_own_window(client, settings):
    settings.RATE_LIMIT_GLOBAL = "1/1h"
    assert client.get("/nope", REMOTE_ADDR="198.51.100.1").status_code == 404
    assert client.get("/nope", REMOTE_ADDR="198.51.100.1").status_code == 429
    assert client.get("/nope", REMOTE_ADDR="198.51.100.2").status_code == 404


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_buys_no_new_window(client, settings):
    settings.RATE_LIMIT_GLOBAL = "1/1h"
    settings.TRUSTED_PROXIES = []
    client.get("/nope", REMOTE_ADDR="198.51.100.1")
    for fake in ("203.0.113.9", "203.0.113.10, 10.0.0.1", "garbage"):
        response = client.get("/nope", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR=fake)
        assert response.status_code == 429


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_window(client, settings):
    settings.RATE_LIMIT_GLOBAL = "1/1h"
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    proxy = {"REMOTE_ADDR": "10.0.0.5"}
    assert client.get("/nope", HTTP_X_FORWARDED_FOR="203.0.113.1", **proxy).status_code == 404
    assert client.get("/nope", HTTP_X_FORWARDED_FOR="203.0.113.1", **proxy).status_code == 429
    assert client.get("/nope", HTTP_X_FORWARDED_FOR="203.0.113.2", **proxy).status_code == 404
    # a client prepending a fake hop is still known by the address the proxy saw
    spoofed = client.get("/nope", HTTP_X_FORWARDED_FOR="192.0.2.77, 203.0.113.1", **proxy)
    assert spoofed.status_code == 429


@pytest.mark.parametrize("use_redis", [True, False], ids=["redis", "memory"])
def test_concurrent_requests_never_exceed_the_limit(settings, use_redis):
    """Twenty threads race for ten slots: exactly ten win, in Redis and in the fallback."""
    if not use_redis:
        settings.REDIS_URL = ""  # a store without Redis: the per-process fallback
    store = shared_store()
    if use_redis and not store.configured:
        pytest.skip("needs REDIS_URL")
    rate = parse_rate("10/1m")
    results: list[bool] = []
    barrier = threading.Barrier(20)

    def hit() -> None:
        barrier.wait()
        results.append(consume([("global", rate)], "192.0.2.50").allowed)

    threads = [threading.Thread(target=hit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 10
    assert store.using_redis is use_redis


@pytest.mark.parametrize(
    ("text", "amount", "seconds"),
    [
        ("100/15m", 100, 900),
        ("5/1h", 5, 3600),
        ("10/30s", 10, 30),
        ("1000/1d", 1000, 86400),
        ("60/minute", 60, 60),
        ("3/h", 3, 3600),
    ],
)
def test_rates_are_written_n_per_period(text, amount, seconds):
    rate = parse_rate(text)
    assert (rate.amount, rate.seconds) == (amount, seconds)


@pytest.mark.parametrize("text", ["", "100", "100/", "abc/1h", "0/1h", "10/0m", "10/1w", "-1/1h"])
def test_a_malformed_rate_is_a_configuration_error(text):
    with pytest.raises(ImproperlyConfigured):
        parse_rate(text)


def test_a_refused_ip_is_audited_once_while_it_stays_refused(client, settings):
    settings.RATE_LIMIT_GLOBAL = "1/1h"
    client.get("/nope")
    refusals = [client.get("/nope") for _ in range(5)]
    assert [refused.status_code for refused in refusals] == [429] * 5
    events = AuditEvent.objects.filter(action="rate_limit.refused")
    assert events.count() == 1
    event = events.get()
    assert event.target == "ip:127.0.0.1"
    assert event.detail["reason"] == "global"
    # The event carries the request it was written in (the edge layer's request context).
    assert event.client_ip == "127.0.0.1"
    assert event.request_id == refusals[0]["X-Request-ID"]


def weighted_after(rate, previous: int, current: int, elapsed: float, wait: float) -> float:
    """The sliding-window estimate ``wait`` seconds later, with no request in between."""
    at = elapsed + wait
    if at < rate.seconds:
        return previous * (rate.seconds - at) / rate.seconds + current
    at -= rate.seconds  # the current window became the previous one
    return current * max(0.0, rate.seconds - at) / rate.seconds


@pytest.mark.parametrize(
    ("text", "previous", "current", "elapsed"),
    [
        ("2/15m", 0, 2, 10.0),
        ("2/15m", 2, 0, 300.0),
        ("100/15m", 90, 69, 590.0),
        ("100/15m", 40, 99, 880.0),
        ("5/1h", 5, 0, 1.0),
        ("1/1h", 0, 1, 3599.0),
        ("10/30s", 7, 5, 12.3),
    ],
)
def test_retry_after_is_the_first_whole_second_a_request_is_allowed_again(
    text, previous, current, elapsed
):
    rate = parse_rate(text)
    state = evaluate("global", rate, previous, current, elapsed, allowed=False)
    assert not state.allowed  # the limit is used up at this moment
    assert state.remaining == 0
    assert weighted_after(rate, previous, current, elapsed, state.reset) + 1 <= rate.amount
    assert weighted_after(rate, previous, current, elapsed, state.reset - 1) + 1 > rate.amount


def test_requests_of_the_previous_window_count_for_the_share_still_inside_the_period():
    rate = parse_rate("100/1h")
    half_way = evaluate("global", rate, previous=60, current=10, elapsed=1800.0, allowed=True)
    assert half_way.remaining == 100 - 30 - 10
    late = evaluate("global", rate, previous=60, current=10, elapsed=3240.0, allowed=True)
    assert late.remaining == 100 - 6 - 10


def test_a_flood_from_one_address_keeps_one_small_counter_per_limit_in_redis(client, settings):
    store = shared_store()
    if store.redis is None:
        pytest.skip("needs REDIS_URL")
    settings.RATE_LIMIT_GLOBAL = "1000/15m"
    for _ in range(50):
        client.get("/nope")
    keys = list(store.redis.scan_iter(match=f"{store.prefix}:rlc:*"))
    assert len(keys) == 1
    assert store.redis.type(keys[0]) == b"hash"
    assert store.redis.hlen(keys[0]) == 3  # window index, its count, the previous count


@pytest.mark.real_rate_limits
def test_addresses_of_one_ipv6_64_share_a_window_and_other_64s_do_not(client, settings):
    settings.RATE_LIMIT_GLOBAL = "2/15m"
    codes = [
        client.get("/nope", REMOTE_ADDR=address).status_code
        for address in (
            "2001:db8:1:2::1",
            "2001:db8:1:2::2",
            "2001:db8:1:2:abcd::3",
            "2001:db8:9::1",
        )
    ]
    assert codes == [404, 404, 429, 404]


@pytest.mark.real_rate_limits
def test_under_a_script_prefix_probes_stay_exempt_and_auth_keeps_its_limit(client, settings):
    settings.RATE_LIMIT_AUTH = "1/1h"
    settings.FORCE_SCRIPT_NAME = "/auth-server"
    probe = client.get("/healthz", SCRIPT_NAME="/auth-server")
    assert "X-RateLimit-Limit" not in probe
    first = client.post(
        "/api/auth/email/start", {}, content_type="application/json", SCRIPT_NAME="/auth-server"
    )
    second = client.post(
        "/api/auth/email/start", {}, content_type="application/json", SCRIPT_NAME="/auth-server"
    )
    assert first["X-RateLimit-Limit"] == "1"
    assert second.status_code == 429
