"""Two instances acting on one client at once. Each interleaving is forced with PostgreSQL
itself (a transaction held open on another connection), nothing of ours is patched."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from authcore.models import User
from authcore.user_locks import delete_users
from clients.models import Client, ClientUser
from clients.services import delete_client, rotate_client_key
from tests.clients.conftest import create_backend, get_token
from tests.db_locks import interleave
from tokens.models import TokenRecord

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_token_exchanged_during_a_client_deletion_is_revoked_with_it(backend, alice):
    """The memberships are held locked, so the deletion's cascade waits after its first
    revocation sweep; a token exchanged in that window commits before the deletion does."""
    late = []
    interleave(
        first=lambda: list(ClientUser.objects.select_for_update().filter(client_id=backend.id)),
        second=lambda: delete_client(client=Client.objects.get(pk=backend.id)),
        meanwhile=lambda: late.append(get_token(APIClient(), backend, alice)),  # still readable
    )

    assert not Client.objects.filter(pk=backend.id).exists()
    assert APIClient().get("/api/me", headers=late[0].headers).status_code == 401


def test_a_key_rehashed_while_another_instance_rotates_it_leaves_the_new_key_working(
    api_client, master, settings
):
    """After a SECRET_KEY rotation the first use of a key re-hashes it under the new secret.
    Here that re-hash waits for a rotation (uncommitted on another connection) of the same
    client; once the rotation commits, the re-hash must not put the old key's hash back."""
    settings.SECRET_KEY = "old-" + "x" * 60
    backend = create_backend(api_client, master, "shop")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new-" + "y" * 60, [settings.SECRET_KEY]
    rotated: list[str] = []
    answers: list[int] = []

    interleave(
        first=lambda: rotated.append(rotate_client_key(client_id=backend.id).api_key),
        second=lambda: answers.append(
            APIClient()
            .post("/api/users", {"identifier": "a"}, format="json", headers=backend.headers)
            .status_code
        ),
    )

    assert answers == [201]  # the old key was valid when it was checked
    new_key = {"x-api-key": rotated[0]}
    created = api_client.post("/api/users", {"identifier": "b"}, format="json", headers=new_key)
    assert created.status_code == 201
    old = api_client.post("/api/users", {"identifier": "c"}, format="json", headers=backend.headers)
    assert old.status_code == 401


def test_rotating_a_key_while_another_instance_deletes_the_client_is_a_404(api_client, master):
    """The rotation reads the client, then waits for its row lock, held by a deletion on
    another connection; once the deletion commits there is nothing to rotate."""
    backend = create_backend(api_client, master, "shop")
    answers: list[Any] = []

    def delete() -> None:
        delete_client(client=Client.objects.select_for_update().get(pk=backend.id))

    interleave(
        first=delete,
        second=lambda: answers.append(
            APIClient().post(f"/api/clients/{backend.id}/rotate-key", headers=master)
        ),
    )

    (answer,) = answers
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


def test_a_token_exchange_of_a_user_deleted_meanwhile_is_a_409_and_leaves_no_token(backend, alice):
    """Staff delete the user on one instance (uncommitted: its transaction is held open); the
    exchange on another reads the user, then its token's insert waits for the deletion. Once
    the deletion commits the insert has nothing to refer to: a clear 409, nothing written."""
    user_id = ClientUser.objects.get(client_id=backend.id).user_id
    answers: list[Any] = []

    def delete_the_user() -> None:
        user = User.objects.get(pk=user_id)
        delete_users(lambda: [user_id], user.delete)

    interleave(
        first=delete_the_user,
        second=lambda: answers.append(
            APIClient().post(
                "/api/tokens",
                {"identifier": alice.identifier, "secret": alice.secret},
                format="json",
                headers=backend.headers,
            )
        ),
    )

    (exchange,) = answers
    assert (exchange.status_code, exchange.json()["code"]) == (409, "conflict")
    assert not TokenRecord.objects.filter(user_id=user_id).exists()
    again = APIClient().post(
        "/api/tokens",
        {"identifier": alice.identifier, "secret": alice.secret},
        format="json",
        headers=backend.headers,
    )
    assert again.status_code == 401


def test_a_user_created_while_staff_delete_the_client_goes_with_it(backend, alice):
    """The deletion waits on one of the client's memberships (held on another connection)
    while another instance creates a user for the client: that membership commits after the
    deletion's snapshot. The deletion still succeeds and deletes it too."""
    outcome: list[str] = []
    created: list[Any] = []

    def delete() -> None:
        try:
            delete_client(client=Client.objects.get(pk=backend.id))
            outcome.append("deleted")
        except Exception as error:  # reported below, never swallowed
            outcome.append(type(error).__name__)

    interleave(
        first=lambda: list(ClientUser.objects.select_for_update().filter(client_id=backend.id)),
        second=delete,
        meanwhile=lambda: created.append(
            APIClient().post(
                "/api/users", {"identifier": "late"}, format="json", headers=backend.headers
            )
        ),
    )

    assert outcome == ["deleted"]
    assert [response.status_code for response in created] == [201]
    assert not Client.objects.filter(pk=backend.id).exists()
    assert not ClientUser.objects.filter(client_id=backend.id).exists()
