"""``manage.py prune``: delete what has expired, app by app, through each app's services."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

# Each app's service ``prune_expired() -> int`` (rows removed). Apps add theirs here.
PRUNERS: tuple[str, ...] = (
    "sessions_app.services.prune_expired",
    "tokens.services.prune_expired",
    "passkeys.services.prune_expired",
)


class Command(BaseCommand):
    help = "Delete expired tokens, challenges, email codes, sessions and retired keys."

    def handle(self, *args: Any, **options: Any) -> None:
        for dotted in PRUNERS:
            removed = import_string(dotted)()
            self.stdout.write(f"{dotted}: {removed} removed")
