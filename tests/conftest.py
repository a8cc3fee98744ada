"""Suite-wide fixtures. Tests run on PostgreSQL and Redis started by `make test`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from authcore.store import SharedStore, reset_shared_store, shared_store


def pytest_sessionstart(session: pytest.Session) -> None:
    from django.conf import settings

    if os.environ.get("CI") == "true":
        assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), "CI needs PostgreSQL"
        assert settings.REDIS_URL, "CI needs Redis"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With CI=true a skipped test fails the run: a skip is not a pass."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if os.environ.get("CI") == "true" and reporter is not None:
        skipped = len(reporter.stats.get("skipped", []))
        if skipped:
            reporter.write_line(f"CI=true: {skipped} skipped test(s) fail the run", red=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _fresh_shared_store() -> Iterator[None]:
    """Each test starts with an empty Redis namespace and memory fallback."""
    store = shared_store()
    _clear(store)
    yield
    _clear(shared_store())


@pytest.fixture(autouse=True)
def _keyset_rechecked() -> None:
    """Each test's database is new: signing and the JWKS compare key-set versions first."""
    from tokens.internal import keyset

    keyset.recheck()


def _clear(store: SharedStore) -> None:
    store.memory.clear()
    client = store.redis
    if client is not None:
        keys = list(client.scan_iter(match=f"{store.prefix}:*", count=1000))
        if keys:
            client.delete(*keys)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "real_rate_limits: keep the environment's rate limits (others relax them)"
    )


@pytest.fixture(autouse=True)
def _relaxed_rate_limits(request: pytest.FixtureRequest, settings: Any) -> None:
    """Most tests make many requests from 127.0.0.1; only rate-limit tests keep the real limits."""
    if request.node.get_closest_marker("real_rate_limits") is None:
        settings.RATE_LIMIT_GLOBAL = "100000/1m"
        settings.RATE_LIMIT_AUTH = "100000/1m"


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def restart_store() -> Iterator[None]:
    reset_shared_store()
    yield
    reset_shared_store()
