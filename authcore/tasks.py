"""Project-wide periodic tasks."""

from __future__ import annotations

from celery import shared_task
from django.core.management import call_command


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def prune_task() -> None:
    """Hourly: what ``manage.py prune`` does."""
    call_command("prune")
