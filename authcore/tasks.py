"""Project-wide periodic tasks (beat: ``prune_task`` hourly; docs/operations.md).

Every task is idempotent and safe on several workers at once: pruning deletes rows by age
only, so two runs remove each row once between them. A failure is logged and retried with
exponential back-off and jitter (at most 5 times, waits capped at 10 minutes); the next
scheduled run starts over anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from celery import Task, shared_task
from django.core.management import call_command

logger = structlog.get_logger("authcore.tasks")

RETRY_POLICY: dict[str, Any] = {
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


@contextmanager
def failures_logged(task: Task) -> Iterator[None]:
    """Log a failure of ``task`` as ``task_failed`` (JSON), then let it retry (RETRY_POLICY)."""
    try:
        yield
    except Exception as error:
        logger.error(
            "task_failed", task=task.name, error=type(error).__name__, retries=task.request.retries
        )
        raise


@shared_task(bind=True, **RETRY_POLICY)
def prune_task(self: Task) -> None:
    """Hourly: what ``manage.py prune`` does."""
    with failures_logged(self):
        call_command("prune")
