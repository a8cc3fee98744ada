"""Admin for users (with their passkeys, tokens, sessions and identities inline) and the
read-only audit trail, plus the security dashboard (``authcore.dashboard``).

The inlines import the other apps' models: the admin is the one place that may, since it shows
everything to staff. Every inline is view-only; changes go through each app's own admin and
its services (revoke, end, remove), which write the audit trail.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from authcore.admin_guard import MalformedInputGuard
from authcore.models import AuditEvent, User
from authcore.user_locks import delete_users
from passkeys.models import Passkey
from sessions_app.models import BrowserSession, OidcIdentity
from tokens.models import TokenRecord

# How many rows each inline shows on a user's page; the "all" link lists the rest.
INLINE_ROWS = 20


class PasswordStateWidget(forms.Widget):
    """Says whether a password is set and with which algorithm: never salt or hash, even masked."""

    def render(self, name: str, value: Any, attrs: Any = None, renderer: Any = None) -> SafeString:
        if not value or str(value).startswith("!"):
            return format_html("<div>{}</div>", "No password set (passwordless account).")
        algorithm = str(value).split("$", 1)[0]
        return format_html("<div>Password set ({}).</div>", algorithm)


class AuthcoreUserChangeForm(UserChangeForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "password" in self.fields:
            self.fields["password"].widget = PasswordStateWidget()


class _LatestRowsFormSet(BaseInlineFormSet):
    """Only the latest ``INLINE_ROWS`` rows: a user with thousands of tokens keeps a usable page."""

    def get_queryset(self) -> Any:
        if not hasattr(self, "_latest"):
            self._latest = super().get_queryset()[:INLINE_ROWS]
        return self._latest


class _ViewOnlyInline(admin.TabularInline):
    formset = _LatestRowsFormSet
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PasskeyInline(_ViewOnlyInline):
    model = Passkey
    fields = ("name", "flagged", "device_type", "backed_up", "created_at", "last_used_at")
    readonly_fields = fields
    ordering = ("-flagged", "-created_at")
    verbose_name_plural = f"passkeys (latest {INLINE_ROWS}; flagged first)"


class TokenRecordInline(_ViewOnlyInline):
    model = TokenRecord
    fields = ("jti", "kind", "client_id", "signing_key_id", "issued_at", "expires_at", "revoked_at")
    readonly_fields = fields
    ordering = ("-issued_at",)
    verbose_name_plural = f"tokens (latest {INLINE_ROWS}; records only, never the token)"


class BrowserSessionInline(_ViewOnlyInline):
    model = BrowserSession
    fields = ("session", "method", "created_at", "expires_at", "client_ip")
    readonly_fields = fields
    ordering = ("-created_at",)
    verbose_name_plural = f"browser sessions (latest {INLINE_ROWS})"

    @admin.display(description="session")
    def session(self, obj: BrowserSession) -> str:
        return f"{obj.key_hash[:12]}…"


class OidcIdentityInline(_ViewOnlyInline):
    model = OidcIdentity
    fields = ("provider", "subject", "email", "created_at", "last_login_at")
    readonly_fields = fields
    verbose_name_plural = "OpenID identities"


def _can_revoke_tokens(request: HttpRequest) -> bool:
    return bool(request.user.has_perm("tokens.change_tokenrecord"))


@admin.register(User)
class UserAdmin(MalformedInputGuard, DjangoUserAdmin):
    form = AuthcoreUserChangeForm
    list_display = (
        "username",
        "email",
        "display_name",
        "email_verified",
        "is_staff",
        "is_active",
        "date_joined",
        "last_login",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "email_verified", "groups")
    search_fields = ("username", "email", "display_name", "id")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,  # type: ignore[misc]
        ("Authcore", {"fields": ("id", "display_name", "email_verified", "related_lists")}),
    )
    readonly_fields = ("id", "related_lists", "last_login", "date_joined")
    inlines = (PasskeyInline, TokenRecordInline, BrowserSessionInline, OidcIdentityInline)
    actions = ("revoke_all_tokens", "end_all_sessions")

    # What makes an account powerful is a superuser's to give. Staff allowed to change users
    # edit profiles, activation and passwords; Django's own UserAdmin lets them tick
    # is_superuser on their own account (Django documents it as the permission's reach), and
    # signing-key operations here are for superusers only.
    PRIVILEGE_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return fields
        return fields + self.PRIVILEGE_FIELDS

    @staticmethod
    def _beyond_reach(request: HttpRequest, obj: Any) -> bool:
        """Another staff account (or any superuser's) is a superuser's to change: resetting
        its password would let a non-superuser sign in as it and hold its permissions."""
        if obj is None or request.user.is_superuser:
            return False
        return bool(obj.is_superuser or (obj.is_staff and obj.pk != request.user.pk))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Only a superuser changes a superuser or another staff account (password included)."""
        if self._beyond_reach(request, obj):
            return False
        return bool(super().has_change_permission(request, obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self._beyond_reach(request, obj):
            return False
        return bool(super().has_delete_permission(request, obj))

    @admin.display(description="everything of this user")
    def related_lists(self, user: User) -> str:
        if user.pk is None:
            return "-"
        links = [
            ("passkeys", "admin:passkeys_passkey_changelist", "user__id__exact"),
            ("tokens", "admin:tokens_tokenrecord_changelist", "user__id__exact"),
            ("browser sessions", "admin:sessions_app_browsersession_changelist", "user__id__exact"),
            ("audit events as actor", "admin:authcore_auditevent_changelist", "actor_id"),
        ]
        return format_html(
            " · ".join(['<a href="{}?{}={}">{}</a>'] * len(links)),
            *[part for label, name, key in links for part in (reverse(name), key, user.pk, label)],
        )

    @admin.action(
        description="Revoke every token of the selected users", permissions=["revoke_tokens"]
    )
    def revoke_all_tokens(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        from tokens.services import revoke_tokens_of_user

        total = sum(revoke_tokens_of_user(user=user, actor=request.user) for user in queryset)
        self.message_user(request, f"Revoked {total} token(s).", messages.SUCCESS)

    def has_revoke_tokens_permission(self, request: HttpRequest) -> bool:
        return _can_revoke_tokens(request)

    @admin.action(
        description="End every browser session of the selected users", permissions=["end_sessions"]
    )
    def end_all_sessions(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        from sessions_app.services import end_sessions_of_user

        total = sum(end_sessions_of_user(user=user, actor=request.user) for user in queryset)
        self.message_user(request, f"Ended {total} session(s).", messages.SUCCESS)

    def has_end_sessions_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("sessions_app.delete_browsersession"))

    # Deleting a user locks the user's row (authcore.user_locks) before Django's collector
    # deletes what refers to it, the order a session refresh and "end every session" take
    # (user, then sessions): with the collector's order (sessions, then user) a refresh in
    # flight and the deletion each waited for the other and PostgreSQL failed one. Locked
    # first, the deletion waits, then collects what the refresh committed (its successor
    # session) and deletes it too. A sign-in that commits a session or token after the
    # collector looked makes the deletion run again (delete_users), which deletes it too.
    def delete_model(self, request: HttpRequest, obj: User) -> None:
        pk = obj.pk

        def delete() -> None:
            obj.pk = pk  # a failed attempt's collector had cleared it
            super(UserAdmin, self).delete_model(request, obj)

        delete_users(lambda: [pk], delete)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        delete_users(
            lambda: queryset.values_list("pk", flat=True),
            lambda: super(UserAdmin, self).delete_queryset(request, queryset),
        )


# Django's own group admin, with the guard every admin here has (a hostile selection in an
# action was a 500).
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(MalformedInputGuard, DjangoGroupAdmin):
    """A group's permissions are a superuser's to set: staff with change_group could
    otherwise add every permission to a group they belong to."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else (*fields, "permissions")


@admin.register(AuditEvent)
class AuditEventAdmin(MalformedInputGuard, admin.ModelAdmin):
    """The append-only trail: staff read and search it; nobody adds, edits or deletes from here
    (``manage.py prune`` drops events older than ``AUDIT_RETENTION_DAYS``)."""

    list_display = (
        "created_at",
        "action",
        "outcome",
        "actor_kind",
        "actor_id",
        "target",
        "client_ip",
        "request_id",
    )
    list_filter = ("outcome", "actor_kind", "action", "created_at")
    search_fields = ("action", "target", "actor_id", "request_id", "client_ip")
    date_hierarchy = "created_at"
    list_per_page = 50
    fields = (
        "created_at",
        "action",
        "outcome",
        "actor_kind",
        "actor_id",
        "target",
        "client_ip",
        "request_id",
        "detail_json",
    )
    readonly_fields = fields
    actions = None

    @admin.display(description="detail")
    def detail_json(self, event: AuditEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(event.detail, indent=2, sort_keys=True))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # never, not even for superusers: the trail is append-only

    def get_urls(self) -> list[URLPattern]:
        from authcore.dashboard.views import dashboard_view

        view = self.admin_site.admin_view(dashboard_view)
        return [path("dashboard/", view, name="security_dashboard"), *super().get_urls()]
