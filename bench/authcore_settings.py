"""Bench-only overlay on Authcore's settings: one extra URL, nothing else changed.

The harness serves ``authcore.wsgi`` with ``DJANGO_SETTINGS_MODULE=bench.authcore_settings``.
Rate limits are raised through the contract's own variables (``RATE_LIMIT_GLOBAL``/``_AUTH``)
in the environment, so the limiter still runs on every request; only its budget is large.
"""

from authcore.settings import *  # noqa: F403

ROOT_URLCONF = "bench.authcore_urls"
