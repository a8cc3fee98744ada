"""The shared store's per-thread Redis clients: one connection per thread, never shared, never
carried across a fork (Celery's prefork workers, gunicorn with --preload), and reopened when
Redis closes it; ``execute`` sends a command on it as the client would."""

from __future__ import annotations

import threading

import redis

from authcore.store import execute, shared_store
from tests.authcore.forks_and_sockets import assert_blocking_with_kernel_timeout, in_a_forked_child


def _client_id_seen_by_redis() -> int:
    client = shared_store().redis
    assert client is not None
    return int(client.client_id())  # type: ignore[arg-type]  # CLIENT ID of this connection


def test_a_thread_keeps_its_connection_and_threads_do_not_share_one() -> None:
    mine = _client_id_seen_by_redis()
    assert _client_id_seen_by_redis() == mine
    theirs: list[int] = []
    thread = threading.Thread(target=lambda: theirs.append(_client_id_seen_by_redis()))
    thread.start()
    thread.join()
    assert theirs and theirs[0] != mine


def test_a_forked_child_opens_its_own_connection() -> None:
    parent = _client_id_seen_by_redis()
    _, reported = in_a_forked_child(lambda: str(_client_id_seen_by_redis()))
    child = int(reported or "0")  # what Redis calls the child's connection
    assert child and child != parent
    assert _client_id_seen_by_redis() == parent  # the parent's connection still answers


def test_a_connection_redis_closed_is_reopened_for_the_next_request_without_an_outage(
    client, settings
) -> None:
    """Redis drops idle clients (``timeout``), restarts, or an operator runs CLIENT KILL: the
    limiter's round trip goes out once more on a new connection (the client's retry policy),
    the request is answered with Redis's counters, and the breaker stays closed."""
    assert client.get("/nope").status_code == 404  # this thread's connection now exists
    killed = _client_id_seen_by_redis()
    admin = redis.Redis.from_url(settings.REDIS_URL)
    assert admin.client_kill_filter(_id=str(killed)) == 1

    response = client.get("/nope")

    assert response.status_code == 404
    assert "X-RateLimit-Remaining" in response
    assert shared_store().using_redis
    assert _client_id_seen_by_redis() != killed


def test_a_command_on_a_pooled_client_takes_the_clients_own_path(settings) -> None:
    pooled = redis.Redis.from_url(settings.REDIS_URL)
    assert execute(pooled, "ECHO", "through the pool") == b"through the pool"
    single = shared_store().redis
    assert single is not None
    assert execute(single, "ECHO", "on its own connection") == b"on its own connection"


def test_the_store_socket_stays_blocking_with_its_timeout_kept_by_the_kernel() -> None:
    """A socket with a Python timeout is polled before every send and receive (two more
    system calls per command, each releasing the GIL); the store's socket blocks and the
    kernel ends a send or receive after ``SOCKET_TIMEOUT`` (authcore.redis_connection)."""
    client = shared_store().redis
    assert client is not None and client.ping()
    sock = client.connection._sock  # type: ignore[union-attr]
    assert sock is not None
    assert_blocking_with_kernel_timeout(sock)
