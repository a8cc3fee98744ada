"""A persistent connection is health-checked before a request uses it, unless a query ran on it
moments ago (HikariCP's bypass window; authcore/db/postgresql/base.py). Request boundaries are
Django's own: ``close_old_connections``, what the WSGI handler runs when a request starts and
ends."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, close_old_connections, connection, connections

from authcore.models import User

pytestmark = pytest.mark.django_db(transaction=True)


def _query() -> int:
    User.objects.filter(username="nobody-at-all").exists()
    return int(connection.connection.info.backend_pid)


def _terminate(pid: int) -> None:
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()


def _next_request() -> None:
    close_old_connections()  # the end of one request
    close_old_connections()  # the start of the next


def test_an_idle_connection_is_checked_and_a_dead_one_replaced_without_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pid = _query()
    monkeypatch.setattr(connections["default"], "health_check_bypass_seconds", 0.0)  # idle
    _terminate(pid)
    _next_request()
    assert _query() != pid  # checked, found dead, reconnected: the request never saw it


def test_a_connection_dropped_inside_the_window_fails_one_request_then_recovers() -> None:
    """Inside the window the connection is not checked (what the bypass saves): a connection
    that died there fails the one request that finds it so, then Django replaces it."""
    pid = _query()
    _terminate(pid)
    _next_request()
    with pytest.raises(DatabaseError):  # the documented trade (docs/operations.md)
        _query()
    _next_request()  # Django checks a connection that saw an error, finds it dead, closes it
    assert _query() != pid
