"""A persistent connection is health-checked before a request uses it, unless a query ran on it
moments ago (HikariCP's bypass window; authcore/db/postgresql/base.py). Request boundaries are
Django's own: ``close_old_connections``, what the WSGI handler runs when a request starts and
ends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DatabaseError, close_old_connections, connection, connections

from authcore.db.postgresql.base import DatabaseWrapper
from authcore.models import User

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def health_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts Django's health checks (``is_usable``, Django's code, called through: a spy)."""
    checks: list[int] = []
    original = DatabaseWrapper.is_usable

    def counted(self: Any) -> bool:
        checks.append(1)
        return bool(original(self))

    monkeypatch.setattr(DatabaseWrapper, "is_usable", counted)
    yield checks


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


def test_a_connection_that_just_ran_a_query_is_not_checked_again(
    health_checks: list[int],
) -> None:
    pid = _query()
    for _ in range(5):
        _next_request()
        assert _query() == pid
    assert health_checks == []


def test_an_idle_connection_is_checked_and_a_dead_one_replaced_without_an_error(
    health_checks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = _query()
    monkeypatch.setattr(connections["default"], "health_check_bypass_seconds", 0.0)  # idle
    _terminate(pid)
    _next_request()
    assert _query() != pid  # checked, found dead, reconnected: the request never saw it
    assert health_checks == [1]


def test_a_connection_dropped_inside_the_window_fails_one_request_then_recovers(
    health_checks: list[int],
) -> None:
    pid = _query()
    _terminate(pid)
    _next_request()
    with pytest.raises(DatabaseError):  # the documented trade (docs/operations.md)
        _query()
    _next_request()  # Django checks a connection that saw an error, finds it dead, closes it
    assert _query() != pid
