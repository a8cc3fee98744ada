"""Brute-force lockout on master, API key and user secret (API.md "Cross-cutting").

After ``LOCKOUT_MAX_FAILURES`` (5) failures the credential answers 429 ``rate_limited`` with
``Retry-After`` for a while, even to the right secret, and alike whether or not the username
or identifier exists.
"""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from authcore.models import AuditEvent
from authcore.store import shared_store
from tests.clients.conftest import MASTER_PASSWORD, MASTER_USERNAME, at_once, basic, create_user

pytestmark = pytest.mark.django_db
MAX_FAILURES = 5


def _metric(api_client, name: str, **labels: str) -> float:
    text = api_client.get("/metrics").content.decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def _assert_locked(response) -> None:
    assert response.status_code == 429
    assert response.json() == {"detail": "Rate limit exceeded", "code": "rate_limited"}
    assert int(response["Retry-After"]) > 0
    # The refusal's rate-limit headers say so, as a rate-limit refusal's do (API.md).
    assert response["X-RateLimit-Remaining"] == "0"
    assert response["X-RateLimit-Reset"] == response["Retry-After"]


def _token_attempt(api_client, backend, identifier, secret, **extra):
    return api_client.post(
        "/api/tokens",
        {"identifier": identifier, "secret": secret},
        format="json",
        headers=backend.headers,
        **extra,
    )


def test_master_auth_is_locked_per_ip_after_repeated_failures(api_client, master):
    lockouts_before = _metric(api_client, "authcore_rate_limit_hits_total", scope="lockout")
    wrong = basic(MASTER_USERNAME, "guess")
    statuses = [
        api_client.post("/api/clients", {"name": "x"}, format="json", headers=wrong).status_code
        for _ in range(MAX_FAILURES)
    ]
    assert statuses == [401] * MAX_FAILURES

    # Locked: even the right password from this IP is refused for now.
    _assert_locked(api_client.post("/api/clients", {"name": "x"}, format="json", headers=master))
    # Another address is not locked out by this one.
    other_ip = api_client.post(
        "/api/clients", {"name": "x"}, format="json", headers=master, REMOTE_ADDR="198.51.100.7"
    )
    assert other_ip.status_code == 201
    lockouts_after = _metric(api_client, "authcore_rate_limit_hits_total", scope="lockout")
    assert lockouts_after == lockouts_before + 1
    assert AuditEvent.objects.filter(action="master.locked_out").count() == 1


def test_a_wrong_master_username_counts_the_same_as_a_wrong_password(api_client, master):
    for index in range(MAX_FAILURES):
        headers = basic(f"nobody{index}", MASTER_PASSWORD)
        response = api_client.post("/api/clients", {"name": "x"}, format="json", headers=headers)
        assert response.status_code == 401
    _assert_locked(api_client.post("/api/clients", {"name": "x"}, format="json", headers=master))


def test_an_identifiers_secret_is_locked_alike_whether_or_not_the_identifier_exists(
    api_client, backend
):
    known = create_user(api_client, backend, "known-user")
    failures_before = _metric(api_client, "authcore_auth_failures_total", reason="user_secret")

    def run(identifier: str, right_secret: str):
        answers = [
            _token_attempt(api_client, backend, identifier, "us_wrong").status_code
            for _ in range(MAX_FAILURES)
        ]
        locked = _token_attempt(api_client, backend, identifier, right_secret)
        return answers, locked

    known_answers, known_locked = run("known-user", known.secret)
    unknown_answers, unknown_locked = run("no-such-user", known.secret)

    assert known_answers == unknown_answers == [401] * MAX_FAILURES
    _assert_locked(known_locked)
    _assert_locked(unknown_locked)
    assert known_locked.json() == unknown_locked.json()
    assert set(known_locked.headers) == set(unknown_locked.headers)
    failures_after = _metric(api_client, "authcore_auth_failures_total", reason="user_secret")
    assert failures_after == failures_before + 2 * MAX_FAILURES
    assert AuditEvent.objects.filter(action="user_secret.locked_out").count() == 2


