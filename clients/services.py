"""Writes of the client service: clients and their keys, client users, master and key checks.

API.md "Client service". Credentials are checked here, not in views, so the lockout, the
metrics and the audit trail apply whichever door a request comes through (API or admin).
Token calls (issue, introspect, revoke) live in ``clients.token_services``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from authcore.audit import record_event
from authcore.integrity import delete_whole
from clients import app_settings
from clients.exceptions import (
    ClientNotFound,
    IdentifierTaken,
    InvalidApiKey,
    InvalidMasterCredentials,
    InvalidUserCredentials,
    MasterDisabled,
)
from clients.internal.credential_hashing import (
    PURPOSE_API_KEY,
    PURPOSE_USER_SECRET,
    PresentedSecret,
    check_against_dummy,
    check_secret,
    generate_api_key,
    generate_user_secret,
    hash_secret,
    parse_api_key,
)
from clients.internal.lockout import (
    LockState,
    Subject,
    api_key_subject,
    clear_failures,
    ensure_not_locked,
    master_subject,
    raise_if_locked,
    read_lock_states,
    record_failure,
    reserve_attempt,
    settle_failure,
    user_secret_subject,
)
from clients.models import Client, ClientUser
from clients.selectors import (
    CLIENT_AND_USER,
    client_and_user_of_rows,
    client_by_id,
    client_by_key_id,
    client_user_by_identifier,
    eligible_columns,
    forget_membership,
    known_client_id,
    remember_client_id,
)
from tokens.services import PendingToken, discard_pending, reserve_token

MASTER_ACTOR = ("master", "")


@dataclass(frozen=True)
class ClientWithKey:
    """A client and its new API key, which exists only in this object (never stored)."""

    client: Client
    api_key: str = field(repr=False)


@dataclass(frozen=True)
class ClientUserWithSecret:
    """A client user and its new secret, which exists only in this object (never stored)."""

    client_user: ClientUser
    secret: str = field(repr=False)


# --- master credentials -----------------------------------------------------------------


def master_enabled() -> bool:
    """Whether ``MASTER_USERNAME`` and ``MASTER_PASSWORD`` are both configured."""
    return bool(app_settings.MASTER_USERNAME and app_settings.MASTER_PASSWORD)


def _digest(value: str) -> bytes:
    # Equal-length inputs for compare_digest, which leaks only a length difference.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def authenticate_master(*, username: str, password: str, ip: str) -> None:
    """Check the master credentials (HTTP Basic) in constant time.

    Failures are counted per client IP and lock that IP out for a while.

    Raises:
        MasterDisabled: 403, the master credentials are not configured (no default password).
        CredentialLocked: 429, too many recent failures from this IP.
        InvalidMasterCredentials: 401.
    """
    if not master_enabled():
        raise MasterDisabled()
    subject = master_subject(ip)
    ensure_not_locked(subject)
    attempt = reserve_attempt(subject)  # counted before the check: bursts get no extra guesses
    # Both comparisons always run: no early exit tells a right username from a wrong one.
    username_ok = constant_time_compare(_digest(username), _digest(app_settings.MASTER_USERNAME))
    password_ok = constant_time_compare(_digest(password), _digest(app_settings.MASTER_PASSWORD))
    if not (username_ok and password_ok):
        settle_failure(subject, attempt, reason="master_credentials", target="master")
        raise InvalidMasterCredentials()
    clear_failures([subject])


# --- clients and API keys ---------------------------------------------------------------


def create_client(*, name: str, actor: Any = MASTER_ACTOR) -> ClientWithKey:
    """Create a client with a fresh API key, returned this once.

    Args:
        name: a human label for the client.
        actor: who creates it (the master credentials, or a staff user in the admin).
    """
    generated = generate_api_key()
    with transaction.atomic():
        client = Client.objects.create(
            name=name,
            key_id=generated.lookup_id,
            key_hash=generated.hashed,
            key_rotated_at=timezone.now(),
        )
        record_event("client.created", actor=actor, target=f"client:{client.pk}")
    return ClientWithKey(client=client, api_key=generated.raw)


def rotate_client_key(*, client_id: str, actor: Any = MASTER_ACTOR) -> ClientWithKey:
    """Give a client a new API key; the old key is refused from the moment this commits.

    Raises:
        ClientNotFound: 404, no client with this id.
    """
    generated = generate_api_key()
    with transaction.atomic():
        found = client_by_id(client_id)
        if found is None:
            raise ClientNotFound()
        client = Client.objects.select_for_update().filter(pk=found.pk).first()
        if client is None:  # deleted since it was read
            raise ClientNotFound()
        client.key_id = generated.lookup_id
        client.key_hash = generated.hashed
        client.key_rotated_at = timezone.now()
        client.save(update_fields=["key_id", "key_hash", "key_rotated_at"])
        record_event("client.key_rotated", actor=actor, target=f"client:{client.pk}")
    return ClientWithKey(client=client, api_key=generated.raw)


def delete_client(*, client: Client, actor: Any = None) -> None:
    """Delete a client: its tokens are revoked, its memberships go; the users stay.

    The tokens are swept before and again after the delete (same transaction): a token
    exchange that committed while the memberships were being deleted is caught by the second
    sweep. What is left is an exchange whose one statement straddles this commit
    (docs/client-service.md, "Deleting"). A user created for the client on another instance
    while its memberships were being deleted is deleted too (``delete_whole``).
    """
    from tokens.services import revoke_tokens_of_client

    pk = client.pk
    client_id = str(pk)

    def delete() -> None:
        client.pk = pk  # delete() sets it to None, and a failed attempt's did
        revoke_tokens_of_client(client_id=client_id, actor=actor)
        record_event("client.deleted", actor=actor, target=f"client:{client_id}")
        client.delete()
        revoke_tokens_of_client(client_id=client_id, actor=actor)

    # Whole: a user created for this client meanwhile (another instance) is deleted with it.
    delete_whole(delete, what="client")


def delete_client_user(*, client_user: ClientUser, actor: Any = None) -> None:
    """Delete one membership (staff, in the admin): the tokens issued to it through its client
    are revoked (swept before and after, as ``delete_client``); the user stays."""
    from tokens.services import revoke_tokens_of_client

    client_id, user_id = str(client_user.client_id), client_user.user_id
    with transaction.atomic():
        revoke_tokens_of_client(client_id=client_id, user_id=user_id, actor=actor)
        record_event(
            "client_user.deleted",
            actor=actor,
            target=f"user:{user_id}",
            detail={"client": client_id},
        )
        client_user.delete()
        revoke_tokens_of_client(client_id=client_id, user_id=user_id, actor=actor)
    forget_membership(user_id=user_id, client_id=client_id)


def _rehash_key(client: Client, raw: str) -> None:
    """Re-key a key that matched under a ``SECRET_KEY_FALLBACKS`` entry under the current
    secret, only if the row still holds the hash that matched: a rotation committed meanwhile
    (another instance) keeps its new key instead of getting the old one's hash back."""
    fresh = hash_secret(raw, purpose=PURPOSE_API_KEY)
    Client.objects.filter(pk=client.pk, key_hash=client.key_hash).update(key_hash=fresh)
    client.key_hash = fresh


