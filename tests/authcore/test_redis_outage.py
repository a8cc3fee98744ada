"""Redis killed, hung and restarted mid-test: the service keeps answering from memory, says so on
/readyz, and goes back to Redis when it returns. Each test runs its own throwaway redis-server
on a free port (the suite's shared Redis is never touched)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import redis

from authcore.store import (
    PROBE_INTERVAL,
    SharedStore,
    execute,
    reset_shared_store,
    shared_store,
)
from tests.authcore.forks_and_sockets import assert_blocking_with_kernel_timeout
from tests.resilience.harness import TcpProxy, ThrowawayRedis, free_port

pytestmark = [pytest.mark.urls("tests.authcore.urls"), pytest.mark.slow]


@pytest.fixture
def throwaway_redis(settings, tmp_path) -> Iterator[ThrowawayRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = ThrowawayRedis(folder=tmp_path)
    server.start()
    settings.REDIS_URL = server.url
    reset_shared_store()
    try:
        yield server
    finally:
        server.kill()
        reset_shared_store()


def wait_until(condition, timeout: float = 10.0) -> bool:
    """Poll (the breaker probes every PROBE_INTERVAL seconds); no assertion on the time taken."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db
def test_redis_killed_mid_test_falls_back_to_memory_and_returns(client, throwaway_redis):
    assert client.get("/readyz").json() == {"database": "ok", "redis": "ok", "status": "ok"}
    assert client.get("/nope").status_code == 404
    assert throwaway_redis.client().dbsize() > 0  # the rate-limit window lives in Redis

    throwaway_redis.kill()

    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "database": "ok",
        "redis": "unavailable",
        "fallback": "memory",
        "status": "ok",
    }
    for _ in range(5):
        response = client.post("/api/echo", {"name": "alice"}, content_type="application/json")
        assert response.status_code == 200
        assert "X-RateLimit-Remaining" in response  # limited in memory meanwhile
    assert shared_store().using_redis is False

    throwaway_redis.start()  # same port, empty
    assert wait_until(lambda: shared_store().using_redis)
    assert client.get("/readyz").json()["redis"] == "ok"
    client.get("/nope")
    assert throwaway_redis.client().dbsize() > 0  # back on Redis


@pytest.mark.real_rate_limits
@pytest.mark.django_db
def test_the_rate_limit_still_holds_in_memory_while_redis_is_down(
    client, settings, throwaway_redis
):
    settings.RATE_LIMIT_GLOBAL = "2/1h"
    throwaway_redis.kill()
    assert client.get("/nope").status_code == 404
    assert client.get("/nope").status_code == 404
    refused = client.get("/nope")
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"


@pytest.fixture
def hung_redis(settings, throwaway_redis) -> Iterator[TcpProxy]:
    """The throwaway Redis behind a proxy that records what reaches it; the test freezes the
    server (SIGSTOP: the socket accepts but never answers, the worst case for a client)."""
    proxy = TcpProxy(upstream_port=throwaway_redis.port, record=True)
    settings.REDIS_URL = f"redis://127.0.0.1:{proxy.port}/0"
    reset_shared_store()
    try:
        yield proxy
    finally:
        if throwaway_redis.process is not None:
            os.kill(throwaway_redis.process.pid, signal.SIGCONT)
        proxy.cut()
        reset_shared_store()


def test_a_hung_redis_costs_only_the_first_request_a_timeout(client, throwaway_redis, hung_redis):
    """The first request waits for the timeout and opens the breaker; the next twenty send
    nothing to Redis at all, so none of them waits on the frozen socket: all that reaches it
    meanwhile is the background probe's PING. (Counted at the proxy, not timed.)"""
    assert client.get("/nope").status_code == 404  # connection pooled, script loaded
    assert throwaway_redis.process is not None
    os.kill(throwaway_redis.process.pid, signal.SIGSTOP)

    assert client.get("/nope").status_code == 404
    assert shared_store().using_redis is False  # the breaker opened on that first timeout
    scripts = hung_redis.commands(b"EVALSHA")
    assert scripts >= 2  # the warm request's and the one that timed out
    opened = len(hung_redis.sent)

    for _ in range(20):
        assert client.get("/nope").status_code == 404
    meanwhile = hung_redis.sent_since(opened)
    assert all(chunk == b"*1\r\n$4\r\nPING\r\n" for chunk in meanwhile), len(meanwhile)

    os.kill(throwaway_redis.process.pid, signal.SIGCONT)
    assert wait_until(lambda: shared_store().using_redis, timeout=10 * PROBE_INTERVAL)
    assert client.get("/nope").status_code == 404
    assert hung_redis.commands(b"EVALSHA") == scripts + 1  # back on Redis


def test_a_command_to_a_hung_redis_times_out_and_is_not_retried(throwaway_redis, hung_redis):
    """Both directions, each on a connection opened before Redis froze: a send the peer never
    reads (a value larger than the socket buffers, on the client's own path) and a reply that
    never comes (the limiter's path, ``execute``). Each fails with redis-py's TimeoutError
    (writing, reading) and is not retried: a retry would open another connection and wait the
    timeout again."""
    clients: list[redis.Redis | None] = [shared_store().redis]
    other = threading.Thread(target=lambda: clients.append(shared_store().redis))
    other.start()
    other.join()
    writer, reader = clients
    assert writer is not None and writer.ping()
    assert reader is not None and reader.ping()
    assert throwaway_redis.process is not None
    connections = hung_redis.connections
    os.kill(throwaway_redis.process.pid, signal.SIGSTOP)

    with pytest.raises(redis.TimeoutError, match="writing"):
        writer.set("large", b"x" * 64 * 1024 * 1024)
    with pytest.raises(redis.TimeoutError, match="reading"):
        execute(reader, "PING")
    assert hung_redis.connections == connections


