"""Celery tasks of the tokens app (beat: ``rotate_keys_task`` every 5 minutes).

Same failure handling as ``authcore.tasks``: logged as ``task_failed`` and retried with the
project's one retry policy (``authcore.tasks.RETRY_POLICY``).
"""

from __future__ import annotations

from celery import Task, shared_task

from authcore.tasks import RETRY_POLICY, failures_logged
from tokens import services


@shared_task(bind=True, **RETRY_POLICY)
def rotate_keys_task(self: Task) -> list[str]:
    """What ``manage.py rotate_keys`` does; returns the kids activated."""
    with failures_logged(self):
        return services.rotate_keys().activated


@shared_task
def prune_expired_task() -> int:
    return services.prune_expired()
