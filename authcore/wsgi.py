"""WSGI entry point: ``gunicorn authcore.wsgi:application``.

Django's application behind the front door (``authcore.front_door``), which answers the
liveness probe and the public documents without Django's request cycle.

The startup heap is then frozen (``gc.freeze``): the ~150,000 objects of the loaded apps,
libraries and URL configuration live as long as the process, yet every full collection of
Python's cyclic garbage collector scanned them all, ~85 ms with every thread of the worker
stopped, a few times a minute under load; those pauses were the p99 of ``/api/me``. Frozen,
they are left out of every collection (a full one then takes ~4 ms), and a server that forks
after loading the app (gunicorn ``--preload``) keeps them shared with its workers. Objects made
by requests are collected as before.
"""

import contextlib
import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import Resolver404, resolve

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authcore.settings")

django_application = get_wsgi_application()

from authcore.front_door import FrontDoor  # noqa: E402 - needs the apps loaded above
from authcore.rate_limits import log_limits_in_force  # noqa: E402

application = FrontDoor(django_application)
log_limits_in_force()


def _freeze_startup_heap() -> None:
    """Import the URL configuration (every view module) as the first request would, collect
    what loading left behind, then move everything alive into the permanent generation."""
    with contextlib.suppress(Resolver404):
        resolve("/")
    gc.collect()
    gc.freeze()


_freeze_startup_heap()
