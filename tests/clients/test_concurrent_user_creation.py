"""Two requests racing to create the same identifier: one user, one 409, nothing half-written."""

from __future__ import annotations

import pytest

from authcore.models import User
from clients.models import ClientUser
from tests.clients.conftest import at_once

pytestmark = pytest.mark.django_db(transaction=True)


def test_racing_creations_of_one_identifier_make_one_user(backend):
    statuses = at_once(
        4,
        lambda client: (
            client.post(
                "/api/users", {"identifier": "racer"}, format="json", headers=backend.headers
            ).status_code
        ),
    )

    assert sorted(statuses) == [201, 409, 409, 409]
    assert ClientUser.objects.filter(identifier="racer").count() == 1
    assert User.objects.count() == 1


def test_identifiers_differing_in_case_get_usernames_differing_beyond_case(api_client, backend):
    from tests.clients.conftest import create_user

    upper = create_user(api_client, backend, "Alice")
    lower = create_user(api_client, backend, "alice")
    names = [User.objects.get(pk=u.id).username for u in (upper, lower)]
    assert names[0].lower() != names[1].lower()