def _rehash_secret(client_user: ClientUser, secret: str) -> None:
    """``_rehash_key`` for a user's secret."""
    fresh = hash_secret(secret, purpose=PURPOSE_USER_SECRET)
    ClientUser.objects.filter(pk=client_user.pk, secret_hash=client_user.secret_hash).update(
        secret_hash=fresh
    )
    client_user.secret_hash = fresh


def authenticate_api_key(*, presented: str, ip: str) -> Client:
    """The client owning ``presented`` (an ``x-api-key`` value).

    The key is found by its non-secret lookup id and compared as a keyed hash in constant
    time; an unknown or malformed key runs the same hash against a dummy (no enumeration).
    Failures are counted per (lookup id, client IP), see ``clients.internal.lockout``.

    Raises:
        CredentialLocked: 429, too many recent failures for this key from this IP.
        InvalidApiKey: 401.
    """
    parsed = parse_api_key(presented)
    subject = api_key_subject(parsed.lookup_id, ip)
    pending = ensure_not_locked(subject)
    client = client_by_key_id(parsed.lookup_id) if parsed.lookup_id else None
    if client is None:
        check_against_dummy(parsed.raw, purpose=PURPOSE_API_KEY)
        matched = must_update = False
    else:
        result = check_secret(parsed.raw, client.key_hash, purpose=PURPOSE_API_KEY)
        matched, must_update = result.matches, result.must_update
    if client is None or not matched:
        record_failure(subject, reason="api_key", target=f"api_key:{parsed.lookup_id or '-'}")
        raise InvalidApiKey()
    if must_update:
        _rehash_key(client, parsed.raw)
    clear_failures(pending)
    return client


# --- client users -----------------------------------------------------------------------

# Usernames Django's validator accepts (ASCII only, so no look-alike characters).
_USERNAME_SAFE = re.compile(r"^[A-Za-z0-9_.@+-]{1,120}$")


