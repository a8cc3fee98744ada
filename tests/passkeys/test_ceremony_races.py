"""Concurrent presentations of one ceremony response: exactly one wins (atomic GETDEL).

Concurrent sign-ups of usernames equal but for case: the database keeps one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test import Client
from rest_framework.test import APIClient

from authcore.models import User
from authcore.store import shared_store
from authcore.user_locks import delete_users
from passkeys.models import Passkey
from tests.db_locks import interleave, wait_until_blocked
from tests.passkeys.authenticator import SoftwareAuthenticator
from tests.passkeys.conftest import (
    LOGIN_OPTIONS,
    LOGIN_VERIFY,
    REGISTER_OPTIONS,
    REGISTER_VERIFY,
    Mailbox,
    register,
)

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


# --- usernames equal but for case, signed up at the same moment --------------------------


def _wait_until_blocked(count: int) -> None:
    # Bounded, and not an error: without a case-insensitive constraint the second racer never
    # blocks, and the test's own assertions then fail.
    wait_until_blocked(count, seconds=5)


@contextmanager
def passkey_inserts_held() -> Iterator[Callable[[int], None]]:
    """Hold every insert into the passkey table until the block ends.

    A sign-up checks the username, inserts the user, then inserts the passkey: holding the
    last step keeps every racer's transaction open after its check, the widest window two
    real requests can hit. Yields ``wait_for(n)``: wait until ``n`` requests are blocked.
    """
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Passkey._meta.db_table} IN EXCLUSIVE MODE")
        yield _wait_until_blocked


def _post(path: str, body: dict[str, Any]) -> tuple[int, str]:
    try:
        response = Client().post(path, body, content_type="application/json")
        return response.status_code, response.json().get("code", "")
    finally:
        connection.close()


def _sign_up_body(username: str) -> dict[str, Any]:
    client = Client()
    options = client.post(REGISTER_OPTIONS, {"username": username}, content_type="application/json")
    assert options.status_code == 200
    device = SoftwareAuthenticator(
        rp_id=django_settings.API_RP_ID, origin=django_settings.API_ORIGIN
    )
    body: dict[str, Any] = device.create(options.json())
    return body


def test_concurrent_sign_ups_of_carol_and_carol_in_another_case_make_one_user() -> None:
    bodies = [_sign_up_body("Carol"), _sign_up_body("carol")]

    with ThreadPoolExecutor(max_workers=2) as pool:
        with passkey_inserts_held() as wait_for:
            futures = [pool.submit(_post, REGISTER_VERIFY, body) for body in bodies]
            wait_for(2)
        results = sorted(future.result() for future in futures)

    assert results == [(201, ""), (409, "username_taken")]
    assert User.objects.filter(username__iexact="carol").count() == 1
    assert Passkey.objects.count() == 1


def test_an_email_sign_up_racing_a_passkey_sign_up_of_its_address_gets_its_own_username(
    mailbox: Mailbox,
) -> None:
    passkey_body = _sign_up_body("Dave@Example.test")
    Client().post(
        "/api/auth/email/start", {"email": "dave@example.test"}, content_type="application/json"
    )
    email_body = {"email": "dave@example.test", "code": mailbox.code_for("dave@example.test")}

    with ThreadPoolExecutor(max_workers=2) as pool:
        with passkey_inserts_held() as wait_for:
            # The passkey sign-up inserts its user first, then waits; the email sign-up then
            # tries the same username in lower case.
            passkey: Future[tuple[int, str]] = pool.submit(_post, REGISTER_VERIFY, passkey_body)
            wait_for(1)
            email = pool.submit(_post, "/api/auth/email/verify", email_body)
            wait_for(2)
        results = (passkey.result(), email.result())

    assert results == ((201, ""), (200, ""))
    usernames = sorted(User.objects.values_list("username", flat=True))
    assert len({name.lower() for name in usernames}) == 2
    assert User.objects.get(email="dave@example.test").username.startswith("dave-")


def test_a_passkey_added_while_staff_delete_its_user_is_a_conflict_not_a_taken_username(
    authenticator: SoftwareAuthenticator,
) -> None:
    """Alice adds a second passkey while staff delete her on another instance (uncommitted:
    its transaction is held open); her new passkey's insert waits for the deletion, then has
    no user to refer to. The answer says so (409 conflict), not that a username was taken."""
    client = APIClient()
    signed_up = register(client, authenticator, "alice")
    assert signed_up.status_code == 201
    token = {"Authorization": f"Bearer {signed_up.json()['access_token']}"}
    options = client.post(REGISTER_OPTIONS, {}, format="json", headers=token)
    assert options.status_code == 200
    credential = authenticator.create(options.json())
    alice = User.objects.get(username="alice")
    answers: list[Any] = []

    interleave(
        first=lambda: delete_users(lambda: [alice.pk], alice.delete),
        second=lambda: answers.append(
            APIClient().post(REGISTER_VERIFY, credential, format="json", headers=token)
        ),
    )

    (added,) = answers
    assert (added.status_code, added.json()["code"]) == (409, "conflict")
    assert not Passkey.objects.exists()
