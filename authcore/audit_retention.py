"""Audit retention: events older than ``AUDIT_RETENTION_DAYS`` are deleted by ``manage.py prune``.

The trail is append-only everywhere else (no admin delete, no service that edits an event);
this is the one place rows leave, by age only, in batches so a large backlog never holds a
long lock.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from authcore.models import AuditEvent

BATCH = 5000


def retention_days() -> int:
    """Days an audit event is kept (``AUDIT_RETENTION_DAYS``, default 365; at least 1)."""
    return max(1, int(getattr(settings, "AUDIT_RETENTION_DAYS", 365)))


def prune_expired() -> int:
    """Delete audit events older than the retention; returns how many. Idempotent."""
    cutoff = timezone.now() - timedelta(days=retention_days())
    removed = 0
    while True:
        ids = list(
            AuditEvent.objects.filter(created_at__lt=cutoff).values_list("id", flat=True)[:BATCH]
        )
        if not ids:
            return removed
        deleted, _ = AuditEvent.objects.filter(id__in=ids).delete()
        removed += deleted