def _username_candidates(client: Client, identifier: str) -> list[str]:
    """Readable, globally unique usernames for a client user, best first.

    ``User.username`` is unique across Authcore while an identifier is unique only within
    its client, so the client's short id is appended. A taken name falls back to a random
    suffix rather than failing (someone may have registered it as a passkey username).
    """
    if _USERNAME_SAFE.match(identifier):
        base = identifier
    else:
        base = "u" + hashlib.sha256(identifier.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    readable = f"{base}+{client.pk.hex[:8]}"
    return [readable, *(f"{readable}-{secrets.token_hex(4)}" for _ in range(3))]


def _create_user_for(client: Client, identifier: str) -> Any:
    user_model = get_user_model()
    for candidate in _username_candidates(client, identifier):
        # Skip names equal but for case: other apps may look usernames up case-insensitively.
        if user_model.objects.filter(username__iexact=candidate).exists():
            continue
        try:
            with transaction.atomic():
                return user_model.objects.create_user(username=candidate, password=None)
        except IntegrityError:
            continue
    raise IntegrityError("no free username for a client user")


def create_client_user(*, client: Client, identifier: str, email: str = "") -> ClientUserWithSecret:
    """Create an Authcore user known to ``client`` by ``identifier``, with a one-time secret.

    The user is the ordinary ``authcore.User`` (it may later add a passkey). The email given
    by the client is kept on the membership, not on ``User.email``: an unverified address
    chosen by a client must not claim the address's email sign-in for everyone, and the
    global uniqueness of ``User.email`` would tell one client about another's users.

    Raises:
        IdentifierTaken: 409, ``identifier`` already exists for this client (only this client's
            users are considered).
    """
    generated = generate_user_secret()
    with transaction.atomic():
        if ClientUser.objects.filter(client=client, identifier=identifier).exists():
            raise IdentifierTaken()
        user = _create_user_for(client, identifier)
        try:
            with transaction.atomic():
                client_user = ClientUser.objects.create(
                    client=client,
                    user=user,
                    identifier=identifier,
                    email=email,
                    secret_tag=generated.lookup_id,
                    secret_hash=generated.hashed,
                )
        except IntegrityError as error:  # a concurrent request created the same identifier
            raise IdentifierTaken() from error
        record_event(
            "client_user.created",
            actor=client,
            target=f"user:{user.pk}",
            detail={"client": str(client.pk)},
        )
    return ClientUserWithSecret(client_user=client_user, secret=generated.raw)


def authenticate_client_user(*, client: Client, identifier: str, secret: str) -> ClientUser:
    """The user of ``client`` with this identifier and secret.

    A wrong identifier and a wrong secret are the same error after the same work: for an
    unknown identifier the secret is hashed against a dummy. Failures lock the identifier
    (within this client) whether or not it exists.

    Raises:
        CredentialLocked: 429, too many recent failures for this identifier.
        InvalidUserCredentials: 401.
    """
    subject = user_secret_subject(str(client.pk), identifier)
    pending = ensure_not_locked(subject)
    client_user = client_user_by_identifier(client=client, identifier=identifier)
    if client_user is None:
        check_against_dummy(secret, purpose=PURPOSE_USER_SECRET)
        matched = must_update = False
    else:
        result = check_secret(secret, client_user.secret_hash, purpose=PURPOSE_USER_SECRET)
        matched = result.matches and client_user.user.is_active
        must_update = result.must_update
    if client_user is None or not matched:
        record_failure(subject, reason="user_secret", target=f"client:{client.pk}")
        raise InvalidUserCredentials()
    if must_update:
        _rehash_secret(client_user, secret)
    clear_failures(pending)
    return client_user


def _check_client_user(client_user: ClientUser | None, secret: str) -> tuple[bool, bool]:
    """(matched, must_update) for ``secret``; an unknown user is hashed against a dummy."""
    if client_user is None:
        check_against_dummy(secret, purpose=PURPOSE_USER_SECRET)
        return False, False
    result = check_secret(secret, client_user.secret_hash, purpose=PURPOSE_USER_SECRET)
    return result.matches and client_user.user.is_active, result.must_update


@dataclass(frozen=True)
class AuthenticatedExchange:
    """What ``authenticate_client_and_user`` found: the user and the token already recorded
    in its lookup's statement (sign it with ``tokens.services``), or None: issue as usual."""

    client_user: ClientUser
    pending: PendingToken | None


def authenticate_client_and_user(
    *,
    presented: str,
    ip: str,
    identifier: str,
    secret: str,
    token_ttl: int,
    fallback: bool = False,
) -> AuthenticatedExchange:
    """``POST /api/tokens``: the API key and the user's credentials, checked together.

    The same checks, in the same order and with the same answers, as
    ``authenticate_api_key`` followed by ``authenticate_client_user``, at the cost of one
    store round trip (both lockout subjects in one MGET, once this process knows the
    client id of the key's lookup id) and one SQL statement (client and user joined). The
    API key's lock is honoured first; the user's lock only once the key has matched, so a
    wrong key learns nothing about the user's lock. With ``fallback`` (no ``x-api-key``: the
    deployment's ``CLIENT_API_KEY``) the user's failures are counted per client IP instead
    (``user_secret_subject``).

    Once both lockout states are known before the statement, that one statement also records
    a token of ``token_ttl`` seconds when the credentials match and the user is not locked
    (``tokens.services.reserve_token``): success costs one round trip to the database.
    Every failure finds nothing recorded, so the statements and their number are the same for
    a wrong key, an unknown identifier and a wrong secret. Anything refused after a record was
    written (a user locked under a name this process did not know) deletes it.

    Raises:
        CredentialLocked: 429; InvalidApiKey: 401; InvalidUserCredentials: 401;
        TokenLifetimeInvalid: 400, a bad ``token_ttl`` (before anything is read).
    """
    parsed = parse_api_key(presented)
    api_subject = api_key_subject(parsed.lookup_id, ip)
    known_id = known_client_id(parsed.lookup_id) if parsed.lookup_id else None
    subjects = [api_subject]
    anonymous_ip = ip if fallback else ""
    if known_id is not None:
        subjects.append(user_secret_subject(known_id, identifier, anonymous_ip=anonymous_ip))
    states = read_lock_states(*subjects)
    raise_if_locked(states[0])

    rows: list[tuple[Any, ...]] = []
    pending: PendingToken | None = None
    if parsed.lookup_id:
        # The secret's hash is computed either way. It is offered to the statement only when
        # the user's lock was read ahead and is open (no stored hash is empty), so nothing
        # gets recorded during a lock or before this process knows the key's client.
        secret_hash = hash_secret(secret, purpose=PURPOSE_USER_SECRET)
        offered = len(states) > 1 and not states[1].is_locked()
        user_at, client_at, eligible_at = eligible_columns()
        rows, pending = reserve_token(
            lookup=CLIENT_AND_USER,
            values={
                "key_id": parsed.lookup_id,
                "identifier": identifier,
                "key_hash": hash_secret(parsed.raw, purpose=PURPOSE_API_KEY),
                "secret_hash": secret_hash if offered else "",
            },
            user_column=user_at,
            client_column=client_at,
            eligible_column=eligible_at,
            kind="client",
            ttl=token_ttl,
        )
    try:
        found = client_and_user_of_rows(rows)
        client_user = _check_client_and_user(
            found, parsed, api_subject, states, identifier, secret, anonymous_ip
        )
    except BaseException:
        if pending is not None:
            discard_pending(pending)
        raise
    if pending is not None and (pending.user_id, pending.client_id) != (
        str(client_user.user_id),
        str(client_user.client_id),
    ):  # not the row the checks passed (impossible with one row): issue the usual way
        discard_pending(pending)
        pending = None
    return AuthenticatedExchange(client_user, pending)


def _check_client_and_user(
    found: tuple[Client, ClientUser | None] | None,
    parsed: PresentedSecret,
    api_subject: Subject,
    states: list[LockState],
    identifier: str,
    secret: str,
    anonymous_ip: str,
) -> ClientUser:
    """The checks of ``authenticate_client_and_user`` on what its statement found."""
    if found is None:
        check_against_dummy(parsed.raw, purpose=PURPOSE_API_KEY)
        key_matched = key_update = False
    else:
        result = check_secret(parsed.raw, found[0].key_hash, purpose=PURPOSE_API_KEY)
        key_matched, key_update = result.matches, result.must_update
    if found is None or not key_matched:
        record_failure(api_subject, reason="api_key", target=f"api_key:{parsed.lookup_id or '-'}")
        raise InvalidApiKey()
    client, client_user = found
    if key_update:
        _rehash_key(client, parsed.raw)
    if states[0].has_failures:
        clear_failures([api_subject])

    user_subject = user_secret_subject(str(client.pk), identifier, anonymous_ip=anonymous_ip)
    if len(states) > 1 and states[1].subject == user_subject:
        user_state = states[1]
    else:  # first request of this process for this key: read the user's lock now
        user_state = read_lock_states(user_subject)[0]
        remember_client_id(client.key_id, str(client.pk))
    raise_if_locked(user_state)
    matched, must_update = _check_client_user(client_user, secret)
    if client_user is None or not matched:
        record_failure(user_subject, reason="user_secret", target=f"client:{client.pk}")
        raise InvalidUserCredentials()
    if must_update:
        _rehash_secret(client_user, secret)
    if user_state.has_failures:
        clear_failures([user_subject])
    return client_user
