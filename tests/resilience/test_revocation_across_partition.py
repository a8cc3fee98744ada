"""A revocation made while Redis cannot be reached, then Redis comes back *with its data*: a
frozen redis-server (SIGSTOP, then SIGCONT) or a network partition that heals. Redis still
holds the "valid" entries cached before; they must not outlive the outage.

Design (docs/tokens.md, "After a Redis outage"): every process that saw Redis fail renews the
cache epoch before it uses Redis again, and a "valid" entry counts only under the current epoch.
What that cannot promise is in docs/security/threat-model.md ("Known limits"); the sentences
that describe a limit are asserted here too. Where a test must wait for "some process that saw
the outage has reconnected", it reads the epoch from Redis as an operator would
(``redis-cli GET <prefix>:tokens:epoch``): the tests never assert on how long that took.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

import pytest
import redis

from tests.resilience.conftest import Clusters
from tests.resilience.harness import (
    Caller,
    Cluster,
    Instance,
    TcpProxy,
    ThrowawayRedis,
    bearer,
    new_client_user,
    token_for,
    wait_until,
)
from tests.resilience.test_redis_outage import UP, every_worker_says

pytestmark = pytest.mark.slow


def cache_epoch(cluster: Cluster, server: ThrowawayRedis) -> bytes | None:
    value: Any = redis.Redis(port=server.port, socket_timeout=2).get(
        f"{cluster.redis_prefix}:tokens:epoch"
    )
    return value if isinstance(value, bytes) else None


def status(caller: Caller, instance: Instance, token: str) -> int:
    return caller.get(f"{instance.url}/api/me", headers=bearer(token)).status_code


@pytest.fixture
def cluster(start_cluster: Clusters, throwaway_redis: ThrowawayRedis) -> Cluster:
    return start_cluster.start(2, redis_url=throwaway_redis.url)


def test_a_revocation_made_while_redis_hangs_stays_refused_after_it_thaws(
    cluster: Cluster, throwaway_redis: ThrowawayRedis
) -> None:
    one, other = cluster
    caller = Caller()
    user = new_client_user(one, caller, "hugo")
    token = token_for(one, caller, user)["access_token"]
    for _ in range(4):  # `other` caches it as valid in Redis
        assert status(caller, other, token) == 200
    before = cache_epoch(cluster, throwaway_redis)
    assert before is not None

    assert throwaway_redis.process is not None
    os.kill(throwaway_redis.process.pid, signal.SIGSTOP)
    try:
        revoked = caller.post(
            f"{one.url}/api/tokens/revoke",
            json={"token": token},
            headers={"x-api-key": user.api_key},
        )
        assert revoked.status_code == 200  # written to the database only
        for instance in (other, one, other, one):
            assert status(caller, instance, token) == 401  # the database decides
    finally:
        os.kill(throwaway_redis.process.pid, signal.SIGCONT)

    assert wait_until(lambda: every_worker_says(cluster, UP))
    # The processes that saw Redis hang renew the epoch before they use it again.
    assert wait_until(lambda: cache_epoch(cluster, throwaway_redis) not in (None, before))
    for instance in (other, one) * 4:
        assert status(caller, instance, token) == 401

    fresh = token_for(other, caller, user)["access_token"]  # and Redis serves good tokens again
    for instance in (one, other) * 2:
        assert status(caller, instance, fresh) == 200


def test_a_revocation_by_a_one_off_process_that_exits_during_the_freeze_holds_after_it(
    cluster: Cluster, throwaway_redis: ThrowawayRedis
) -> None:
    """The revoking process is gone before Redis answers again (``manage.py shell``, or an
    instance restarted during the incident): nothing of it is left to replay, yet every
    instance refuses the token afterwards, because the serving processes that saw the outage
    renew the epoch themselves."""
    one, other = cluster
    caller = Caller()
    user = new_client_user(one, caller, "ines")
    issued = token_for(one, caller, user)
    token = issued["access_token"]
    for _ in range(4):
        assert status(caller, other, token) == 200
    before = cache_epoch(cluster, throwaway_redis)

    assert throwaway_redis.process is not None
    os.kill(throwaway_redis.process.pid, signal.SIGSTOP)
    try:
        for instance in (other, one, other, one):
            assert status(caller, instance, token) == 200  # from the database
        shell = one.manage(
            "shell",
            "-v",
            "0",
            "-c",
            f"from tokens.services import revoke_token; print(revoke_token(jti={issued['jti']!r}))",
        )
        assert shell.returncode == 0, shell.stderr
        assert shell.stdout.strip().splitlines()[-1] == "True"
        for instance in (other, one, other, one):
            assert status(caller, instance, token) == 401
    finally:
        os.kill(throwaway_redis.process.pid, signal.SIGCONT)

    assert wait_until(lambda: every_worker_says(cluster, UP))
    assert wait_until(lambda: cache_epoch(cluster, throwaway_redis) not in (None, before))
    for instance in (other, one) * 4:
        assert status(caller, instance, token) == 401


def test_a_partitioned_instances_revocation_reaches_the_others_when_the_partition_heals(
    start_cluster: Clusters, throwaway_redis: ThrowawayRedis
) -> None:
    """Only `one` loses Redis (its link is cut; Redis and `other` carry on). During the
    partition `other` still trusts the "valid" entry it cached before: the documented limit,
    bounded by that entry's life (60 s). When the link heals, `one` renews the epoch before it
    uses Redis again, and `other` refuses the token from then on."""
    cluster = start_cluster.start(2, redis_url=throwaway_redis.url, serve=False)
    one, other = cluster
    link = TcpProxy(upstream_port=throwaway_redis.port)
    try:
        one.env["REDIS_URL"] = f"redis://127.0.0.1:{link.port}/0"
        starting = [threading.Thread(target=instance.start) for instance in cluster]
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join()
        assert one.healthy and other.healthy

        caller = Caller()
        user = new_client_user(one, caller, "jana")
        token = token_for(one, caller, user)["access_token"]
        for _ in range(4):
            assert status(caller, other, token) == 200
        before = cache_epoch(cluster, throwaway_redis)

        link.cut()
        revoked = caller.post(
            f"{one.url}/api/tokens/revoke",
            json={"token": token},
            headers={"x-api-key": user.api_key},
        )
        assert revoked.status_code == 200
        for _ in range(4):
            assert status(caller, one, token) == 401  # the database decides on `one`
        assert status(caller, other, token) == 200  # the known limit, during the partition

        link.restore()
        assert wait_until(lambda: cache_epoch(cluster, throwaway_redis) not in (None, before))
        for instance in (other, one) * 4:
            assert status(caller, instance, token) == 401
    finally:
        link.cut()
