"""Django's ``createsuperuser``, with the password validators run for ``--noinput`` too.

Django checks ``AUTH_PASSWORD_VALIDATORS`` only when it asks for the password interactively; a
``DJANGO_SUPERUSER_PASSWORD`` of "password" was accepted, for an account that opens the whole
console. Here the same validators judge it first, and a refusal names the variable and the
rules it broke, never the value.
"""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth.management.commands.createsuperuser import Command as DjangoCommand
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


class Command(DjangoCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if not options.get("interactive") and password:
            try:
                validate_password(password)
            except ValidationError as error:
                rules = " ".join(error.messages)
                raise CommandError(f"DJANGO_SUPERUSER_PASSWORD is refused: {rules}") from None
        super().handle(*args, **options)
