"""Just-in-time users for OpenID sign-ins, found by (issuer, subject) and never by email alone.

OIDC Core §5.7: "The sub (subject) and iss (issuer) Claims, used together, are the only Claims
that an RP can rely upon as a stable identifier for the End-User". Linking by email would let
anyone who controls an address at any configured provider take over the local account that
uses it. A new user gets the provider's address only when it is verified and no other user
holds it; otherwise the email stays empty.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from authcore.audit import record_event
from authcore.emails import canonical_email
from passkeys.selectors import user_by_email
from sessions_app.models import OidcIdentity
from sessions_app.oidc.providers import Provider


def _username(provider: Provider, subject: str, *, hashed: bool = False) -> str:
    candidate = f"{provider.name}:{subject}"
    if len(candidate) <= 150 and not hashed:
        return candidate
    digest = hashlib.sha256(f"{provider.issuer}\x00{subject}".encode()).hexdigest()[:32]
    return f"{provider.name[:100]}:{digest}"


def _profile_text(value: Any, limit: int) -> str:
    """A profile claim (name, email) as text the database stores: a provider may send anything
    (a NUL, which PostgreSQL refuses; a lone surrogate, which no encoding holds; a number)."""
    if not isinstance(value, str):
        return ""
    text = "".join(char for char in value if char.isprintable())
    return text.strip()[:limit]


def _verified_email(claims: dict[str, Any]) -> str:
    email = claims.get("email")
    if not isinstance(email, str) or claims.get("email_verified") is not True:
        return ""
    if _profile_text(email, 254) != email.strip():
        return ""  # not an address as sent: kept off the account
    canonical = canonical_email(email)
    if canonical is None or user_by_email(canonical) is not None:
        return ""
    return canonical


def _identity(provider: Provider, subject: str) -> OidcIdentity | None:
    return (
        OidcIdentity.objects.select_related("user")
        .filter(issuer=provider.issuer, subject=subject)
        .first()
    )


def _create(
    *, provider: Provider, subject: str, claims: dict[str, Any], email: str, hashed: bool = False
) -> Any:
    name = _profile_text(claims.get("name"), 150) or _profile_text(
        claims.get("preferred_username"), 150
    )
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=_username(provider, subject, hashed=hashed),
            email=email,
            display_name=name,
            email_verified=bool(email),
        )
        OidcIdentity.objects.create(
            user=user,
            issuer=provider.issuer,
            subject=subject,
            provider=provider.name,
            email=_profile_text(claims.get("email"), 254),
            last_login_at=timezone.now(),
        )
    return user


def provision_user(*, provider: Provider, claims: dict[str, Any], touch: bool = True) -> Any:
    """The user linked to (``iss``, ``sub``) of verified ``claims``, created on first sign-in.

    Args:
        provider: the provider whose issuer signed the claims.
        claims: verified ID-token (or bearer-JWT) claims, merged with userinfo when fetched.
        touch: record the sign-in time (interactive sign-ins; not every bearer request).
    """
    subject = str(claims["sub"])
    identity = _identity(provider, subject)
    if identity is not None:
        if touch:
            OidcIdentity.objects.filter(pk=identity.pk).update(last_login_at=timezone.now())
        return identity.user
    email = _verified_email(claims)
    try:
        user = _create(provider=provider, subject=subject, claims=claims, email=email)
    except IntegrityError:
        existing = _identity(provider, subject)
        if existing is not None:  # a concurrent first sign-in of this account won the race
            return existing.user
        # The username or the address was taken meanwhile: fall back to unique, empty values.
        user = _create(provider=provider, subject=subject, claims=claims, email="", hashed=True)
    record_event(
        "user.provisioned",
        actor=user,
        target=f"user:{user.pk}",
        detail={"provider": provider.name},
    )
    return user
