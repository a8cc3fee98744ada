"""Staff actions on passkeys that the passkeys admin lacked (issue 8): flag as possibly cloned,
and an audit trail for staff renames and removals. ``passkeys/admin.py`` wires them in.

They write the audit trail like ``PasskeyAdmin.clear_flag`` does; if the passkeys app grows
staff services for these, the admin should call those instead.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from authcore.audit import record_event


@admin.action(description="Flag the selected passkeys as possibly cloned", permissions=["change"])
def flag_possibly_cloned(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    flagged = 0
    with transaction.atomic():
        for passkey in queryset.select_for_update().filter(flagged=False):
            passkey.flagged = True
            passkey.flagged_at = timezone.now()
            passkey.save(update_fields=["flagged", "flagged_at"])
            record_event(
                "passkey.flagged",
                actor=request.user,
                target=f"passkey:{passkey.pk}",
                detail={"user": str(passkey.user_id), "by": "staff"},
            )
            flagged += 1
    modeladmin.message_user(request, f"Flagged {flagged} passkey(s).", messages.WARNING)


def remove_passkey_by_staff(*, request: HttpRequest, passkey: Any) -> None:
    """Delete one passkey from the admin; its owner can no longer sign in with it."""
    passkey_id, user_id = passkey.pk, passkey.user_id
    with transaction.atomic():
        passkey.delete()
        record_event(
            "passkey.removed",
            actor=request.user,
            target=f"passkey:{passkey_id}",
            detail={"user": str(user_id), "by": "staff"},
        )


def record_rename_by_staff(*, request: HttpRequest, passkey: Any, old_name: str) -> None:
    if old_name != passkey.name:
        record_event(
            "passkey.renamed",
            actor=request.user,
            target=f"passkey:{passkey.pk}",
            detail={"user": str(passkey.user_id), "by": "staff"},
        )
