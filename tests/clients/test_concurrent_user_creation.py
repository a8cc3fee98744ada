"""Two requests racing to create the same identifier: one user, one 409, nothing half-written."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from authcore.models import User
from clients.models import ClientUser

pytestmark = pytest.mark.django_db(transaction=True)


def test_racing_creations_of_one_identifier_make_one_user(backend):
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def create() -> None:
        try:
            client = APIClient()
            barrier.wait()
            response = client.post(
                "/api/users", {"identifier": "racer"}, format="json", headers=backend.headers
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201, 409, 409, 409]
    assert ClientUser.objects.filter(identifier="racer").count() == 1
    assert User.objects.count() == 1


def test_identifiers_differing_in_case_get_usernames_differing_beyond_case(api_client, backend):
    from tests.clients.conftest import create_user

    upper = create_user(api_client, backend, "Alice")
    lower = create_user(api_client, backend, "alice")
    names = [User.objects.get(pk=u.id).username for u in (upper, lower)]
    assert names[0].lower() != names[1].lower()
