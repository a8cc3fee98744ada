"""Settings of the floor project: no Authcore code, no middleware, persistent connections.

The harness passes everything through the environment (``BENCH_*``, ``DATABASE_URL``,
``REDIS_URL``); this project exists only to be measured by ``python -m bench``.
"""

from __future__ import annotations

import os

import environ

env = environ.Env()

SECRET_KEY = env.str("BENCH_DJANGO_SECRET_KEY", default="bench-floor-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "bench.floor",
]
# The floor: no middleware at all (Authcore's stack is measured by its own row).
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.floor.urls"
WSGI_APPLICATION = "bench.floor.wsgi.application"
DATABASES = {"default": env.db_url("DATABASE_URL")}
# Same connection policy as Authcore, so rows differ only by the work in the view.
DATABASES["default"]["CONN_MAX_AGE"] = 600
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

REDIS_URL: str = env.str("REDIS_URL")
BENCH_REDIS_PREFIX: str = env.str("BENCH_REDIS_PREFIX", default="benchfloor")
BENCH_PRIVATE_KEY_FILE: str = env.str("BENCH_PRIVATE_KEY_FILE")
BENCH_ISSUER = "http://bench-floor.test"
BENCH_AUDIENCE = "bench"
BENCH_RP_ID = "localhost"
BENCH_ORIGIN = "http://localhost:8000"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": os.environ.get("LOG_LEVEL", "WARNING")},
}
