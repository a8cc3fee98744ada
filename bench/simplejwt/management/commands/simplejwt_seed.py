"""Create the competitor's user, its password from ``BENCH_SIMPLEJWT_SECRET``, and print its id
as JSON (``bench.contenders.simplejwt.seed_user``)."""

from __future__ import annotations

import json
import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Seed the simplejwt competitor's database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        secret = os.environ.get("BENCH_SIMPLEJWT_SECRET")
        if not secret:
            raise CommandError("BENCH_SIMPLEJWT_SECRET is not set")
        user, _ = get_user_model().objects.get_or_create(username=options["username"])
        user.set_password(secret)
        user.save()
        self.stdout.write(json.dumps({"user_id": user.pk}))
