"""``manage.py prune`` keeps the audit trail for ``AUDIT_RETENTION_DAYS`` and no longer, and
one failing pruner does not stop the others (the command then fails, so the task retries)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from authcore.management.commands import prune
from authcore.models import AuditEvent

pytestmark = pytest.mark.django_db


def event_aged(days: float) -> AuditEvent:
    event = AuditEvent.objects.create(action="test.event", actor_kind="system")
    AuditEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(days=days))
    return event


def test_prune_deletes_audit_events_older_than_the_retention_only(settings: Any) -> None:
    settings.AUDIT_RETENTION_DAYS = 30
    old, young = event_aged(31), event_aged(29)
    out = StringIO()
    call_command("prune", stdout=out)
    assert not AuditEvent.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(pk=young.pk).exists()
    assert "authcore.audit_retention.prune_expired: 1 removed" in out.getvalue()


def test_prune_is_idempotent(settings: Any) -> None:
    settings.AUDIT_RETENTION_DAYS = 30
    event_aged(40)
    call_command("prune", stdout=StringIO())
    out = StringIO()
    call_command("prune", stdout=out)
    assert "authcore.audit_retention.prune_expired: 0 removed" in out.getvalue()


def broken_pruner() -> int:
    raise RuntimeError("database went away")


def test_a_failing_pruner_does_not_stop_the_others_and_fails_the_command(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.AUDIT_RETENTION_DAYS = 30
    old = event_aged(31)
    monkeypatch.setattr(prune, "PRUNERS", (f"{__name__}.broken_pruner", *prune.PRUNERS))
    with pytest.raises(CommandError, match="broken_pruner"):
        call_command("prune", stdout=StringIO())
    assert not AuditEvent.objects.filter(pk=old.pk).exists()
