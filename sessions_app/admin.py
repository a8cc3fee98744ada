"""Admin for browser sessions (list, end) and OpenID identities (API.md "Cross-cutting").

A session is shown by a prefix of its storage key (an HMAC of the cookie value): nothing on
these pages can be replayed as a cookie. Ending goes through ``end_session`` so the shared
store forgets the session at once on every instance.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from authcore.admin_guard import MalformedInputGuard
from sessions_app.internal.session_store import is_session_key
from sessions_app.models import BrowserSession, OidcIdentity
from sessions_app.services import end_session


@admin.register(BrowserSession)
class BrowserSessionAdmin(MalformedInputGuard, admin.ModelAdmin):
    list_display = ("short_key", "user", "method", "created_at", "expires_at", "client_ip")
    list_filter = ("method",)
    search_fields = ("user__username", "user__email", "user__id", "client_ip")
    list_select_related = ("user",)
    fields = ("short_key", "user", "method", "created_at", "expires_at", "client_ip", "user_agent")
    readonly_fields = fields
    actions = ("end_sessions",)

    @admin.display(description="session")
    def short_key(self, session: BrowserSession) -> str:
        return f"{session.key_hash[:12]}…"

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        if from_field is None and not is_session_key(object_id):
            return None  # no session has such a key
        return super().get_object(request, object_id, from_field)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sessions are opened by signing in, never by hand

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: BrowserSession) -> None:
        end_session(key_hash=obj.key_hash, actor=request.user, reason="admin")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[BrowserSession]) -> None:
        for session in queryset:
            self.delete_model(request, session)

    @admin.action(description="End the selected sessions", permissions=["delete"])
    def end_sessions(self, request: HttpRequest, queryset: QuerySet[BrowserSession]) -> None:
        count = 0
        for session in queryset:
            count += end_session(key_hash=session.key_hash, actor=request.user, reason="admin")
        self.message_user(request, f"{count} session(s) ended.", messages.SUCCESS)


@admin.register(OidcIdentity)
class OidcIdentityAdmin(MalformedInputGuard, admin.ModelAdmin):
    """Read-only: sign-in finds the user by (issuer, subject) through this row, so whoever can
    change its ``user`` (or add a row) could sign in as anyone with their own provider account.
    Links are made only by signing in (``provision_user``)."""

    list_display = ("provider", "subject", "user", "email", "created_at", "last_login_at")
    list_filter = ("provider",)
    search_fields = ("subject", "email", "user__username", "issuer")
    list_select_related = ("user",)
    fields = ("user", "issuer", "subject", "provider", "email", "created_at", "last_login_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
