"""Writes of the passkeys app: the two WebAuthn ceremonies and passkey management.

WebAuthn L3 §7.1 (registering a new credential) and §7.2 (verifying an authentication
assertion). Every check happens before anything is written, so a rejected ceremony changes
nothing, except a genuine sign-count regression, which flags the credential (§6.1.1).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from authcore.audit import record_event
from authcore.exceptions import AuthcoreError, DeletedMeanwhile
from authcore.integrity import refers_to_a_deleted_row
from authcore.metrics import AUTH_FAILURES
from passkeys import app_settings
from passkeys.exceptions import (
    ChallengeInvalid,
    CredentialAlreadyRegistered,
    CredentialUnknown,
    LastSignInMethod,
    PasskeyNotFound,
    SignCountRegressed,
    UsernameTaken,
)
from passkeys.internal import webauthn_ceremonies as ceremonies
from passkeys.internal.challenges import ChallengeState, PendingUser, consume_challenge
from passkeys.internal.challenges import issue_challenge as _issue_challenge
from passkeys.models import Passkey
from passkeys.selectors import (
    passkey_by_credential_id,
    passkey_of_user,
    passkeys_of_user,
    stored_credentials_of_user,
    user_by_id,
    user_by_username,
)
from tokens.services import IssuedToken, issue_token

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class SignIn:
    """A finished sign-in: the user, the passkey used (if any) and the token issued."""

    user: Any
    token: IssuedToken
    passkey: Passkey | None = None


def _counted(function: Callable[P, R]) -> Callable[P, R]:
    """Count (``authcore_auth_failures_total{reason=<code>}``) and audit every rejected ceremony."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except AuthcoreError as error:
            AUTH_FAILURES.labels(reason=f"passkey_{error.code}").inc()
            # Written after the ceremony's own transaction is gone, so the failure stays on
            # the record (the dashboard's "failed authentications by reason").
            ceremony = "signin" if function.__name__ == "finish_authentication" else "register"
            record_event(
                "signin.passkey" if ceremony == "signin" else "passkey.registration_failed",
                target="passkey",
                outcome=error.code,
            )
            raise

    return wrapper


def issue_sign_in_token(*, user: Any, kind: str, credential_id: str | None = None) -> IssuedToken:
    """A token for ``user`` living ``PASSKEY_TOKEN_TTL``; passkey tokens carry ``credentialID``."""
    extra = {"credentialID": credential_id} if credential_id else None
    return issue_token(user=user, kind=kind, ttl=app_settings.TOKEN_TTL, extra_claims=extra)


# --- registration (WebAuthn L3 §7.1) ------------------------------------------------------


def begin_registration(
    *, user: Any | None, username: str = "", display_name: str = ""
) -> dict[str, Any]:
    """Options for ``navigator.credentials.create()``.

    Args:
        user: the signed-in user adding a passkey, or None to sign up ``username``.
        username: the new account's username (ignored when ``user`` is given).
        display_name: shown by the authenticator; defaults to the username.

    Raises:
        UsernameTaken: signing up a username that exists (sign in to add a passkey to it).
    """
    if user is not None:
        state = ChallengeState(ceremony="registration", user_id=str(user.pk))
        challenge = _issue_challenge(state)
        return ceremonies.registration_options(
            challenge=challenge,
            user_handle=uuid.UUID(str(user.pk)).bytes,
            username=user.username,
            display_name=user.display_name or display_name or user.username,
            exclude=stored_credentials_of_user(user=user),
        )
    if user_by_username(username) is not None:
        raise UsernameTaken()
    # The user handle is the future user's UUID: random, no personal data (§14.6.1).
    pending = PendingUser(id=str(uuid.uuid4()), username=username, display_name=display_name)
    challenge = _issue_challenge(ChallengeState(ceremony="registration", pending_user=pending))
    return ceremonies.registration_options(
        challenge=challenge,
        user_handle=uuid.UUID(pending.id).bytes,
        username=username,
        display_name=display_name or username,
        exclude=[],
    )


