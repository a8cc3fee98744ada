"""Tables the naive floors write: a token record and a passkey, as a first draft would."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import User
from django.db import models


class FloorToken(models.Model):
    jti = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    objects: ClassVar[models.Manager[FloorToken]] = models.Manager()

    def __str__(self) -> str:
        return f"floor token {self.jti}"


class FloorCredential(models.Model):
    credential_id = models.BinaryField(unique=True)
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    user = models.ForeignKey(User, on_delete=models.CASCADE)

    objects: ClassVar[models.Manager[FloorCredential]] = models.Manager()

    def __str__(self) -> str:
        return f"floor credential {self.pk}"
