"""Two instances acting on one client at once. Each interleaving is forced with PostgreSQL
itself (a transaction held open on another connection), nothing of ours is patched."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from clients.models import Client, ClientUser
from clients.services import delete_client, rotate_client_key
from tests.clients.conftest import create_backend, get_token

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_until_blocked_on_a_lock(seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the deletion never waited for the held memberships")


def test_a_token_exchanged_during_a_client_deletion_is_revoked_with_it(backend, alice):
    """The memberships are held locked, so the deletion's cascade waits after its first
    revocation sweep; a token exchanged in that window commits before the deletion does."""
    holding, release, deleted = threading.Event(), threading.Event(), threading.Event()

    def hold_memberships() -> None:
        try:
            with transaction.atomic():
                list(ClientUser.objects.select_for_update().filter(client_id=backend.id))
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    def delete() -> None:
        try:
            delete_client(client=Client.objects.get(pk=backend.id))
            deleted.set()
        finally:
            connection.close()

    holder = threading.Thread(target=hold_memberships)
    holder.start()
    assert holding.wait(10)
    deleter = threading.Thread(target=delete)
    deleter.start()
    try:
        _wait_until_blocked_on_a_lock()
        late = get_token(APIClient(), backend, alice)  # the client is still there to read
    finally:
        release.set()
        holder.join()
        deleter.join()
    assert deleted.is_set()

    assert not Client.objects.filter(pk=backend.id).exists()
    assert APIClient().get("/api/me", headers=late.headers).status_code == 401


def test_a_key_rehashed_while_another_instance_rotates_it_leaves_the_new_key_working(
    api_client, master, settings
):
    """After a SECRET_KEY rotation the first use of a key re-hashes it under the new secret.
    Here that re-hash waits for a rotation (uncommitted on another connection) of the same
    client; once the rotation commits, the re-hash must not put the old key's hash back."""
    settings.SECRET_KEY = "old-" + "x" * 60
    backend = create_backend(api_client, master, "shop")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new-" + "y" * 60, [settings.SECRET_KEY]
    rotating, release = threading.Event(), threading.Event()
    rotated: dict[str, str] = {}
    answers: list[int] = []

    def rotate_and_hold() -> None:
        try:
            with transaction.atomic():
                rotated["key"] = rotate_client_key(client_id=backend.id).api_key
                rotating.set()
                release.wait(10)
        finally:
            connection.close()

    def use_the_old_key() -> None:
        try:
            response = APIClient().post(
                "/api/users", {"identifier": "a"}, format="json", headers=backend.headers
            )
            answers.append(response.status_code)
        finally:
            connection.close()

    rotator = threading.Thread(target=rotate_and_hold)
    rotator.start()
    assert rotating.wait(10)
    user = threading.Thread(target=use_the_old_key)
    user.start()
    try:
        _wait_until_blocked_on_a_lock()  # the re-hash waits for the rotation's row lock
    finally:
        release.set()
        rotator.join()
        user.join()

    assert answers == [201]  # the old key was valid when it was checked
    new_key = {"x-api-key": rotated["key"]}
    created = api_client.post("/api/users", {"identifier": "b"}, format="json", headers=new_key)
    assert created.status_code == 201
    old = api_client.post("/api/users", {"identifier": "c"}, format="json", headers=backend.headers)
    assert old.status_code == 401


def test_rotating_a_key_while_another_instance_deletes_the_client_is_a_404(api_client, master):
    """The rotation reads the client, then waits for its row lock, held by a deletion on
    another connection; once the deletion commits there is nothing to rotate."""
    backend = create_backend(api_client, master, "shop")
    holding, release = threading.Event(), threading.Event()
    answers: list[Any] = []

    def delete_and_hold() -> None:
        try:
            with transaction.atomic():
                client = Client.objects.select_for_update().get(pk=backend.id)
                holding.set()
                release.wait(10)
                delete_client(client=client)
        finally:
            connection.close()

    def rotate() -> None:
        try:
            answers.append(
                APIClient().post(f"/api/clients/{backend.id}/rotate-key", headers=master)
            )
        finally:
            connection.close()

    deleter = threading.Thread(target=delete_and_hold)
    deleter.start()
    assert holding.wait(10)
    rotator = threading.Thread(target=rotate)
    rotator.start()
    try:
        _wait_until_blocked_on_a_lock()
    finally:
        release.set()
        deleter.join()
        rotator.join()

    (answer,) = answers
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
