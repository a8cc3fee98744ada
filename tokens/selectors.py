"""Reads of the tokens app."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from tokens import app_settings
from tokens.internal import keyset
from tokens.models import SigningKey, TokenRecord


def token_issuer() -> str:
    """The ``iss`` of every token Authcore signs (``API_BASE_URL``)."""
    return app_settings.ISSUER


def token_by_jti(jti: str) -> TokenRecord | None:
    """The record of the token with this ``jti`` (``.client_id``, ``.user_id``,
    ``.revoked_at``, ``.expires_at``), or None."""
    if not isinstance(jti, str) or not jti or len(jti) > 64 or "\x00" in jti:
        return None  # PostgreSQL text cannot hold NUL: such a jti was never issued
    return TokenRecord.objects.filter(jti=jti).first()


def tokens_of_user(*, user: Any) -> QuerySet[TokenRecord]:
    return TokenRecord.objects.filter(user=user)


def published_signing_keys() -> QuerySet[SigningKey]:
    """Keys in the JWKS: next, current and retiring."""
    return SigningKey.objects.filter(state__in=keyset.PUBLISHED_STATES)


def active_signing_key() -> SigningKey | None:
    """The key that signs now."""
    return SigningKey.objects.filter(state=SigningKey.State.CURRENT).first()


def jwks_document() -> tuple[bytes, str]:
    """The JWKS body and its strong ETag, from the per-process cache (no database when warm)."""
    view = keyset.for_documents()
    return view.jwks_body, view.etag
