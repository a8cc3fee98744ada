"""A token exchanged while its client is being deleted does not outlive the client.

The interleaving is forced with PostgreSQL itself, nothing of ours is patched: a second
connection holds the client's memberships locked, so the deletion's cascade waits after its
first revocation sweep; a token exchanged in that window commits before the deletion does.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from clients.models import Client, ClientUser
from clients.services import delete_client
from tests.clients.conftest import get_token

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
