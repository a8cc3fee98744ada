"""Reads of the clients app (STYLE: selectors are nouns and never write)."""

from __future__ import annotations

import functools
import threading
import uuid
from collections import OrderedDict
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, ExpressionWrapper, FilteredRelation, Q, QuerySet

from authcore.compiled_query import CompiledQuery, model_columns
from clients.models import Client, ClientUser


def client_by_key_id(key_id: str) -> Client | None:
    """The client whose current API key has this lookup id, or None."""
    try:
        return Client.objects.get(key_id=key_id)
    except Client.DoesNotExist:
        return None


def client_by_id(client_id: str | uuid.UUID) -> Client | None:
    """The client with this id, or None (also for a malformed id)."""
    try:
        parsed = client_id if isinstance(client_id, uuid.UUID) else uuid.UUID(str(client_id))
    except ValueError:
        return None
    return Client.objects.filter(pk=parsed).first()


def client_user_by_identifier(*, client: Client, identifier: str) -> ClientUser | None:
    """The user of ``client`` known by ``identifier`` (with its ``authcore.User``), or None."""
    try:
        return ClientUser.objects.select_related("user").get(client=client, identifier=identifier)
    except ClientUser.DoesNotExist:
        return None


def _client_and_user_paths() -> tuple[str, ...]:
    client_paths, _ = model_columns(Client, "")
    member_paths, _ = model_columns(ClientUser, "member__")
    user_paths, _ = model_columns(get_user_model(), "member__user__")
    return (*client_paths, *member_paths, *user_paths)


def _client_and_user_query(
    *, key_id: str, identifier: str, key_hash: str, secret_hash: str
) -> QuerySet[Any]:
    eligible = ExpressionWrapper(
        Q(key_hash=key_hash) & Q(member__secret_hash=secret_hash) & Q(member__user__is_active=True),
        output_field=BooleanField(),
    )
    return (
        Client.objects.filter(key_id=key_id)
        .annotate(member=FilteredRelation("users", condition=Q(users__identifier=identifier)))
        .order_by()
        .annotate(eligible=eligible)
        .values_list(*_client_and_user_paths(), "eligible")
    )


# The client whose current API key has lookup id ``key_id`` and its user known by
# ``identifier`` (with its ``authcore.User``): a LEFT JOIN on ``(client, identifier)``, the
# same single statement whether or not the identifier exists, so the query count tells nothing
# about it. Compiled once per thread: its ORM compilation cost more than the signature it
# precedes.
#
# ``eligible``: whether the stored hashes equal the presented credentials' hashes under the
# current SECRET_KEY and the user is active. An SQL ``=`` on keyed hashes leaks nothing a
# caller can use (nobody without SECRET_KEY can choose the bytes of a hash); it is not the
# check: ``clients.services`` still compares in constant time, under every server secret. It
# only lets ``tokens.services.reserve_token`` record the token in the same statement
# (docs/tokens.md "Issuing in one statement"); an empty ``secret_hash`` never matches.
CLIENT_AND_USER = CompiledQuery(
    _client_and_user_query, "key_id", "identifier", "key_hash", "secret_hash"
)


@functools.cache
def eligible_columns() -> tuple[int, int, int]:
    """Positions of the user id, the client id and ``eligible`` in a row of
    ``CLIENT_AND_USER``."""
    paths = _client_and_user_paths()
    return paths.index("member__user__id"), paths.index("id"), len(paths)


def client_and_user_of_rows(
    rows: list[tuple[Any, ...]],
) -> tuple[Client, ClientUser | None] | None:
    """The client and its user (with its ``authcore.User``) from the rows of
    ``CLIENT_AND_USER`` (extra columns after the models' are ignored). None: no such client;
    ``(client, None)``: no such user of that client."""
    if not rows:
        return None
    values = rows[0]
    _, client_names = model_columns(Client, "")
    _, member_names = model_columns(ClientUser, "member__")
    _, user_names = model_columns(get_user_model(), "member__user__")
    c, m, u = len(client_names), len(member_names), len(user_names)
    client = Client.from_db("default", client_names, values[:c])
    if values[c] is None:  # the member's primary key: no such identifier
        return client, None
    client_user = ClientUser.from_db("default", member_names, values[c : c + m])
    client_user.client = client
    client_user.user = get_user_model().from_db("default", user_names, values[c + m : c + m + u])
    return client, client_user


