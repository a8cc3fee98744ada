"""Models of the passkeys app: WebAuthn credentials and email fallback codes.

Ceremony challenges are not here: they live in the shared store for 5 minutes
(``passkeys.internal.challenges``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class DeviceType(models.TextChoices):
    """WebAuthn L3 §6.1.3: a backup-eligible credential is multi-device (a synced passkey)."""

    SINGLE_DEVICE = "single_device", "Single device"
    MULTI_DEVICE = "multi_device", "Multi-device (synced)"


class Passkey(models.Model):
    """One registered WebAuthn credential (a "credential record", WebAuthn L3 §4)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passkeys"
    )
    # base64url of the raw credential ID (at most 1023 bytes, WebAuthn L3 §5.1).
    credential_id = models.CharField(max_length=1400, unique=True)
    # COSE_Key bytes as the authenticator sent them (WebAuthn L3 §6.5.1.1).
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    aaguid = models.CharField(max_length=36, blank=True)
    attestation_format = models.CharField(max_length=32, blank=True)
    backup_eligible = models.BooleanField(default=False)
    backed_up = models.BooleanField(default=False)
    device_type = models.CharField(
        max_length=16, choices=DeviceType.choices, default=DeviceType.SINGLE_DEVICE
    )
    name = models.CharField(max_length=100)
    # WebAuthn L3 §6.1.1: a signature counter that did not grow hints at a cloned authenticator.
    flagged = models.BooleanField(default=False)
    flagged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.credential_id[:12]}…)"


class EmailCode(models.Model):
    """A 6-digit code and a sign-in link sent by mail; only their hashes are stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Lower-cased: addresses are compared case-insensitively (API.md).
    email = models.CharField(max_length=254, db_index=True)
    code_hash = models.CharField(max_length=64)
    link_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"email code {str(self.id)[:8]} for {self.email}"

    def __repr__(self) -> str:
        return f"<EmailCode id={self.id} email={self.email!r}>"
