"""Redis dies in the middle of traffic between two instances, then comes back.

The suite runs its own redis-server for these instances (the suite's shared Redis is never
touched). What the fallback promises and what it cannot are written in
docs/security/threat-model.md ("Redis outage"); each sentence there is one assertion here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest
import redis
import requests

from tests.resilience.conftest import Clusters
from tests.resilience.harness import (
    STUCK,
    Caller,
    Cluster,
    Instance,
    ThrowawayRedis,
    bearer,
    new_client_user,
    token_for,
    wait_until,
)

pytestmark = pytest.mark.slow

LIMIT = 30


@dataclass
class Traffic:
    """Protected requests sent to both instances in a loop until stopped."""

    cluster: Cluster
    token: str
    statuses: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        paths = ["/api/me", "/.well-known/jwks.json", "/api/me", "/readyz"]
        sent = 0
        caller = Caller()
        while not self._stop.is_set():
            if sent % 10 == 0:
                caller = Caller()  # a fresh budget every ten requests
            instance = self.cluster[sent % 2]
            path = paths[sent % len(paths)]
            try:
                # a request stuck on a dead socket becomes a failure (a timeout), not a time
                response = caller.get(
                    f"{instance.url}{path}", headers=bearer(self.token), timeout=STUCK * 3
                )
            except requests.RequestException as error:
                self.failures.append(f"{path}: {error!r}")
            else:
                self.statuses.append(response.status_code)
                if response.status_code != 200:
                    self.failures.append(f"{path}: {response.status_code} {response.text[:200]}")
            sent += 1

    def run_for(self, requests_more: int) -> None:
        target = len(self.statuses) + requests_more
        assert wait_until(lambda: len(self.statuses) >= target or self.failures, timeout=60)

    def stop(self) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(30)


def readiness_of(instance: Instance) -> list[dict[str, str]]:
    """/readyz from several workers (no keep-alive: each request may reach another one)."""
    caller = Caller()
    return [caller.get(f"{instance.url}/readyz").json() for _ in range(4)]


def every_worker_says(cluster: Cluster, expected: dict[str, str]) -> bool:
    return all(answer == expected for i in cluster for answer in readiness_of(i))


UP = {"database": "ok", "redis": "ok", "status": "ok"}
DOWN = {"database": "ok", "redis": "unavailable", "fallback": "memory", "status": "ok"}


@pytest.fixture
def cluster(start_cluster: Clusters, throwaway_redis: ThrowawayRedis) -> Cluster:
    return start_cluster.start(2, redis_url=throwaway_redis.url, RATE_LIMIT_GLOBAL=f"{LIMIT}/1h")


def test_redis_killed_mid_traffic_no_500_no_stuck_request_and_back_on_redis(
    cluster: Cluster, throwaway_redis: ThrowawayRedis
) -> None:
    one = cluster[0]
    caller = Caller()
    user = new_client_user(one, caller, "otto")
    traffic = Traffic(cluster, token_for(one, caller, user)["access_token"])
    assert every_worker_says(cluster, UP)
    traffic.start()
    try:
        traffic.run_for(20)
        throwaway_redis.kill()
        traffic.run_for(40)
        # /readyz names the fallback on every worker of every instance
        assert wait_until(lambda: every_worker_says(cluster, DOWN))

        throwaway_redis.start()  # same port, empty
        assert wait_until(lambda: every_worker_says(cluster, UP))
        traffic.run_for(20)
    finally:
        traffic.stop()

    assert traffic.failures == []
    assert 500 not in traffic.statuses
    # back on Redis: the rate-limit windows and token state live there again
    keys = redis.Redis(port=throwaway_redis.port).keys(f"{cluster.redis_prefix}:*")
    assert keys


def test_a_revocation_made_while_redis_is_down_is_refused_by_the_other_instance(
    cluster: Cluster, throwaway_redis: ThrowawayRedis
) -> None:
    one, other = cluster
    caller = Caller()
    user = new_client_user(one, caller, "vera")
    token = token_for(one, caller, user)["access_token"]
    for _ in range(4):  # every worker of `other` has it cached as valid in Redis
        answered = caller.get(f"{other.url}/api/me", headers=bearer(token)).status_code
        assert answered == 200

    throwaway_redis.kill()
    revoked = caller.post(
        f"{one.url}/api/tokens/revoke", json={"token": token}, headers={"x-api-key": user.api_key}
    )
    assert revoked.status_code == 200
    for instance in (other, one, other, one):
        answered = caller.get(f"{instance.url}/api/me", headers=bearer(token)).status_code
        assert answered == 401

    throwaway_redis.start()
    assert wait_until(lambda: every_worker_says(cluster, UP))
    for instance in (other, one, other, one):
        answered = caller.get(f"{instance.url}/api/me", headers=bearer(token)).status_code
        assert answered == 401


def test_while_redis_is_down_rate_limits_are_counted_per_process(
    cluster: Cluster, throwaway_redis: ThrowawayRedis
) -> None:
    """The documented weakness: each process counts alone, so one client gets more than N in
    total, but never more than N from any one process (and at most 2 x 2 x N here)."""
    throwaway_redis.kill()
    caller = Caller()
    accepted = 0
    refused_by: set[int] = set()
    for sent in range(8 * LIMIT):
        instance = cluster[sent % 2]
        status = caller.get(f"{instance.url}/api/nothing-here").status_code
        assert status in (404, 429)
        if status == 404:
            accepted += 1
        else:
            refused_by.add(sent % 2)
        if refused_by == {0, 1} and sent > 4 * LIMIT:
            break
    assert refused_by == {0, 1}  # each process still enforces its own N
    assert LIMIT < accepted <= 4 * LIMIT

    throwaway_redis.start()
    assert wait_until(lambda: every_worker_says(cluster, UP))

    def one_budget_again() -> bool:
        """A fresh client gets N on both instances together (every process probes Redis
        each second; readyz may not have reached every worker yet)."""
        shared = Caller()
        statuses = [
            shared.get(f"{cluster[i % 2].url}/api/nothing-here").status_code
            for i in range(LIMIT + 2)
        ]
        return statuses == [404] * LIMIT + [429] * 2

    assert wait_until(one_budget_again, timeout=30, interval=0.5)
