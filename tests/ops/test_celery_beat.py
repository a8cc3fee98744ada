"""``celery -A authcore worker -B`` for real: a worker with beat runs against the test Redis
(broker) and the test PostgreSQL database, and a due key rotation and a prune happen.

The worker is a separate process started here, as an operator would start it. Its beat runs
both scheduled tasks every 2 seconds (``CELERY_BEAT_INTERVAL_SECONDS``, a test-only setting)
instead of every 5 minutes / hourly, and the publish-ahead time is 0 so a due rotation
completes in one run. The database is polled with a bounded wait; the worker is stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from authcore.models import AuditEvent
from authcore.store import shared_store
from tokens import services
from tokens.models import SigningKey

pytestmark = pytest.mark.django_db(transaction=True)

BOUND_SECONDS = 90  # generous for a loaded 2-core machine; the test returns as soon as it sees it


def worker_environment(tmp_path: Path) -> dict[str, str]:
    database = django_settings.DATABASES["default"]
    url = urlsplit(os.environ["DATABASE_URL"])
    env = {key: value for key, value in os.environ.items() if key != "AUTHCORE_TEST_DB_SUFFIX"}
    env.update(
        DATABASE_URL=urlunsplit(url._replace(path=f"/{database['NAME']}")),
        REDIS_URL=django_settings.REDIS_URL,
        AUTHCORE_REDIS_PREFIX=shared_store().prefix,
        CELERY_BEAT_INTERVAL_SECONDS="2",
        JWT_KEY_PUBLISH_AHEAD_MINUTES="0",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )
    return env


def wait_until(condition: Any, worker: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + BOUND_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        assert worker.poll() is None, f"worker exited:\n{log.read_text()[-4000:]}"
        time.sleep(0.5)
    pytest.fail(f"not seen within {BOUND_SECONDS}s; worker log:\n{log.read_text()[-4000:]}")


def test_a_worker_with_beat_rotates_a_due_key_and_prunes_old_audit_events(
    tmp_path: Path, settings: Any
) -> None:
    if not settings.REDIS_URL or not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        pytest.skip("needs the suite's PostgreSQL and Redis (make pytest)")
    services.rotate_keys()
    old = SigningKey.objects.get(state="current")
    past = timezone.now() - timedelta(hours=settings.JWT_KEY_ROTATION_HOURS + 1)
    SigningKey.objects.filter(pk=old.pk).update(
        created_at=past, published_at=past, activates_at=past, activated_at=past
    )
    ancient = AuditEvent.objects.create(action="test.ancient", actor_kind="system")
    AuditEvent.objects.filter(pk=ancient.pk).update(
        created_at=timezone.now() - timedelta(days=settings.AUDIT_RETENTION_DAYS + 1)
    )
    recent = AuditEvent.objects.create(action="test.recent", actor_kind="system")

    log = tmp_path / "worker.log"
    with open(log, "wb") as output:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "authcore",
                "worker",
                "-B",
                "--loglevel=INFO",
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-s",
                str(tmp_path / "beat-schedule"),
            ],
            cwd=str(django_settings.BASE_DIR),
            env=worker_environment(tmp_path),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: SigningKey.objects.get(pk=old.pk).state == "retiring", worker, log)
        wait_until(lambda: not AuditEvent.objects.filter(pk=ancient.pk).exists(), worker, log)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    fresh = SigningKey.objects.get(state="current")
    assert fresh.pk != old.pk
    assert AuditEvent.objects.filter(pk=recent.pk).exists()
    assert AuditEvent.objects.filter(action="key.activated", target=f"signing_key:{fresh.kid}")
    text = log.read_text()
    assert "tokens.tasks.rotate_keys_task" in text and "authcore.tasks.prune_task" in text
