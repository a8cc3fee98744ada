"""Reads of the passkeys app."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.db.models.functions import Lower

from authcore.emails import canonical_email
from passkeys.internal.webauthn_ceremonies import StoredCredential
from passkeys.models import Passkey


def passkeys_of_user(*, user: Any) -> QuerySet[Passkey]:
    """The user's passkeys, oldest first."""
    return Passkey.objects.filter(user=user).order_by("created_at", "id")


def passkey_of_user(*, user: Any, passkey_id: str) -> Passkey | None:
    """One of the user's passkeys, or None (also for another user's passkey or a bad id)."""
    try:
        key = uuid.UUID(str(passkey_id))
    except ValueError:
        return None
    return Passkey.objects.filter(user=user, id=key).first()


def passkey_by_credential_id(credential_id: str) -> Passkey | None:
    """The passkey with this base64url credential ID, with its user."""
    return Passkey.objects.select_related("user").filter(credential_id=credential_id).first()


def stored_credentials_of_user(*, user: Any) -> list[StoredCredential]:
    """The user's credentials as ``excludeCredentials``/``allowCredentials`` need them."""
    rows = passkeys_of_user(user=user).values_list("credential_id", "transports")
    return [StoredCredential(credential_id=cid, transports=list(t or [])) for cid, t in rows]


def user_by_username(username: str) -> Any | None:
    """The user with this username (case-insensitive), or None."""
    return get_user_model().objects.filter(username__iexact=username).first()


def user_by_id(user_id: str) -> Any | None:
    try:
        key = uuid.UUID(str(user_id))
    except ValueError:
        return None
    return get_user_model().objects.filter(pk=key, is_active=True).first()


def user_by_email(email: str) -> Any | None:
    """The user with this email address: the same mailbox (``authcore.emails``), compared in
    the canonical form users are stored with, through the index of its unique constraint."""
    canonical = canonical_email(email)
    if canonical is None:
        return None
    users = get_user_model().objects.alias(email_lower=Lower("email"))
    return users.filter(email_lower=canonical).first()
