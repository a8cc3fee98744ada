"""Create the floor's user (and its passkeys, when given) and print its id as JSON."""

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
        parser.add_argument(
            "--credential", action="append", default=[], help="credential_id:cose_key (b64url)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user, _ = get_user_model().objects.get_or_create(username="bench-floor")
        for credential in options["credential"]:
            credential_id, _, public_key = credential.partition(":")
            FloorCredential.objects.update_or_create(
                credential_id=base64url_to_bytes(credential_id),
                defaults={"public_key": base64url_to_bytes(public_key), "user": user},
            )
        self.stdout.write(json.dumps({"user_id": user.pk}))
