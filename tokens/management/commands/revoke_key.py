"""``manage.py revoke_key KID`` (API.md "Operations")."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tokens.exceptions import SigningKeyNotFound
from tokens.management.commands.rotate_keys import UNANNOUNCED
from tokens.services import revoke_key


class Command(BaseCommand):
    help = (
        "Emergency: the key leaves the JWKS, every token it signed is rejected, a fresh key signs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kid", help="the key's kid (RFC 7638 thumbprint)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = revoke_key(kid=options["kid"], actor=("operator", "manage.py"))
        except SigningKeyNotFound as error:
            raise CommandError(f"no signing key has kid {options['kid']!r}") from error
        if not result.revoked:
            self.stdout.write("already revoked")
            return
        self.stdout.write(f"revoked {options['kid']} ({result.tokens_revoked} tokens)")
        for kid in result.activated:
            self.stdout.write(f"activated {kid}")
        for kid in result.created:
            if kid not in result.activated:
                self.stdout.write(f"published {kid} as the next key")
        for kid in result.unannounced:
            self.stderr.write(UNANNOUNCED.format(kid=kid))
