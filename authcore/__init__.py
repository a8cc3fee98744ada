"""Authcore project package: settings, URLs, Celery app, cross-cutting middleware, the user."""

from authcore.metrics_dir import ensure_multiprocess_dir

# Before anything imports prometheus_client: every worker of one server shares one directory.
ensure_multiprocess_dir()

from authcore.celery import app as celery_app  # noqa: E402

__all__ = ("celery_app",)
