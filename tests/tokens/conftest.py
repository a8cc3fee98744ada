"""Fixtures of the tokens tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings as django_settings

from authcore.models import User
from authcore.store import reset_shared_store, shared_store
from tests.resilience.harness import TcpProxy
from tokens.internal import clock, keyset, verification
from tokens.models import TokenRecord


@pytest.fixture(autouse=True)
def _fresh_key_cache() -> Iterator[None]:
    """Each test starts from its own database: forget the process's key-set view and the
    tokens it verified."""
    keyset.forget()
    verification._verified.clear()
    yield
    keyset.forget()
    verification._verified.clear()


@pytest.fixture
def user(db: Any) -> User:
    return User.objects.create_user(username="alice", email="alice@example.test")


class Clock:
    """The app's clock, moved by the test (patches ``tokens.internal.clock._now``)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A clock starting ten days ago (so tokens it stamps are valid for real consumers too).

    The one stand-in for our own code in the token tests, and why: lifetimes and rotation
    schedules run in hours and days, which a test cannot wait out. ``tokens.internal.clock``
    is the seam every timestamp of the tokens app reads (issue, expiry, rotation), so moving
    it moves all of them alike; verification of the tokens it stamps is real."""
    fake = Clock(clock._now() - timedelta(days=10))
    monkeypatch.setattr(clock, "_now", fake)
    return fake


class RedisLink:
    """This process's way to the suite's Redis, through a TCP proxy the test cuts (a partition:
    Redis keeps running with its data; connections are reset and new ones refused)."""

    def __init__(self, proxy: TcpProxy) -> None:
        self.proxy = proxy

    def cut(self) -> None:
        self.proxy.cut()

    def restore(self) -> bool:
        """Reconnect, then ask the store to check Redis now as ``/readyz`` does (deterministic,
        instead of waiting for the breaker's background probe). True once Redis is in use."""
        self.proxy.restore()
        return shared_store().ping()


@pytest.fixture
def redis_link() -> Iterator[RedisLink]:
    real = django_settings.REDIS_URL
    parts = urlsplit(real)
    proxy = TcpProxy(upstream_port=parts.port or 6379)
    host = parts.netloc.rsplit(":", 1)[0] if parts.port else parts.netloc
    django_settings.REDIS_URL = urlunsplit(parts._replace(netloc=f"{host}:{proxy.port}"))
    reset_shared_store()
    try:
        yield RedisLink(proxy)
    finally:
        proxy.cut()
        django_settings.REDIS_URL = real
        reset_shared_store()


def copies_of(record: TokenRecord, count: int, *, prefix: str, **changes: Any) -> None:
    """``count`` more records like ``record`` (jti ``<prefix>-000000``...), with ``changes``;
    written in bulk, as a busy client's history would have accumulated."""
    fields = {
        "user_id": record.user_id,
        "client_id": record.client_id,
        "kind": record.kind,
        "signing_key_id": record.signing_key_id,
        "issued_at": record.issued_at,
        "expires_at": record.expires_at,
        **changes,
    }
    TokenRecord.objects.bulk_create(
        [TokenRecord(jti=f"{prefix}-{index:06d}", **fields) for index in range(count)],
        batch_size=5_000,
    )
