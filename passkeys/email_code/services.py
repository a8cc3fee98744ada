"""The email fallback for browsers without WebAuthn: a 6-digit code and a sign-in link.

Passage-style one-time codes (API.md "Fallback"): every start mails a fresh code and link,
valid ``EMAIL_CODE_TTL`` (10 minutes), usable once, void after ``EMAIL_CODE_MAX_ATTEMPTS`` (5)
wrong codes or when a newer one is sent. Only HMACs of the code and link token are stored.
``start_email_sign_in`` does the same work whether or not the address belongs to a user, so
neither its answer nor its timing tells them apart.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, NoReturn, ParamSpec, TypeVar
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from authcore.audit import record_event
from authcore.emails import canonical_email
from authcore.exceptions import PermissionDenied, ServiceUnavailable, ValidationFailed
from authcore.metrics import AUTH_FAILURES
from passkeys import app_settings
from passkeys.exceptions import (
    EmailCodeExpired,
    EmailCodeInvalid,
    EmailCodeRejected,
    EmailCodeUsed,
    EmailCodeVoided,
)
from passkeys.models import EmailCode
from passkeys.selectors import user_by_email, user_by_username
from passkeys.services import SignIn, issue_sign_in_token

P = ParamSpec("P")
R = TypeVar("R")

_CODE_SALT = "passkeys.email_code.code"
_LINK_SALT = "passkeys.email_code.link"
# What a code is compared with when nothing was ever sent to the address (never matches).
_NOTHING_SENT = uuid.UUID(int=0)
_NOTHING_SENT_HASH = "-" * 64


def normalize_email(email: str) -> str:
    """The address as one identity (API.md: whatever its case), in the form mail is routed by
    (``authcore.emails``): codes are kept under it, mail is sent to it, users are found by it.

    Raises:
        ValidationFailed: 400, an address whose domain mail cannot reach.
    """
    canonical = canonical_email(email)
    if canonical is None:
        raise ValidationFailed("email: Enter a valid email address.")
    return canonical


def _hash_code(record_id: uuid.UUID, code: str) -> str:
    # Keyed and bound to its record: a copied table does not reveal codes by lookup.
    return salted_hmac(_CODE_SALT, f"{record_id}:{code}", algorithm="sha256").hexdigest()


def _hash_link(link_token: str) -> str:
    return salted_hmac(_LINK_SALT, link_token, algorithm="sha256").hexdigest()


def sign_in_link(link_token: str) -> str:
    """The absolute sign-in URL on ``API_BASE_URL`` whose ``token`` parameter is the token."""
    return f"{app_settings.BASE_URL}/?{urlencode({'token': link_token})}"


def start_email_sign_in(*, email: str) -> None:
    """Mail a fresh code and sign-in link to ``email``; older unused ones become void.

    Raises:
        ServiceUnavailable: the mail server refused or could not be reached (nothing stored).
    """
    address = normalize_email(email)
    code = f"{secrets.randbelow(1_000_000):06d}"
    link_token = secrets.token_urlsafe(32)
    record_id = uuid.uuid4()
    now = timezone.now()
    minutes = app_settings.EMAIL_CODE_TTL // 60
    with transaction.atomic():
        EmailCode.objects.filter(email=address, used_at=None, voided_at=None).update(voided_at=now)
        EmailCode.objects.create(
            id=record_id,
            email=address,
            code_hash=_hash_code(record_id, code),
            link_hash=_hash_link(link_token),
            expires_at=now + timedelta(seconds=app_settings.EMAIL_CODE_TTL),
        )
        try:
            send_mail(
                subject=f"Your sign-in code: {code}",
                message=(
                    f"Your sign-in code is {code}\n\n"
                    f"Or open this link to sign in:\n{sign_in_link(link_token)}\n\n"
                    f"The code and the link work once, for {minutes} minutes.\n"
                    "If you did not ask to sign in, ignore this message.\n"
                ),
                from_email=app_settings.DEFAULT_FROM_EMAIL,
                recipient_list=[address],
            )
        except Exception as error:  # SMTP and socket errors alike: roll back, say 503
            raise ServiceUnavailable("The sign-in email could not be sent. Try again.") from error
    record_event("email_code.sent", target=f"email_code:{record_id}")


def _audited(function: Callable[P, R]) -> Callable[P, R]:
    """Audit a refused code or link once its transaction has committed (attempts counted)."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except EmailCodeRejected as failure:
            record_event("signin.email", target="email_code", outcome=failure.code)
            raise

    return wrapper


