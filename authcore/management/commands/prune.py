"""``manage.py prune``: delete what has expired, app by app, through each app's services."""

from __future__ import annotations

from typing import Any

import structlog
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

logger = structlog.get_logger("authcore.prune")

# Each app's service ``prune_expired() -> int`` (rows removed). Apps add theirs here.
PRUNERS: tuple[str, ...] = (
    "sessions_app.services.prune_expired",
    "tokens.services.prune_expired",
    "passkeys.services.prune_expired",
    "authcore.audit_retention.prune_expired",
)


class Command(BaseCommand):
    help = (
        "Delete expired tokens, challenges, email codes, sessions and retired keys, and audit "
        "events older than AUDIT_RETENTION_DAYS."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        # One pruner failing does not keep the others from running; the command still fails
        # at the end so the Celery task retries (every pruner is idempotent).
        failed: list[str] = []
        for dotted in PRUNERS:
            try:
                removed = import_string(dotted)()
            except Exception as error:
                failed.append(dotted)
                logger.error("prune_failed", pruner=dotted, error=type(error).__name__)
                continue
            logger.info("pruned", pruner=dotted, removed=removed)
            self.stdout.write(f"{dotted}: {removed} removed")
        if failed:
            raise CommandError(f"prune failed for: {', '.join(failed)}")
