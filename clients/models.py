"""Clients of the client service and their users.

A ``Client`` is a backend integrating Authcore; it authenticates with one API key, stored only
as a keyed hash and found by its non-secret lookup id. A ``ClientUser`` ties an ordinary
``authcore.User`` to one client under the client's own ``identifier`` (unique per client), with
a secret stored only as a keyed hash. ``__str__``/``__repr__`` show ids and prefixes, never a
secret or a hash.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Client(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    # ``ak_<key_id>.<secret>``: the lookup id is not secret; the hash is never shown.
    key_id = models.CharField(max_length=32, unique=True, editable=False)
    key_hash = models.CharField(max_length=128, editable=False)
    key_rotated_at = models.DateTimeField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix})"

    def __repr__(self) -> str:
        return f"<Client id={self.pk} key_id={self.key_id}>"

    @property
    def key_prefix(self) -> str:
        """What identifies the key to a human without revealing it: ``ak_<lookup id>.…``."""
        return f"ak_{self.key_id}.…"


class ClientUser(models.Model):
    """A user as one client knows it: ``(client, identifier)`` is unique."""

    id = models.BigAutoField(primary_key=True)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="users")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="client_memberships"
    )
    identifier = models.CharField(max_length=255)
    # The client-supplied address, kept per client; see docs/client-service.md ("Emails").
    email = models.EmailField(blank=True)
    # ``us_<secret_tag>.<secret>``: the tag is not secret; the hash is never shown.
    secret_tag = models.CharField(max_length=32, editable=False)
    secret_hash = models.CharField(max_length=128, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(
                fields=["client", "identifier"], name="clientuser_identifier_unique_per_client"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.identifier} @ {self.client_id}"

    def __repr__(self) -> str:
        return f"<ClientUser id={self.pk} client={self.client_id} user={self.user_id}>"

    @property
    def secret_prefix(self) -> str:
        return f"us_{self.secret_tag}.…"