@_audited
def verify_email_code(*, email: str, code: str) -> SignIn:
    """Sign in (or up) the owner of ``email`` with the code mailed to it.

    The code is compared before the record's state is looked at: a wrong code answers
    ``code_invalid`` exactly as for an address that was never mailed, so a guess does not
    reveal that the address recently asked for (or used) a code. Only the right code learns
    that it is used, expired or void.

    Raises:
        EmailCodeInvalid (wrong code, or nothing sent; the 5th wrong code also voids a live
        code), EmailCodeExpired, EmailCodeUsed, EmailCodeVoided (the right code, after 5 wrong
        ones or a newer start).
    """
    address = normalize_email(email)
    with transaction.atomic():
        record = (
            EmailCode.objects.select_for_update()
            .filter(email=address)
            .order_by("-created_at")
            .first()
        )
        # Hash for an unknown address too: the same work whatever was sent.
        presented = _hash_code(record.id if record else _NOTHING_SENT, code.strip())
        expected = record.code_hash if record else _NOTHING_SENT_HASH
        if hmac.compare_digest(presented, expected) and record is not None:
            _check_usable(record)  # the right code may learn why it no longer works
            return _finish(record)
        if record is not None and _unusable(record) is None:
            _count_wrong_code(record)
    # Raised after the block commits: the wrong attempt must count.
    _reject(EmailCodeInvalid())


def _count_wrong_code(record: EmailCode) -> None:
    """One more wrong code on a live record; the last allowed one voids it (silently: the
    answer stays ``code_invalid``, and the right code then learns ``code_voided``)."""
    record.attempts += 1
    if record.attempts >= app_settings.EMAIL_CODE_MAX_ATTEMPTS:
        record.voided_at = timezone.now()
    record.save(update_fields=["attempts", "voided_at"])


@_audited
def verify_email_link(*, link_token: str) -> SignIn:
    """Sign in (or up) with the single-use link token from the mail.

    Raises:
        EmailCodeInvalid, EmailCodeExpired, EmailCodeUsed, EmailCodeVoided.
    """
    with transaction.atomic():
        record = (
            EmailCode.objects.select_for_update().filter(link_hash=_hash_link(link_token)).first()
        )
        if record is None:
            _reject(EmailCodeInvalid("The sign-in link is wrong."))
        _check_usable(record)
        return _finish(record)


def _reject(failure: EmailCodeRejected) -> NoReturn:
    AUTH_FAILURES.labels(reason=f"email_{failure.code}").inc()
    raise failure


def _check_usable(record: EmailCode) -> None:
    failure = _unusable(record)
    if failure is not None:
        _reject(failure)


def _unusable(record: EmailCode) -> EmailCodeRejected | None:
    if record.used_at is not None:
        return EmailCodeUsed()
    if record.voided_at is not None:
        return EmailCodeVoided()
    if record.expires_at <= timezone.now():
        return EmailCodeExpired()
    return None


def _finish(record: EmailCode) -> SignIn:
    """Mark the code used and sign its address in, creating the user if new (in one transaction
    with the caller's lock, so a code signs in at most once)."""
    record.used_at = timezone.now()
    record.save(update_fields=["used_at"])
    user = _user_for_address(record.email)
    if not user.is_active:
        raise PermissionDenied("This account is disabled.")
    record_event("signin.email", actor=user, target=f"email_code:{record.id}")
    token = issue_sign_in_token(user=user, kind="email")
    return SignIn(user=user, token=token)


def _user_for_address(address: str) -> Any:
    user = user_by_email(address) or _sign_up(address)
    if not user.email_verified:
        user.email_verified = True  # the code proves control of the mailbox
        user.save(update_fields=["email_verified"])
    return user


def _sign_up(address: str) -> Any:
    """A new user for ``address``, or the one a concurrent sign-up of it created."""
    for username in _usernames_for(address):
        try:
            with transaction.atomic():
                return _create_user(address, username=username)
        except IntegrityError:
            user = user_by_email(address)
            if user is not None:  # the address signed up concurrently: use that account
                return user
            # Someone took the username meanwhile (in any case): try the next one.
    raise IntegrityError("no free username for an email sign-up")


def _usernames_for(address: str) -> list[str]:
    """The address itself unless taken (case-insensitively), then random-suffixed names."""
    local = address.split("@")[0][:130]
    suffixed = [f"{local}-{secrets.token_hex(4)}" for _ in range(3)]
    if user_by_username(address[:150]) is not None:
        return suffixed
    return [address[:150], *suffixed]


def _create_user(address: str, *, username: str) -> Any:
    user = get_user_model()(username=username, email=address, email_verified=True)
    user.set_unusable_password()
    user.save(force_insert=True)
    record_event("user.signed_up", actor=user, target=f"user:{user.pk}", detail={"via": "email"})
    return user


def prune_expired_codes() -> int:
    """Delete codes past their expiry (used, void or not). Returns how many."""
    deleted, _ = EmailCode.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
