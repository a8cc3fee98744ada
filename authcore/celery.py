"""The Celery app. Broker: REDIS_URL; without Redis (development) tasks run eagerly."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authcore.settings")

app = Celery("authcore")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The contract's schedule: rotate_keys every 5 minutes, prune hourly.
app.conf.beat_schedule = {
    "rotate-keys": {"task": "tokens.tasks.rotate_keys_task", "schedule": 300.0},
    "prune": {"task": "authcore.tasks.prune_task", "schedule": crontab(minute=7)},
}


@app.on_after_configure.connect
def _short_schedule_for_tests(sender: Celery, **kwargs: object) -> None:
    """``CELERY_BEAT_INTERVAL_SECONDS`` (tests only) runs every scheduled task that often."""
    from django.conf import settings

    interval = getattr(settings, "CELERY_BEAT_INTERVAL_SECONDS", None)
    if interval:
        sender.conf.beat_schedule = {
            name: {**entry, "schedule": float(interval)}
            for name, entry in sender.conf.beat_schedule.items()
        }
