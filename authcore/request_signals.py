"""Two of Django's per-request signal receivers, connected only while they have work to do.

Django's handler sends ``request_started`` and ``request_finished`` around every request that
reaches it. Two of their receivers do nothing in the configuration Authcore runs in, yet each
walks the thread's connections through asgiref's ``Local`` on every request: sending both
signals took 13.0 us in process with them and 7.2 without, ~1.5 % of a worker's CPU on the
cheapest routed request (docs/benchmarks.md, "Ninth pass"):

- ``django.db.reset_queries`` (``request_started``) empties each database connection's query
  log. The log only fills while ``DEBUG`` is on, or inside ``CaptureQueriesContext`` (tests),
  which disconnects this receiver while it captures and connects it again afterwards.
- ``django.core.cache.close_caches`` (``request_finished``) calls ``close()`` on each cache
  the thread used. Only backends that hold a connection implement it (memcached); the
  local-memory cache Authcore configures inherits ``BaseCache.close``, which does nothing.

``connect_needed()`` (from ``AuthcoreConfig.ready``) connects ``reset_queries`` while
``DEBUG`` is on and ``close_caches`` while a configured backend has a ``close`` of its own, and
disconnects them otherwise; ``setting_changed`` re-decides when ``DEBUG`` or ``CACHES`` change
(``override_settings``), so a configuration that needs them gets Django's behaviour. Both are
Django's own functions, connected and disconnected through the public signal API.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import close_caches
from django.core.cache.backends.base import BaseCache
from django.core.signals import request_finished, request_started, setting_changed
from django.db import reset_queries
from django.utils.module_loading import import_string

_DECIDING_SETTINGS = frozenset({"DEBUG", "CACHES"})


def caches_need_closing(caches: dict[str, dict[str, Any]]) -> bool:
    """True when a backend in ``caches`` (the ``CACHES`` setting) implements ``close()``."""
    return any(
        import_string(conf["BACKEND"]).close is not BaseCache.close for conf in caches.values()
    )


def _connect_if(needed: bool, signal: Any, receiver: Any) -> None:
    # connect() ignores a receiver already connected; disconnect() one that is not.
    if needed:
        signal.connect(receiver)
    else:
        signal.disconnect(receiver)


def connect_needed() -> None:
    """Connect each receiver while the settings give it work, disconnect it otherwise."""
    _connect_if(settings.DEBUG, request_started, reset_queries)
    _connect_if(caches_need_closing(settings.CACHES), request_finished, close_caches)


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in _DECIDING_SETTINGS:
        connect_needed()


setting_changed.connect(_on_setting_changed, dispatch_uid="authcore.request_signals")
