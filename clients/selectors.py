"""Reads of the clients app (STYLE: selectors are nouns and never write)."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from typing import Any

from django.db.models import QuerySet

from clients.models import Client, ClientUser


def client_by_key_id(key_id: str) -> Client | None:
    """The client whose current API key has this lookup id, or None."""
    return Client.objects.filter(key_id=key_id).first()


def client_by_id(client_id: str | uuid.UUID) -> Client | None:
    """The client with this id, or None (also for a malformed id)."""
    try:
        parsed = client_id if isinstance(client_id, uuid.UUID) else uuid.UUID(str(client_id))
    except ValueError:
        return None
    return Client.objects.filter(pk=parsed).first()


def client_user_by_identifier(*, client: Client, identifier: str) -> ClientUser | None:
    """The user of ``client`` known by ``identifier`` (with its ``authcore.User``), or None."""
    return (
        ClientUser.objects.select_related("user")
        .filter(client=client, identifier=identifier)
        .first()
    )


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
# tokens are revoked with it), so ``GET /api/me`` can skip its query on repeat calls, keeping
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
