"""``manage.py prune`` keeps the audit trail for ``AUDIT_RETENTION_DAYS`` and no longer, and
one failing pruner does not stop the others (the command then fails, so the task retries)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from authcore.models import AuditEvent, User
from tests.tokens.conftest import copies_of
from tokens import services
from tokens.models import TokenRecord

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


@pytest.mark.django_db(transaction=True)
def test_a_failing_pruner_does_not_stop_the_others_and_fails_the_command(settings: Any) -> None:
    """The token pruner meets a table another session holds locked (a long migration, say)
    and gives up after the session's lock_timeout; the pruners after it still run."""
    settings.AUDIT_RETENTION_DAYS = 30
    old = event_aged(31)
    with psycopg.connect(**connection.get_connection_params(), autocommit=False) as other:
        other.execute("LOCK TABLE tokens_tokenrecord IN ACCESS EXCLUSIVE MODE")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        try:
            with pytest.raises(CommandError, match=r"tokens\.services\.prune_expired"):
                call_command("prune", stdout=StringIO())
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
            other.rollback()
    assert not AuditEvent.objects.filter(pk=old.pk).exists()


def test_a_backlog_of_expired_tokens_is_pruned_in_bounded_batches() -> None:
    """Beat stopped for a while: the next prune removes the whole backlog, a batch at a time
    (never one statement loading every expired record into the worker, nor one long lock),
    and leaves live tokens alone."""
    user = User.objects.create_user(username="busy")
    live = services.issue_token(user=user, kind="client", client_id="c")
    record = TokenRecord.objects.get(jti=live.jti)
    past = timezone.now() - timedelta(days=1)
    copies_of(record, 12_000, prefix="old", issued_at=past - timedelta(days=30), expires_at=past)

    with CaptureQueriesContext(connection) as queries:
        call_command("prune", stdout=StringIO())

    assert list(TokenRecord.objects.values_list("jti", flat=True)) == [live.jti]
    expired_reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and '"tokens_tokenrecord"."expires_at" <' in q["sql"]
    ]
    assert len(expired_reads) >= 3  # 12,000 rows: three batches and the empty look at the end
    assert all("LIMIT 5000" in sql for sql in expired_reads), expired_reads[0][:200]
