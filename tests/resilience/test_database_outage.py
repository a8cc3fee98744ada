"""PostgreSQL unreachable, and clients that hang up mid-body.

The instance reaches PostgreSQL through a TCP proxy the test controls: ``cut()`` drops every
connection and refuses new ones, as a stopped or partitioned database server does (mocking
the database is not an option: the point is what a real driver and gunicorn do)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from authcore.db.postgresql.base import DatabaseWrapper
from tests.leaks import outcome
from tests.resilience.conftest import Clusters
from tests.resilience.harness import (
    STUCK,
    Caller,
    Cluster,
    TcpProxy,
    bearer,
    new_client_user,
    query,
    server_port,
    token_for,
    wait_until,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(server_port())
    yield proxy
    proxy.close()


@pytest.fixture
def cluster(start_cluster: Clusters, proxy: TcpProxy) -> Cluster:
    return start_cluster.start(1, database_port=proxy.port)


def assert_clear_503(response: object) -> None:
    import requests

    assert isinstance(response, requests.Response)
    assert response.status_code == 503, outcome(response)
    body = response.json()
    assert set(body) == {"detail", "code"}
    assert body["code"] == "service_unavailable"
    assert "password" not in response.text.lower()


def test_without_the_database_readyz_fails_and_protected_requests_are_a_clear_503(
    cluster: Cluster, proxy: TcpProxy
) -> None:
    instance = cluster[0]
    caller = Caller()
    user = new_client_user(instance, caller, "dora")
    never_seen = token_for(instance, caller, user)["access_token"]

    proxy.cut()
    ready = caller.get(f"{instance.url}/readyz")
    assert ready.status_code == 503
    assert ready.json()["database"] == "unavailable"
    assert caller.get(f"{instance.url}/healthz").status_code == 200

    for _ in range(4):  # both workers, each with a pooled connection that just died
        me = caller.get(f"{instance.url}/api/me", headers=bearer(never_seen), timeout=STUCK * 3)
        assert_clear_503(me)
        created = caller.post(
            f"{instance.url}/api/users",
            json={"identifier": "written-during-the-outage"},
            headers={"x-api-key": user.api_key},
            timeout=STUCK * 3,
        )
        assert_clear_503(created)

    proxy.restore()
    assert wait_until(lambda: caller.get(f"{instance.url}/readyz").status_code == 200)
    # A thread whose connection carried a query within the health check's bypass window before
    # the cut, and no request since, fails its next one once (docs/operations.md, "Database
    # restarts"); after a quiet moment as long as that window, nobody sees the restart.
    time.sleep(DatabaseWrapper.health_check_bypass_seconds)
    answered = caller.get(f"{instance.url}/api/me", headers=bearer(never_seen)).status_code
    assert answered == 200
    # nothing half-written: the refused creation left no row behind
    assert query(
        cluster.database,
        "SELECT count(*) FROM clients_clientuser WHERE identifier = %s",
        "written-during-the-outage",
    ) == [(0,)]


def send_partial(
    instance_url: str, path: str, headers: dict[str, str], body: bytes, sent: int
) -> None:
    """Declare the whole body, send only ``sent`` bytes of it, hang up."""
    host, port = instance_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        head = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json"]
        head += [f"Content-Length: {len(body)}", "Connection: close"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body[:sent])
        connection.shutdown(socket.SHUT_WR)


def test_a_client_hanging_up_mid_body_writes_nothing(
    start_cluster: Clusters,
) -> None:
    instance = start_cluster.start(1)[0]
    cluster = start_cluster.clusters[-1]
    caller = Caller()
    user = new_client_user(instance, caller, "cleo")
    headers = {"x-api-key": user.api_key, "X-Forwarded-For": caller.ip}
    body = b'{"identifier": "half-sent-identifier", "email": "half@example.test"}'
    for cut_at in (1, len(body) // 2, len(body) - 1):
        send_partial(instance.url, "/api/users", headers, body, cut_at)

    # the service is unharmed and the next complete request works
    assert wait_until(lambda: caller.get(f"{instance.url}/healthz").status_code == 200)
    complete = caller.post(
        f"{instance.url}/api/users",
        json={"identifier": "fully-sent-identifier"},
        headers={"x-api-key": user.api_key},
    )
    assert complete.status_code == 201
    rows = query(
        cluster.database,
        "SELECT identifier FROM clients_clientuser WHERE identifier LIKE %s ORDER BY 1",
        "%-sent-identifier",
    )
    assert rows == [("fully-sent-identifier",)]