def test_a_locked_identifier_does_not_lock_other_users_of_the_client(api_client, backend):
    bob = create_user(api_client, backend, "bob")
    for _ in range(MAX_FAILURES):
        _token_attempt(api_client, backend, "mallory-target", "us_wrong")
    _assert_locked(_token_attempt(api_client, backend, "mallory-target", "us_wrong"))
    answered = _token_attempt(api_client, backend, bob.identifier, bob.secret).status_code
    assert answered == 201


def test_the_same_identifier_in_another_client_is_not_locked(api_client, backend, other_backend):
    theirs = create_user(api_client, other_backend, "shared-name")
    for _ in range(MAX_FAILURES):
        _token_attempt(api_client, backend, "shared-name", "us_wrong")
    _assert_locked(_token_attempt(api_client, backend, "shared-name", "us_wrong"))
    assert (
        _token_attempt(api_client, other_backend, "shared-name", theirs.secret).status_code == 201
    )


def test_a_success_before_the_threshold_resets_the_count(api_client, backend):
    carol = create_user(api_client, backend, "carol")
    for _ in range(MAX_FAILURES - 1):
        answered = _token_attempt(api_client, backend, "carol", "us_wrong").status_code
        assert answered == 401
    answered = _token_attempt(api_client, backend, "carol", carol.secret).status_code
    assert answered == 201
    for _ in range(MAX_FAILURES - 1):
        answered = _token_attempt(api_client, backend, "carol", "us_wrong").status_code
        assert answered == 401
    answered = _token_attempt(api_client, backend, "carol", carol.secret).status_code
    assert answered == 201


def test_an_api_key_is_locked_alike_whether_or_not_its_lookup_id_exists(api_client, backend):
    real_lookup = backend.api_key.split(".")[0]
    forged_known = f"{real_lookup}.{'A' * 43}"
    forged_unknown = f"ak_{'0' * 16}.{'A' * 43}"

    def run(key: str):
        return [
            api_client.post(
                "/api/users", {"identifier": "x"}, format="json", headers={"x-api-key": key}
            ).status_code
            for _ in range(MAX_FAILURES)
        ]

    assert run(forged_known) == run(forged_unknown) == [401] * MAX_FAILURES
    # This IP can no longer try this key, not even the right one...
    _assert_locked(
        api_client.post("/api/users", {"identifier": "x"}, format="json", headers=backend.headers)
    )
    # ...while the backend's own servers elsewhere keep working (the lookup id is not secret:
    # a lock per lookup id alone would let anyone who saw it stop the client's traffic).
    elsewhere = api_client.post(
        "/api/users",
        {"identifier": "x"},
        format="json",
        headers=backend.headers,
        REMOTE_ADDR="203.0.113.9",
    )
    assert elsewhere.status_code == 201


def _redis_mgets() -> int:
    client = shared_store().redis
    assert client is not None, "needs REDIS_URL"
    stats: dict[str, dict[str, int]] = client.info("commandstats")  # type: ignore[assignment]
    return int(stats.get("cmdstat_mget", {}).get("calls", 0))


def test_a_warm_exchange_reads_its_lockouts_in_the_limiters_round_trip(api_client, backend):
    # The limiter's script reads the lock keys ahead (clients/read_ahead.py): no MGET of its own.
    dave = create_user(api_client, backend, "dave")
    answered = _token_attempt(api_client, backend, "dave", dave.secret).status_code
    assert answered == 201  # warm
    before = _redis_mgets()
    answered = _token_attempt(api_client, backend, "dave", dave.secret).status_code
    assert answered == 201
    assert _redis_mgets() == before
    for _ in range(MAX_FAILURES):  # and the locks it reads that way still hold
        answered = _token_attempt(api_client, backend, "dave", "us_wrong").status_code
        assert answered == 401
    _assert_locked(_token_attempt(api_client, backend, "dave", dave.secret))


