"""``manage.py rotate_keys [--now]`` (API.md "Operations")."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tokens.services import rotate_keys

UNANNOUNCED = (
    "warning: no next key was published, so {kid} signs unannounced: consumers holding a "
    "cached JWKS refuse its tokens until they refetch it (jose and PyJWT: up to 30 s)"
)


class Command(BaseCommand):
    help = (
        "Create the next signing key when due, promote it when its publish-ahead time has "
        "passed, retire keys nothing needs. --now: the published next key signs at once and a "
        "fresh next key is published."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now", action="store_true", help="the published next key signs from now on"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = rotate_keys(now=options["now"], actor=("operator", "manage.py"))
        if not result.changed:
            self.stdout.write("signing keys up to date")
        for label, kids in (
            ("created", result.created),
            ("activated", result.activated),
            ("retired", result.retired),
        ):
            for kid in kids:
                self.stdout.write(f"{label} {kid}")
        for kid in result.unannounced:
            self.stderr.write(UNANNOUNCED.format(kid=kid))
