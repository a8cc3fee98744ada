"""Create the floor's user (and passkey, when given) and print their ids as JSON."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from webauthn.helpers import base64url_to_bytes

from bench.floor.models import FloorCredential


class Command(BaseCommand):
    help = "Seed the benchmark floor database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--credential-id", default="")
        parser.add_argument("--public-key", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        user, _ = get_user_model().objects.get_or_create(username="bench-floor")
        if options["credential_id"]:
            FloorCredential.objects.update_or_create(
                credential_id=base64url_to_bytes(options["credential_id"]),
                defaults={"public_key": base64url_to_bytes(options["public_key"]), "user": user},
            )
        self.stdout.write(json.dumps({"user_id": user.pk}))
