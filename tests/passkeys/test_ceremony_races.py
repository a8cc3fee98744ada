"""Concurrent presentations of one ceremony response: exactly one wins (atomic GETDEL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from authcore.store import shared_store
from passkeys.models import Passkey
from tests.passkeys.authenticator import SoftwareAuthenticator
from tests.passkeys.conftest import LOGIN_OPTIONS, LOGIN_VERIFY, REGISTER_OPTIONS, register

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 6


def post_from_threads(path: str, body: dict[str, Any]) -> list[int]:
    def one(_: int) -> tuple[int, str]:
        try:
            response = Client().post(path, body, content_type="application/json")
            return response.status_code, response.json().get("code", "")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        results = list(pool.map(one, range(RACERS)))
    assert {code for status, code in results if status not in (200, 201)} <= {"challenge_invalid"}
    return [status for status, _ in results]


def test_one_assertion_sent_six_times_at_once_signs_in_once(
    authenticator: SoftwareAuthenticator,
) -> None:
    client = APIClient()
    assert register(client, authenticator, "alice").status_code == 201
    options = client.post(LOGIN_OPTIONS, {}, format="json").json()
    assertion = authenticator.get(options)

    statuses = post_from_threads(LOGIN_VERIFY, assertion)

    assert statuses.count(200) == 1
    assert statuses.count(400) == RACERS - 1


def test_one_registration_sent_six_times_at_once_stores_one_passkey(
    authenticator: SoftwareAuthenticator,
) -> None:
    options = (
        Client().post(REGISTER_OPTIONS, {"username": "bob"}, content_type="application/json").json()
    )

    statuses = post_from_threads("/api/auth/passkey/register/verify", authenticator.create(options))

    assert statuses.count(201) == 1
    assert Passkey.objects.count() == 1


def test_a_challenge_lives_at_most_five_minutes_in_the_shared_store(
    authenticator: SoftwareAuthenticator,
) -> None:
    store = shared_store()
    Client().post(LOGIN_OPTIONS, {}, content_type="application/json")

    if store.redis is None:
        pytest.skip("needs Redis to list keys")
    pattern = f"{store.prefix}:passkeys:challenge:*"
    names = [
        key.decode().removeprefix(f"{store.prefix}:")
        for key in store.redis.scan_iter(match=pattern)
    ]
    assert len(names) == 1
    ttl = store.ttl(names[0])
    assert ttl is not None and 0 < ttl <= 300