# API key lookup id -> client id, as seen by this process. The pair does not change (rotation
# gives the client a new random lookup id), so the lockout subjects of ``POST /api/tokens`` can
# be named before any query. Only lockout names come from here, never a credential: the key
# hash is read from the database on every request, and a stale entry only costs the caller a
# second lock read (``clients.services.authenticate_client_and_user`` compares the names).
_CLIENT_ID_BY_KEY_ID: OrderedDict[str, str] = OrderedDict()
_CLIENT_ID_CACHE_SIZE = 10_000
_client_id_lock = threading.Lock()


def known_client_id(key_id: str) -> str | None:
    """The client id this process has seen for an API key lookup id, or None (no I/O)."""
    with _client_id_lock:
        return _CLIENT_ID_BY_KEY_ID.get(key_id)


def remember_client_id(key_id: str, client_id: str) -> None:
    with _client_id_lock:
        _CLIENT_ID_BY_KEY_ID[key_id] = client_id
        while len(_CLIENT_ID_BY_KEY_ID) > _CLIENT_ID_CACHE_SIZE:
            _CLIENT_ID_BY_KEY_ID.popitem(last=False)


def client_user_of_user(*, user_id: Any, client_id: str) -> ClientUser | None:
    """The membership of a user in one client, or None."""
    try:
        parsed = uuid.UUID(str(client_id))
    except ValueError:
        return None
    return ClientUser.objects.filter(user_id=user_id, client_id=parsed).first()


def users_of_client(*, client: Client) -> QuerySet[ClientUser]:
    """Every user of ``client``, newest first."""
    return ClientUser.objects.select_related("user").filter(client=client)


# (user id, client id) -> (identifier, email) of memberships seen by this process. Both are
# immutable after creation (no service or admin form changes them; a deleted membership's
# tokens are revoked with it by ``services.delete_client_user``, so no token of it reaches
# ``profile_of`` again), so ``GET /api/me`` can skip its query on repeat calls, keeping
# the protected-request path free of SQL (issue 11).
_MEMBERSHIP_CACHE: OrderedDict[tuple[str, str], tuple[str, str]] = OrderedDict()
_MEMBERSHIP_CACHE_SIZE = 10_000
_membership_lock = threading.Lock()


def _membership_identity(user_id: Any, client_id: str) -> tuple[str, str] | None:
    key = (str(user_id), client_id)
    with _membership_lock:
        cached = _MEMBERSHIP_CACHE.get(key)
        if cached is not None:
            _MEMBERSHIP_CACHE.move_to_end(key)
            return cached
    membership = client_user_of_user(user_id=user_id, client_id=client_id)
    if membership is None:
        return None  # not cached: absence is not immutable
    identity = (membership.identifier, membership.email)
    with _membership_lock:
        _MEMBERSHIP_CACHE[key] = identity
        while len(_MEMBERSHIP_CACHE) > _MEMBERSHIP_CACHE_SIZE:
            _MEMBERSHIP_CACHE.popitem(last=False)
    return identity


def forget_membership(*, user_id: Any, client_id: str) -> None:
    """Drop a deleted membership from this process's cache (other processes never see a
    token of it again: its tokens are revoked)."""
    with _membership_lock:
        _MEMBERSHIP_CACHE.pop((str(user_id), str(client_id)), None)


def profile_of(*, user: Any, client_id: str | None) -> dict[str, Any]:
    """What ``GET /api/me`` shows: the user, named by the client's identifier when the token
    was issued by the client service, else by its username."""
    identity = _membership_identity(user.pk, client_id) if client_id else None
    return {
        "id": str(user.pk),
        "identifier": identity[0] if identity else user.get_username(),
        "username": user.get_username(),
        "email": user.email or (identity[1] if identity else ""),
        "display_name": getattr(user, "display_name", ""),
        "client_id": client_id or None,
    }