@_counted
def finish_registration(*, body: dict[str, Any], user: Any | None, name: str = "") -> SignIn:
    """Verify ``RegistrationResponseJSON`` and store the credential (§7.1 steps 5-27).

    Args:
        body: the browser's ``credential.toJSON()``.
        user: who is signed in on this request (must be whom the challenge was issued to).
        name: the passkey's name; "Passkey N" when empty.

    Raises:
        CredentialMalformed, ChallengeInvalid, OriginMismatch, RpIdMismatch,
        UserVerificationRequired, SignatureInvalid, CredentialAlreadyRegistered, UsernameTaken,
        DeletedMeanwhile (409: the signed-in user was deleted while this ran).
    """
    parsed = ceremonies.parse_registration(body)
    challenge = parsed.client_data.challenge
    state = consume_challenge(challenge)  # single use from here on, whatever happens next
    if state is None or state.ceremony != "registration":
        raise ChallengeInvalid()
    signed_in = str(user.pk) if user is not None else None
    if state.user_id != signed_in:
        # Bound to another user, or a signed-in user's challenge presented without them
        # (a sign-up challenge has no user and must be presented by nobody).
        raise ChallengeInvalid()
    ceremonies.check_client_data(parsed.client_data, ceremony="registration")
    ceremonies.check_authenticator_data(parsed.auth_data)
    registered = ceremonies.verify_registration(parsed, challenge=challenge)
    if passkey_by_credential_id(registered.credential_id) is not None:
        raise CredentialAlreadyRegistered()  # §7.1 step 26
    try:
        with transaction.atomic():
            owner = user if user is not None else _create_user(state.pending_user)
            count = Passkey.objects.filter(user=owner).count()
            passkey = Passkey.objects.create(
                user=owner,
                credential_id=registered.credential_id,
                public_key=registered.public_key,
                sign_count=registered.sign_count,
                transports=registered.transports,
                aaguid=registered.aaguid,
                attestation_format=registered.attestation_format,
                backup_eligible=registered.backup_eligible,
                backed_up=registered.backed_up,
                device_type=registered.device_type,
                name=(name or "").strip()[:100] or f"Passkey {count + 1}",
                last_used_at=timezone.now(),
            )
            record_event(
                "passkey.registered",
                actor=owner,
                target=f"passkey:{passkey.pk}",
                detail={"aaguid": registered.aaguid, "device_type": registered.device_type},
            )
    except IntegrityError as error:
        if refers_to_a_deleted_row(error):
            raise DeletedMeanwhile() from error  # staff deleted the signed-in user meanwhile
        # A concurrent sign-up took the username, or the credential, meanwhile.
        if passkey_by_credential_id(registered.credential_id) is not None:
            raise CredentialAlreadyRegistered() from error
        raise UsernameTaken() from error
    token = issue_sign_in_token(user=owner, kind="passkey", credential_id=passkey.credential_id)
    return SignIn(user=owner, token=token, passkey=passkey)


def _create_user(pending: PendingUser | None) -> Any:
    assert pending is not None
    if user_by_username(pending.username) is not None:
        raise UsernameTaken()
    user = get_user_model()(
        id=uuid.UUID(pending.id), username=pending.username, display_name=pending.display_name
    )
    user.set_unusable_password()
    user.save(force_insert=True)
    record_event("user.signed_up", actor=user, target=f"user:{user.pk}", detail={"via": "passkey"})
    return user


# --- authentication (WebAuthn L3 §7.2) ----------------------------------------------------


def begin_authentication(*, username: str = "") -> dict[str, Any]:
    """Options for ``navigator.credentials.get()``.

    Without a username ``allowCredentials`` is empty and the authenticator offers its
    discoverable credentials; the user is then found by ``userHandle``. With a username the
    challenge is bound to that user and lists their credentials.
    """
    user = user_by_username(username) if username else None
    if user is None:
        state = ChallengeState(ceremony="authentication")
        return ceremonies.authentication_options(challenge=_issue_challenge(state), allow=[])
    state = ChallengeState(ceremony="authentication", user_id=str(user.pk))
    return ceremonies.authentication_options(
        challenge=_issue_challenge(state), allow=stored_credentials_of_user(user=user)
    )


