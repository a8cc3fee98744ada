"""Django's ``reset_queries`` and ``close_caches`` run around a request only when they have
work to do (``authcore.request_signals``), and do it whenever they have: with ``DEBUG`` on,
``connection.queries`` shows the last request's queries alone; a cache backend that holds a
connection is closed after every request."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection

from authcore import request_signals

LOCAL_MEMORY = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


class ConnectionHoldingCache(LocMemCache):
    """A backend with a ``close()`` of its own, as memcached's: counts the calls."""

    closed = 0

    def close(self, **kwargs: Any) -> None:
        type(self).closed += 1


def test_a_started_app_connects_neither():
    # A fresh interpreter, as a server starts: only AuthcoreConfig.ready has decided.
    probe = (
        "import django; django.setup();"
        "from django.core.signals import request_finished as f, request_started as s;"
        "from django.core.cache import close_caches; from django.db import reset_queries;"
        # The receivers each signal would call now (Django's dispatcher has no public listing).
        "print(reset_queries in s._live_receivers(None)[0],"
        " close_caches in f._live_receivers(None)[0])"
    )
    answer = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert answer.stdout.split() == ["False", "False"]


@pytest.mark.django_db
def test_with_debug_on_the_query_log_holds_the_last_request_only(client, settings):
    settings.DEBUG = True
    for _ in range(3):
        assert client.get("/readyz").status_code == 200
    # /readyz runs one query; without reset_queries the log would hold all three requests'.
    assert [query["sql"] for query in connection.queries] == ["SELECT 1"]


@pytest.mark.django_db
def test_a_cache_that_holds_a_connection_is_closed_after_each_request(client, settings):
    settings.CACHES = {
        "default": LOCAL_MEMORY,
        "held": {"BACKEND": f"{__name__}.ConnectionHoldingCache"},
    }
    caches["held"].get("warm")  # the thread now uses it, as a view would
    ConnectionHoldingCache.closed = 0
    client.get("/healthz")
    client.get("/readyz")
    assert ConnectionHoldingCache.closed == 2


def test_backends_are_told_apart_by_their_own_close():
    assert not request_signals.caches_need_closing({"default": LOCAL_MEMORY})
    assert request_signals.caches_need_closing(
        {"default": LOCAL_MEMORY, "holding": {"BACKEND": f"{__name__}.ConnectionHoldingCache"}}
    )
