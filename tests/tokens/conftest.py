"""Fixtures of the tokens tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from authcore.models import User
from tokens.internal import clock, keyset, verification


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
    """A clock starting ten days ago (so tokens it stamps are valid for real consumers too)."""
    fake = Clock(clock._now() - timedelta(days=10))
    monkeypatch.setattr(clock, "_now", fake)
    return fake