def test_a_unix_socket_url_gets_the_same_blocking_socket(tmp_path):
    """``unix://`` URLs: the store connects, and its socket blocks with the timeout in the
    kernel, as over TCP (tests/authcore/test_store_clients.py)."""
    server = ThrowawayRedis(folder=tmp_path, unix_socket=tmp_path / "redis.sock")
    server.start()
    store = SharedStore(server.url, "unix-test")
    try:
        client = store.redis
        assert client is not None and client.set("k", b"v") and client.get("k") == b"v"
        sock = client.connection._sock  # type: ignore[union-attr]
        assert sock is not None and sock.family == socket.AF_UNIX
        assert_blocking_with_kernel_timeout(sock)
    finally:
        store.close()
        server.kill()


def test_values_written_during_an_outage_stay_readable_after_redis_returns(throwaway_redis):
    store = shared_store()
    throwaway_redis.kill()
    store.set("challenge:abc", b"issued-during-outage", ttl=60)
    assert store.using_redis is False

    throwaway_redis.start()
    assert wait_until(lambda: shared_store().using_redis)
    assert store.get("challenge:abc") == b"issued-during-outage"
    assert store.pop("challenge:abc") == b"issued-during-outage"
    assert store.pop("challenge:abc") is None  # still single use


@pytest.mark.real_rate_limits
def test_a_request_costs_one_redis_round_trip_for_both_limits(client, settings, throwaway_redis):
    """MONITOR lists every command a client sends (commands run inside a script say "lua")."""
    settings.RATE_LIMIT_GLOBAL = "100/15m"
    settings.RATE_LIMIT_AUTH = "50/1h"
    body = {"name": "alice"}
    client.post("/api/auth/echo", body, content_type="application/json")  # loads the script
    seen: list[str] = []
    monitor_ready = threading.Event()

    def watch() -> None:
        with throwaway_redis.client().monitor() as monitor:
            monitor_ready.set()
            for command in monitor.listen():
                if command["command"] == "ECHO end-of-test":
                    return
                if command["client_type"] != "lua":
                    seen.append(command["command"].split()[0].upper())

    watcher = threading.Thread(target=watch)
    watcher.start()
    assert monitor_ready.wait(5)
    for _ in range(5):
        response = client.post("/api/auth/echo", body, content_type="application/json")
        assert response.status_code == 200
    throwaway_redis.client().echo("end-of-test")
    watcher.join(10)
    assert seen == ["EVALSHA"] * 5


@pytest.mark.django_db
@pytest.mark.parametrize(
    "refuse_writes",
    [
        pytest.param(lambda r, port: r.config_set("maxmemory", 1), id="out of memory"),
        pytest.param(lambda r, port: r.replicaof("127.0.0.1", port), id="read-only replica"),
    ],
)
def test_a_redis_that_refuses_writes_is_an_outage_not_a_500(client, throwaway_redis, refuse_writes):
    """maxmemory reached under noeviction (OOM) or a replica after a failover (READONLY): the
    server answers, but every write fails; requests fall back to memory instead of erroring."""
    assert client.get("/nope").status_code == 404
    admin = throwaway_redis.client()
    admin.config_set("maxmemory-policy", "noeviction")
    refuse_writes(admin, free_port())

    responses = [client.get("/nope") for _ in range(3)]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert all("X-RateLimit-Remaining" in r for r in responses)  # limited in memory meanwhile
    assert shared_store().using_redis is False


@pytest.mark.django_db
def test_after_a_failover_to_another_primary_requests_go_back_to_redis(
    client, settings, tmp_path, throwaway_redis
):
    """A failover that moves a name: Authcore reaches Redis through one address (a proxy
    here), the old primary is demoted to replica and the address now leads to the new primary.
    Connections opened before still reach the replica (READONLY); they must be dropped, or the
    process stays on its memory fallback until it is restarted."""
    new_primary = ThrowawayRedis(folder=tmp_path / "new")
    (tmp_path / "new").mkdir()
    new_primary.start()
    proxy = TcpProxy(upstream_port=throwaway_redis.port)
    try:
        settings.REDIS_URL = f"redis://127.0.0.1:{proxy.port}/0"
        reset_shared_store()
        assert client.get("/nope").status_code == 404
        assert shared_store().using_redis

        throwaway_redis.client().replicaof("127.0.0.1", new_primary.port)  # demoted
        proxy.upstream_port = new_primary.port  # the name now leads to the new primary
        assert client.get("/nope").status_code == 404  # READONLY: answered from memory

        assert wait_until(lambda: shared_store().using_redis)
        before = int(new_primary.client().dbsize())  # type: ignore[arg-type]
        for _ in range(3):
            assert client.get("/nope").status_code == 404
        assert shared_store().using_redis  # no connection of this thread still on the replica
        assert int(new_primary.client().dbsize()) > before  # type: ignore[arg-type]
    finally:
        proxy.cut()
        new_primary.kill()
