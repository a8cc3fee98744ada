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
