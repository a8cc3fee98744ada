"""Celery tasks of the tokens app (beat: ``rotate_keys_task`` every 5 minutes)."""

from __future__ import annotations

from celery import shared_task

from tokens import services


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def rotate_keys_task() -> list[str]:
    """What ``manage.py rotate_keys`` does; returns the kids activated."""
    return services.rotate_keys().activated


@shared_task
def prune_expired_task() -> int:
    return services.prune_expired()
