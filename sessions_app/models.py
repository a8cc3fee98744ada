"""Models of the sessions app.

``BrowserSession`` is the index of live browser sessions (admin listing, "end", cascade on user
deletion); the session itself (fingerprint, CSRF secret) lives in the shared store under
``user:<HMAC of the id>``. Neither place holds a session id that could be replayed as a cookie.

``OidcIdentity`` links a user to an OpenID provider account by (issuer, subject), the only
stable identifier OpenID Connect Core §5.7 allows ("the sub and iss Claims ... are the only
Claims that a Client can rely upon as a stable identifier for the End-User").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class BrowserSession(models.Model):
    """A live browser session, keyed by the HMAC of its id (the id is never stored)."""

    key_hash = models.CharField(max_length=64, primary_key=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="browser_sessions"
    )
    method = models.CharField(max_length=64, help_text="oidc:<provider> or passkey")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    # The column also has a default in the database (migration 0002): instances still running
    # the code before it (a rolling deploy) insert rows without it. Not ``db_default``: the
    # ORM would then read the value back on every insert. A plain index: equality lookups only.
    replaces = models.CharField(
        max_length=64,
        blank=True,
        default="",
        editable=False,
        help_text="storage key of the session a refresh replaced with this one",
    )

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["replaces"], name="browser_session_replaces")]

    def __str__(self) -> str:
        return f"session {self.key_hash[:12]}… of {self.user_id}"

    def __repr__(self) -> str:
        return f"<BrowserSession {self.key_hash[:12]} user={self.user_id}>"


class OidcIdentity(models.Model):
    """A provider account (issuer, subject) signed in as ``user``."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_identities"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    provider = models.CharField(max_length=64, help_text="name in OIDC_PROVIDERS at sign-up")
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="oidc_identity_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.subject}"
