"""Reads of the clients app (STYLE: selectors are nouns and never write)."""

from __future__ import annotations

import uuid
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


def profile_of(*, user: Any, client_id: str | None) -> dict[str, Any]:
    """What ``GET /api/me`` shows: the user, named by the client's identifier when the token
    was issued by the client service, else by its username."""
    membership = client_user_of_user(user_id=user.pk, client_id=client_id) if client_id else None
    return {
        "id": str(user.pk),
        "identifier": membership.identifier if membership else user.get_username(),
        "username": user.get_username(),
        "email": user.email or (membership.email if membership else ""),
        "display_name": getattr(user, "display_name", ""),
        "client_id": client_id or None,
    }
