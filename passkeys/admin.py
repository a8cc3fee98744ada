"""Staff view of passkeys (flagged ones first) and email codes (never their hashes)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from authcore.admin_actions import (
    flag_possibly_cloned,
    record_rename_by_staff,
    remove_passkey_by_staff,
)
from authcore.admin_guard import MalformedInputGuard
from authcore.audit import record_event
from passkeys.models import EmailCode, Passkey


@admin.register(Passkey)
class PasskeyAdmin(MalformedInputGuard, admin.ModelAdmin):
    list_display = (
        "name",
        "user",
        "flagged",
        "device_type",
        "backed_up",
        "sign_count",
        "created_at",
        "last_used_at",
    )
    list_filter = ("flagged", "device_type", "backed_up")
    search_fields = ("name", "user__username", "user__email", "credential_id", "aaguid")
    ordering = ("-flagged", "-created_at")
    # The public key is public, but it is bytes nobody reads: leave it out.
    exclude = ("public_key",)
    readonly_fields = (
        "id",
        "user",
        "credential_id",
        "sign_count",
        "transports",
        "aaguid",
        "attestation_format",
        "backup_eligible",
        "backed_up",
        "device_type",
        "flagged",
        "flagged_at",
        "created_at",
        "last_used_at",
    )
    actions = ("clear_flag", flag_possibly_cloned)

    @admin.action(
        description="Clear the possibly-cloned flag (after checking with the user)",
        permissions=["change"],
    )
    def clear_flag(self, request: HttpRequest, queryset: QuerySet[Passkey]) -> None:
        for passkey in queryset.filter(flagged=True):
            passkey.flagged = False
            passkey.flagged_at = None
            passkey.save(update_fields=["flagged", "flagged_at"])
            record_event("passkey.flag_cleared", actor=request.user, target=f"passkey:{passkey.pk}")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # passkeys are born in a ceremony, never typed in

    # Staff renames and removals leave an audit event (authcore.admin_actions, issue 8).
    def save_model(self, request: HttpRequest, obj: Passkey, form: Any, change: bool) -> None:
        old_name = form.initial.get("name", obj.name)
        super().save_model(request, obj, form, change)
        record_rename_by_staff(request=request, passkey=obj, old_name=old_name)

    def delete_model(self, request: HttpRequest, obj: Passkey) -> None:
        remove_passkey_by_staff(request=request, passkey=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Passkey]) -> None:
        for passkey in queryset:
            remove_passkey_by_staff(request=request, passkey=passkey)


@admin.register(EmailCode)
class EmailCodeAdmin(MalformedInputGuard, admin.ModelAdmin):
    list_display = ("email", "created_at", "expires_at", "attempts", "used_at", "voided_at")
    search_fields = ("email",)
    fields = ("id", "email", "created_at", "expires_at", "attempts", "used_at", "voided_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
