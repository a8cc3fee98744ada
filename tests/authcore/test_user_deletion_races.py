"""Staff delete a user while that user signs in, or gets a token, on another instance.

Deleting a user removes what refers to it (sessions, tokens, passkeys, memberships), then the
user. A sign-in that commits a new session (or token) in between used to make the deletion
fail at its commit with a foreign-key violation: staff saw a server error page. Each
interleaving is forced with PostgreSQL itself (a row held locked on another connection);
nothing of ours is patched.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from authcore.integrity import DELETE_ATTEMPTS, delete_whole
from authcore.middleware.errors import exception_response
from authcore.models import User
from sessions_app.app_settings import SESSION_COOKIE
from sessions_app.models import BrowserSession, OidcIdentity
from sessions_app.services import open_session
from tests.db_locks import on_its_own_connection, wait_until_blocked
from tokens.models import TokenRecord
from tokens.services import issue_token

pytestmark = pytest.mark.django_db(transaction=True)

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AuthcoreTest/1.0"


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser(username="root", password="pw-long-enough-1"))
    return client


@pytest.fixture
def ada() -> User:
    user = User.objects.create_user(username="ada", email="ada@example.test")
    # Deleted after the user's sessions (and after the deletion listed the user's tokens),
    # before the user: the test holds this row so the deletion waits right there, with the
    # window open.
    OidcIdentity.objects.create(
        user=user, issuer="https://idp.example.test", subject="ada", provider="test"
    )
    return user


def _sign_in(user: User) -> str:
    """A browser session opened through the public service (as every sign-in does)."""
    request = RequestFactory().post(
        "/api/auth/passkey/login/verify", HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="127.0.0.1"
    )
    response = HttpResponse()
    open_session(request=request, response=response, user=user)
    return str(response.cookies[SESSION_COOKIE].value)


def _get_a_token(user: User) -> str:
    return issue_token(user=user, kind="client", client_id="c1").raw


def _session_answers(session_id: str) -> int:
    client = APIClient(HTTP_USER_AGENT=BROWSER_UA)
    client.cookies[SESSION_COOKIE] = session_id
    return int(client.get("/auth/web/me").status_code)


def _token_answers(token: str) -> int:
    return int(APIClient().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code)


def _signs_in_during(delete: Callable[[], Any], user: User, sign_in: Callable[[User], str]):
    """Start ``delete`` (a staff request), hold it at the user's identity row (the step after
    their sessions are deleted), let ``user`` sign in meanwhile on another connection, then
    let the deletion finish. Returns the deletion's answer and the sign-in's credential."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        with transaction.atomic():
            list(OidcIdentity.objects.filter(user=user).select_for_update().values_list("pk"))
            deletion = pool.submit(on_its_own_connection, delete)
            assert wait_until_blocked(1), "the deletion never reached the held row"
            # Meanwhile, on another instance: the user signs in (committed before the deletion).
            credential = pool.submit(on_its_own_connection, lambda: sign_in(user)).result(30)
        return deletion.result(timeout=30), credential


@pytest.mark.parametrize(
    ("sign_in", "answers"),
    [(_sign_in, _session_answers), (_get_a_token, _token_answers)],
    ids=["session", "token"],
)
def test_a_sign_in_committed_while_staff_delete_the_user_leaves_nothing_behind(
    staff: Client,
    ada: User,
    sign_in: Callable[[User], str],
    answers: Callable[[str], int],
) -> None:
    def delete_ada() -> Any:
        return staff.post(f"/admin/authcore/user/{ada.pk}/delete/", {"post": "yes"})

    deleted, credential = _signs_in_during(delete_ada, ada, sign_in)

    assert deleted.status_code == 302  # back to the user list, not a server error
    assert not User.objects.filter(pk=ada.pk).exists()
    assert not BrowserSession.objects.filter(user_id=ada.pk).exists()
    assert not TokenRecord.objects.filter(user_id=ada.pk).exists()
    after = answers(credential)
    assert after == 401


def test_staff_deleting_several_users_while_one_signs_in_deletes_them_all(
    staff: Client, ada: User
) -> None:
    grace = User.objects.create_user(username="grace", email="grace@example.test")

    def delete_both() -> Any:
        return staff.post(
            "/admin/authcore/user/",
            {
                "action": "delete_selected",
                "_selected_action": [str(ada.pk), str(grace.pk)],
                "post": "yes",
            },
        )

    deleted, session_id = _signs_in_during(delete_both, ada, _sign_in)

    assert deleted.status_code == 302
    assert not User.objects.filter(pk__in=[ada.pk, grace.pk]).exists()
    after = _session_answers(session_id)
    assert after == 401


def test_a_deletion_that_keeps_losing_the_race_gives_up_after_three_attempts_whole(
    ada: User,
) -> None:
    """Each attempt here leaves a session pointing at the deleted user, as three sign-ins in
    a row would: the third failure is raised and nothing was deleted."""
    attempts = []

    def delete_and_dangle() -> None:
        attempts.append(1)
        User.objects.get(pk=ada.pk).delete()
        BrowserSession.objects.create(
            key_hash=f"{len(attempts):064x}",
            user_id=ada.pk,
            method="passkey",
            created_at=timezone.now(),
            expires_at=timezone.now() + timedelta(hours=1),
        )

    with pytest.raises(IntegrityError):
        delete_whole(delete_and_dangle, what="users")
    assert len(attempts) == DELETE_ATTEMPTS
    assert User.objects.filter(pk=ada.pk).exists()
    assert OidcIdentity.objects.filter(user=ada).exists()


def test_a_deletion_failing_another_check_is_not_run_again(ada: User) -> None:
    attempts = []

    def delete_and_collide() -> None:
        attempts.append(1)
        User.objects.get(pk=ada.pk).delete()
        User.objects.create_user(username="grace")
        User.objects.create_user(username="grace")  # unique: no retry can pass this

    with pytest.raises(IntegrityError):
        delete_whole(delete_and_collide, what="users")
    assert len(attempts) == 1
    assert User.objects.filter(pk=ada.pk).exists()


def _a_real_foreign_key_violation() -> IntegrityError:
    try:
        with transaction.atomic():
            BrowserSession.objects.create(
                key_hash="e" * 64,
                user_id="00000000-0000-0000-0000-000000000000",
                method="passkey",
                created_at=timezone.now(),
                expires_at=timezone.now(),
            )
    except IntegrityError as error:
        return error
    raise AssertionError("the database took a session of nobody")


def test_staff_pages_keep_djangos_error_page_for_a_deleted_reference() -> None:
    """The API answers a 409 JSON body; the admin's HTML pages are left to Django (its error
    page, its log), where a JSON body would be out of place."""
    error = _a_real_foreign_key_violation()
    api = exception_response(RequestFactory().post("/api/tokens"), error)
    assert api is not None and api.status_code == 409
    assert json.loads(api.content)["code"] == "conflict"
    staff_page = exception_response(RequestFactory().post("/admin/authcore/user/1/delete/"), error)
    assert staff_page is None
