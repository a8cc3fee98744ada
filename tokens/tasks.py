"""Celery tasks of the tokens app (beat: ``rotate_keys_task`` every 5 minutes).

Same failure handling as ``authcore.tasks``: logged as ``task_failed`` and retried with the
project's one retry policy (``authcore.tasks.RETRY_POLICY``).
"""

from __future__ import annotations

import structlog
from celery import Task, shared_task

from authcore.tasks import RETRY_POLICY
from tokens import services

logger = structlog.get_logger("authcore.tasks")


@shared_task(bind=True, **RETRY_POLICY)
def rotate_keys_task(self: Task) -> list[str]:
    """What ``manage.py rotate_keys`` does; returns the kids activated."""
    try:
        return services.rotate_keys().activated
    except Exception as error:
        logger.error(
            "task_failed",
            task="tokens.tasks.rotate_keys_task",
            error=type(error).__name__,
            retries=self.request.retries,
        )
        raise


@shared_task
def prune_expired_task() -> int:
    return services.prune_expired()
