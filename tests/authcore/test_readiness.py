"""/readyz: 503 only when the database is down; Redis down is a reported fallback (see
test_redis_outage.py)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from django.db import connection

pytestmark = pytest.mark.urls("tests.authcore.urls")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def database_down(transactional_db) -> Iterator[None]:
    """Point the connection at a port where no database listens (as if PostgreSQL stopped)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (make test starts it)")
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


def test_readyz_is_503_when_the_database_is_down(client, database_down):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "unavailable"
    assert body["status"] == "unavailable"
    assert "password" not in response.content.decode().lower()


def test_healthz_stays_200_when_the_database_is_down(client, database_down):
    assert client.get("/healthz").status_code == 200