def test_master_guesses_from_addresses_of_one_ipv6_64_share_one_lockout(api_client, master):
    """One host holds a whole /64: stepping through its addresses gets no fresh guesses."""
    wrong = basic(MASTER_USERNAME, "guess")
    for index in range(1, MAX_FAILURES + 1):
        response = api_client.post(
            "/api/clients",
            {"name": "x"},
            format="json",
            headers=wrong,
            REMOTE_ADDR=f"2001:db8:1:2::{index}",
        )
        assert response.status_code == 401
    _assert_locked(
        api_client.post(
            "/api/clients",
            {"name": "x"},
            format="json",
            headers=master,
            REMOTE_ADDR="2001:db8:1:2:ffff::99",
        )
    )
    elsewhere = api_client.post(
        "/api/clients", {"name": "x"}, format="json", headers=master, REMOTE_ADDR="2001:db8:1:3::1"
    )
    assert elsewhere.status_code == 201


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_parallel_master_guesses_gets_only_the_allowed_number_checked(master):
    """Every guess is counted before it is checked, so twenty at once cannot all slip past a
    lock none of them has reached yet: five are checked (401), the rest refused (429)."""
    wrong = basic(MASTER_USERNAME, "guess")

    statuses = at_once(
        20,
        lambda client: (
            client.post("/api/clients", {"name": "x"}, format="json", headers=wrong).status_code
        ),
    )

    assert sorted(statuses) == [401] * MAX_FAILURES + [429] * (20 - MAX_FAILURES)
    _assert_locked(APIClient().post("/api/clients", {"name": "x"}, format="json", headers=master))


def test_anonymous_failures_through_client_api_key_do_not_lock_the_user_for_the_clients_backend(
    api_client, backend, settings
):
    """With CLIENT_API_KEY set, anyone may try secrets without a key of their own: their
    failures are counted per address, so they cannot lock the user out of the client's own
    (keyed) backend, nor out of other addresses, yet each address still gets five tries."""
    settings.CLIENT_API_KEY = backend.api_key
    alice = create_user(api_client, backend, "alice")
    wrong = "us_" + "0" * 16 + "." + "A" * 43
    for index in range(MAX_FAILURES):
        response = api_client.post(
            "/api/tokens",
            {"identifier": alice.identifier, "secret": wrong},
            format="json",
            REMOTE_ADDR=f"198.51.100.{index + 1}",
        )
        assert response.status_code == 401
    for _ in range(MAX_FAILURES - 1):  # one more address, up to its own lock
        api_client.post(
            "/api/tokens",
            {"identifier": alice.identifier, "secret": wrong},
            format="json",
            REMOTE_ADDR="203.0.113.66",
        )

    keyed = _token_attempt(api_client, backend, alice.identifier, alice.secret)
    anonymous = api_client.post(
        "/api/tokens",
        {"identifier": alice.identifier, "secret": alice.secret},
        format="json",
        REMOTE_ADDR="198.51.100.200",
    )
    locked_address = api_client.post(
        "/api/tokens",
        {"identifier": alice.identifier, "secret": alice.secret},
        format="json",
        REMOTE_ADDR="203.0.113.66",
    )

    assert keyed.status_code == 201
    assert anonymous.status_code == 201
    assert locked_address.status_code == 201  # four failures: not yet locked


def test_an_address_that_fails_five_times_through_client_api_key_is_locked_itself(
    api_client, backend, settings
):
    settings.CLIENT_API_KEY = backend.api_key
    alice = create_user(api_client, backend, "alice")
    wrong = "us_" + "0" * 16 + "." + "A" * 43
    for _ in range(MAX_FAILURES):
        api_client.post(
            "/api/tokens", {"identifier": alice.identifier, "secret": wrong}, format="json"
        )
    _assert_locked(
        api_client.post(
            "/api/tokens", {"identifier": alice.identifier, "secret": alice.secret}, format="json"
        )
    )
    answered = _token_attempt(api_client, backend, alice.identifier, alice.secret).status_code
    assert answered == 201