@_counted
def finish_authentication(*, body: dict[str, Any]) -> SignIn:
    """Verify ``AuthenticationResponseJSON`` and sign the credential's user in (§7.2).

    Raises:
        CredentialMalformed, ChallengeInvalid, OriginMismatch, RpIdMismatch,
        UserVerificationRequired, CredentialUnknown, SignatureInvalid, SignCountRegressed.
    """
    parsed = ceremonies.parse_authentication(body)
    challenge = parsed.client_data.challenge
    state = consume_challenge(challenge)
    if state is None or state.ceremony != "authentication":
        raise ChallengeInvalid()
    ceremonies.check_client_data(parsed.client_data, ceremony="authentication")
    ceremonies.check_authenticator_data(parsed.auth_data)
    passkey = passkey_by_credential_id(parsed.credential_id)  # §7.2 step 5-6
    if passkey is None or not passkey.user.is_active:
        raise CredentialUnknown()
    if state.user_id is not None and state.user_id != str(passkey.user_id):
        raise ChallengeInvalid()  # the challenge was issued for another user
    # §7.2 step 6: the user handle, when given (and always for a username-less sign-in),
    # must name the credential's owner.
    user_handle = parsed.user_handle or None
    if user_handle is None and state.user_id is None:
        raise CredentialUnknown("The passkey did not say which account it belongs to.")
    if user_handle is not None and user_handle != passkey.user.pk.bytes:
        raise CredentialUnknown("The passkey does not belong to the account it names.")
    verified = ceremonies.verify_assertion(
        parsed, challenge=challenge, public_key=bytes(passkey.public_key)
    )
    new_count = verified.new_sign_count
    now = timezone.now()
    with transaction.atomic():
        # §6.1.1 in one conditional UPDATE (no locked re-read): the counter moves only when it
        # grows, or when both are zero (authenticators without a counter). Concurrent logins
        # with the same assertion counter: only the first one's UPDATE matches.
        grows = Q(sign_count=0) if new_count == 0 else Q(sign_count__lt=new_count)
        updated = Passkey.objects.filter(grows, pk=passkey.pk).update(
            sign_count=new_count, backed_up=verified.backed_up, last_used_at=now
        )
        if updated:
            passkey.sign_count = new_count
            passkey.backed_up = verified.backed_up
            passkey.last_used_at = now
            record_event("signin.passkey", actor=passkey.user, target=f"passkey:{passkey.pk}")
            token = issue_sign_in_token(
                user=passkey.user, kind="passkey", credential_id=passkey.credential_id
            )
    if updated:
        return SignIn(user=passkey.user, token=token, passkey=passkey)
    with transaction.atomic():
        stored = Passkey.objects.select_related("user").filter(pk=passkey.pk).first()
        if stored is None:  # removed meanwhile
            raise CredentialUnknown()
        _flag_cloned(stored, reported=new_count)
    # Raised after the flag is committed: the rejection itself changes nothing else.
    raise SignCountRegressed()


def _flag_cloned(passkey: Passkey, *, reported: int) -> None:
    """WebAuthn L3 §6.1.1: a counter that did not grow signals a possibly cloned authenticator.

    The assertion is refused and the stored counter is kept; the flag shows in the API, the
    admin and the audit trail. Later assertions with a higher counter still sign in.
    """
    if not passkey.flagged:
        passkey.flagged = True
        passkey.flagged_at = timezone.now()
        passkey.save(update_fields=["flagged", "flagged_at"])
    record_event(
        "passkey.sign_count_regressed",
        actor=passkey.user,
        target=f"passkey:{passkey.pk}",
        outcome="failure",
        detail={"stored_sign_count": passkey.sign_count, "reported_sign_count": reported},
    )


# --- management ---------------------------------------------------------------------------


def rename_passkey(*, user: Any, passkey_id: str, name: str) -> Passkey:
    """Give one of the user's passkeys a new name.

    Raises:
        PasskeyNotFound: no such passkey among the user's (another user's is not found either).
    """
    passkey = passkey_of_user(user=user, passkey_id=passkey_id)
    if passkey is None:
        raise PasskeyNotFound()
    passkey.name = name.strip()[:100]
    passkey.save(update_fields=["name"])
    record_event("passkey.renamed", actor=user, target=f"passkey:{passkey.pk}")
    return passkey


def remove_passkey(*, user: Any, passkey_id: str) -> None:
    """Delete one of the user's passkeys, unless it is their last way to sign in.

    A user keeps a way in: another passkey, or a verified email address (the email code).

    Raises:
        PasskeyNotFound, LastSignInMethod.
    """
    try:
        # Parsed as PATCH parses it (passkey_of_user): any spelling of the UUID names it.
        key = uuid.UUID(str(passkey_id))
    except ValueError:
        raise PasskeyNotFound() from None
    with transaction.atomic():
        # Lock the user's passkeys so two concurrent removals cannot both pass the check.
        owned = list(passkeys_of_user(user=user).select_for_update())
        passkey = next((p for p in owned if p.pk == key), None)
        if passkey is None:
            raise PasskeyNotFound()
        if len(owned) == 1 and not _has_verified_email(user):
            raise LastSignInMethod()
        passkey.delete()
        record_event("passkey.removed", actor=user, target=f"passkey:{key}")


def _has_verified_email(user: Any) -> bool:
    fresh = user_by_id(str(user.pk))
    return bool(fresh is not None and fresh.email and fresh.email_verified)


def prune_expired() -> int:
    """``manage.py prune``: email codes past their expiry (challenges expire in the store)."""
    from passkeys.email_code.services import prune_expired_codes

    return prune_expired_codes()
