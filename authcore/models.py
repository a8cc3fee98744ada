"""The one user model of Authcore: passkey, client-service and OpenID users are all ``User``.

Its UUID primary key, as a string, is the ``sub`` of every token.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower

from authcore.emails import canonical_email


class User(AbstractUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    display_name = models.CharField(max_length=150, blank=True)
    email_verified = models.BooleanField(default=False)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            # Usernames are one identity whatever their case (passkey sign-up checks them
            # case-insensitively); the database settles concurrent sign-ups of "Carol" and
            # "carol" (the loser's insert fails, IntegrityError).
            models.UniqueConstraint(
                Lower("username"),
                name="user_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            ),
            # Email addresses are one identity whatever their case (API.md: email fallback).
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_ci_unique",
                condition=~models.Q(email=""),
            ),
        ]

    def __str__(self) -> str:
        return self.username

    def _canonicalize_email(self) -> None:
        """One stored form per mailbox (authcore.emails), whoever sets the address: sign-up,
        a provider, staff in the admin. An address mail cannot reach is kept as typed."""
        if self.email:
            self.email = canonical_email(self.email) or self.email

    def clean(self) -> None:
        # Before the form checks the unique constraint: a second spelling of a stored
        # mailbox (Bob@B\u00fccher.test beside bob@xn--bcher-kva.test) is the form's error.
        super().clean()
        self._canonicalize_email()

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._canonicalize_email()
        super().save(*args, **kwargs)


class AuditEvent(models.Model):
    """One thing that happened, append-only. Written through ``authcore.audit.record_event``."""

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    actor_kind = models.CharField(max_length=16)  # user | client | staff | system
    actor_id = models.CharField(max_length=64, blank=True, db_index=True)
    target = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=32, default="success")
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.outcome}"
