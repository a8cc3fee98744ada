"""Create the competitor's user with the given secret and print its id as JSON."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Seed the simplejwt competitor's database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--secret", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        user, _ = get_user_model().objects.get_or_create(username=options["username"])
        user.set_password(options["secret"])
        user.save()
        self.stdout.write(json.dumps({"user_id": user.pk}))
