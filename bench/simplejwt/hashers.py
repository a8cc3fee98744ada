"""Keyed SHA-256 for 256-bit random secrets: the check Authcore does, not a password hash."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import BasePasswordHasher


class KeyedSha256Hasher(BasePasswordHasher):
    algorithm = "keyed_sha256"

    def _digest(self, password: str) -> str:
        key = settings.SECRET_KEY.encode()
        return hmac.new(key, password.encode(), hashlib.sha256).hexdigest()

    def encode(self, password: str, salt: str) -> str:
        return f"{self.algorithm}${self._digest(password)}"

    def verify(self, password: str, encoded: str) -> bool:
        return hmac.compare_digest(encoded, self.encode(password, ""))

    def decode(self, encoded: str) -> dict[str, Any]:
        algorithm, digest = encoded.split("$", 1)
        return {"algorithm": algorithm, "hash": digest, "salt": ""}

    def salt(self) -> str:
        return ""
