"""Models of the tokens app: RS256 signing keys and the records of issued access tokens.

Access tokens themselves are never stored (API.md "Tokens and keys"): only their record.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SigningKey(models.Model):
    """One RSA signing key and where it stands in its life cycle (docs/tokens.md).

    ``private_key_encrypted`` is the PKCS#8 private key sealed with AES-GCM under a key derived
    from ``JWT_SECRET`` (``tokens.internal.key_encryption``); it never leaves this model
    unencrypted except into the per-process signing cache.
    """

    class State(models.TextChoices):
        NEXT = "next", "next (published, not yet signing)"
        CURRENT = "current", "current (signing)"
        RETIRING = "retiring", "retiring (published, no longer signing)"
        RETIRED = "retired", "retired (unpublished)"
        REVOKED = "revoked", "revoked (emergency, unpublished)"

    # RFC 7638 JWK thumbprint (SHA-256, base64url): 43 characters.
    kid = models.CharField(max_length=64, unique=True)
    state = models.CharField(max_length=16, choices=State.choices, db_index=True)
    public_jwk = models.JSONField(help_text="Public JWK members kty, n, e.")
    private_key_encrypted = models.BinaryField(editable=False)
    created_at = models.DateTimeField()
    # When the key entered the JWKS and when it signs first (publish-ahead in between).
    published_at = models.DateTimeField()
    activates_at = models.DateTimeField()
    activated_at = models.DateTimeField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            # Exactly one key signs: the database refuses a second current key.
            models.UniqueConstraint(
                fields=["state"],
                condition=models.Q(state="current"),
                name="tokens_one_current_signing_key",
            ),
            models.UniqueConstraint(
                fields=["state"],
                condition=models.Q(state="next"),
                name="tokens_at_most_one_next_signing_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kid} ({self.state})"

    def __repr__(self) -> str:
        return f"<SigningKey kid={self.kid!r} state={self.state!r}>"


class TokenRecord(models.Model):
    """What the server keeps of an access token: never the token itself."""

    jti = models.CharField(max_length=64, primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="token_records"
    )
    # A plain string, not a foreign key: the tokens app knows nothing of the clients app.
    client_id = models.CharField(max_length=64, blank=True, default="")
    kind = models.CharField(max_length=16)
    # No database constraint (docs/adr/0002-token-record-indexes.md): PostgreSQL checks a
    # foreign key by locking the referenced row, and every token issued concurrently would
    # lock the one current key's row. Records are only written with the current key's kid,
    # and keys are deleted only once no record names them (``prune``); deleting a key through
    # the ORM still cascades.
    signing_key = models.ForeignKey(
        SigningKey,
        on_delete=models.CASCADE,
        related_name="token_records",
        to_field="kid",
        db_constraint=False,
        db_index=False,
    )
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-issued_at",)
        verbose_name = "issued token"
        # Plain b-tree indexes: a ``db_index`` on a varchar column also gets PostgreSQL's
        # ``varchar_pattern_ops`` twin for LIKE queries, which nothing here makes and every
        # INSERT would pay (migration 0002 drops the primary key's twin as well).
        indexes = (
            models.Index(fields=("client_id",), name="tokens_record_client"),
            models.Index(fields=("signing_key",), name="tokens_record_signing_key"),
        )

    def __str__(self) -> str:
        return f"token {self.jti}"

    def __repr__(self) -> str:
        return f"<TokenRecord jti={self.jti!r} kind={self.kind!r}>"

    @property
    def kid(self) -> str:
        return str(self.signing_key_id)
