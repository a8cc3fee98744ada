"""A refresh never brings back a session that was ended meanwhile, and never forks one.

A refresh request authenticates with its session, then replaces it. Whatever ends the session
in between (logout in another tab, staff, the user on another device, a replayed cookie, or
another tab's refresh) wins: the refresh is 401 ``No session found`` and leaves nothing behind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from authcore.models import AuditEvent
from authcore.store import shared_store
from sessions_app.app_settings import SESSION_COOKIE
from sessions_app.exceptions import NoSession
from sessions_app.internal.session_store import key_hash
from sessions_app.models import BrowserSession
from sessions_app.selectors import session_by_id, sessions_of_user
from sessions_app.services import refresh_session
from tests.db_locks import on_its_own_connection, wait_until_blocked
from tests.sessions_app.conftest import BROWSER_UA, Browser, open_browser_session


def _refresh_request() -> Any:
    return RequestFactory().post(
        "/auth/web/refresh", HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="127.0.0.1"
    )


def _current_key(browser: Browser) -> str:
    sessions = browser.client.get("/auth/web/sessions").json()
    return str(next(s["id"] for s in sessions if s["current"]))


def _me_with_cookie(response_or_id: Any) -> int:
    """The status of ``/auth/web/me`` with this session cookie (a response's, or an id).

    Tests assert on the status only, so a failing assertion never prints a session id.
    """
    if isinstance(response_or_id, str):
        session_id = response_or_id
    else:
        session_id = response_or_id.cookies[SESSION_COOKIE].value
    client = APIClient(HTTP_USER_AGENT=BROWSER_UA)
    client.cookies[SESSION_COOKIE] = session_id
    return int(client.get("/auth/web/me").status_code)


def _stored_sessions() -> set[bytes]:
    """Keys of every browser session in the shared store (Redis)."""
    store = shared_store()
    if store.redis is None:
        pytest.skip("needs Redis to see what the store holds")
    return set(store.redis.scan_iter(match=store.key("user:*")))


# Ways a session ends while a refresh of it is in flight.


def _logout(browser: Browser, staff: Client) -> None:
    answered = browser.post("/auth/web/logout", token=browser.csrf_token()).status_code
    assert answered == 204


def _ended_on_another_device(browser: Browser, staff: Client) -> None:
    key = _current_key(browser)
    laptop = open_browser_session(browser.user, user_agent="Mozilla/5.0 Laptop/2.0")
    response = laptop.client.delete(
        f"/auth/web/sessions/{key}",
        HTTP_X_CSRF_TOKEN=laptop.csrf_token(),
        HTTP_ORIGIN=laptop.origin,
    )
    assert response.status_code == 204


def _ended_by_staff(browser: Browser, staff: Client) -> None:
    key = _current_key(browser)
    response = staff.post(
        "/admin/sessions_app/browsersession/",
        {"action": "end_sessions", "_selected_action": [key]},
    )
    assert response.status_code == 302


def _all_ended_by_staff(browser: Browser, staff: Client) -> None:
    response = staff.post(
        "/admin/authcore/user/",
        {"action": "end_all_sessions", "_selected_action": [str(browser.user.pk)]},
    )
    assert response.status_code == 302


def _replayed_from_another_browser(browser: Browser, staff: Client) -> None:
    assert browser.client.get("/auth/web/me", HTTP_USER_AGENT="curl/8.0").status_code == 401


def _refreshed_in_another_tab(browser: Browser, staff: Client) -> None:
    answered = browser.post("/auth/web/refresh", token=browser.csrf_token()).status_code
    assert answered == 200


@pytest.mark.parametrize(
    "end",
    [
        _logout,
        _ended_on_another_device,
        _ended_by_staff,
        _all_ended_by_staff,
        _replayed_from_another_browser,
        _refreshed_in_another_tab,
    ],
)
def test_a_refresh_of_a_session_ended_meanwhile_is_refused_and_leaves_nothing(
    browser: Browser, staff: Client, end: Callable[[Browser, Client], None]
) -> None:
    stale = session_by_id(browser.session_id)  # what the refresh request authenticated with
    assert stale is not None
    end(browser, staff)
    live = set(sessions_of_user(user=browser.user).values_list("key_hash", flat=True))
    stored = _stored_sessions()
    response = HttpResponse()
    with pytest.raises(NoSession):
        refresh_session(request=_refresh_request(), response=response, session=stale)
    assert SESSION_COOKIE not in list(response.cookies)
    assert set(sessions_of_user(user=browser.user).values_list("key_hash", flat=True)) == live
    assert _stored_sessions() <= stored
    old_cookie = _me_with_cookie(browser.session_id)
    assert old_cookie == 401


def test_two_tabs_refreshing_at_once_leave_one_live_session(
    transactional_db: Any, browser: Browser
) -> None:
    token = browser.csrf_token()
    start = threading.Barrier(2)

    def refresh() -> Any:
        tab = APIClient(HTTP_USER_AGENT=BROWSER_UA)
        tab.cookies[SESSION_COOKIE] = browser.session_id
        start.wait(timeout=10)
        return tab.post("/auth/web/refresh", HTTP_X_CSRF_TOKEN=token, HTTP_ORIGIN=browser.origin)

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = [pool.submit(on_its_own_connection, refresh) for _ in range(2)]
        statuses = sorted(future.result(timeout=30).status_code for future in responses)
    assert statuses == [200, 401]
    winner = next(f.result() for f in responses if f.result().status_code == 200)
    assert sessions_of_user(user=browser.user).count() == 1
    new_cookie = _me_with_cookie(winner)
    assert new_cookie == 200
    old_cookie = _me_with_cookie(browser.session_id)
    assert old_cookie == 401


def _refresher(browser: Browser) -> Callable[[], Any]:
    """``POST /auth/web/refresh`` from ``browser`` (its cookie, a CSRF token made now)."""
    token = browser.csrf_token()

    def refresh() -> Any:
        return browser.client.post(
            "/auth/web/refresh", HTTP_X_CSRF_TOKEN=token, HTTP_ORIGIN=browser.origin
        )

    return refresh


def _queued_behind(rows: Any, *requests: Callable[[], Any]) -> list[Any]:
    """Hold ``rows`` locked while ``requests`` reach the database and wait there, queued in
    that order (each sent once the one before it waits); then release them together and
    return their responses."""
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        futures = []
        with transaction.atomic():
            list(rows.select_for_update().values_list("pk", flat=True))
            for waiting, request in enumerate(requests, start=1):
                futures.append(pool.submit(on_its_own_connection, request))
                assert wait_until_blocked(waiting), (
                    "the requests never reached the database together"
                )
        return [future.result(timeout=30) for future in futures]


def test_staff_ending_every_session_of_the_user_beats_a_refresh_in_flight(
    transactional_db: Any, browser: Browser, staff: Client
) -> None:
    def end_all() -> Any:
        return staff.post(
            "/admin/authcore/user/",
            {"action": "end_all_sessions", "_selected_action": [str(browser.user.pk)]},
        )

    session_row = BrowserSession.objects.filter(key_hash=_current_key(browser))
    refreshed, ended = _queued_behind(session_row, _refresher(browser), end_all)
    assert ended.status_code == 302
    assert refreshed.status_code in (200, 401)
    assert not BrowserSession.objects.filter(user=browser.user).exists()
    if refreshed.status_code == 200:  # it finished first: staff ended its successor too
        new_cookie = _me_with_cookie(refreshed)
        assert new_cookie == 401
    old_cookie = _me_with_cookie(browser.session_id)
    assert old_cookie == 401


def test_a_logout_queued_behind_a_refresh_of_its_session_ends_the_successor(
    transactional_db: Any, browser: Browser
) -> None:
    token = browser.csrf_token()

    def logout() -> Any:
        tab = APIClient(HTTP_USER_AGENT=BROWSER_UA)
        tab.cookies[SESSION_COOKIE] = browser.session_id
        return tab.post("/auth/web/logout", HTTP_X_CSRF_TOKEN=token, HTTP_ORIGIN=browser.origin)

    # The session's row held: the refresh waits for it first, the logout behind it.
    old_key = _current_key(browser)
    session_row = BrowserSession.objects.filter(key_hash=old_key)
    refreshed, logged_out = _queued_behind(session_row, _refresher(browser), logout)
    assert refreshed.status_code == 200  # it went first: the session became its successor
    assert logged_out.status_code == 204
    new_cookie = _me_with_cookie(refreshed)
    assert new_cookie == 401
    old_cookie = _me_with_cookie(browser.session_id)
    assert old_cookie == 401
    assert not BrowserSession.objects.filter(user=browser.user).exists()
    # The audit trail has the successor's end too, naming the session it replaced.
    successor = key_hash(refreshed.cookies[SESSION_COOKIE].value)
    ended = AuditEvent.objects.get(action="session.ended", target=f"session:{successor[:12]}")
    assert ended.detail == {"reason": "logout", "replaced": old_key[:12]}


def test_staff_deleting_a_user_while_a_refresh_of_theirs_waits_is_no_deadlock(
    transactional_db: Any, browser: Browser, staff: Client
) -> None:
    user_model = type(browser.user)

    def delete_user() -> Any:
        return staff.post(f"/admin/authcore/user/{browser.user.pk}/delete/", {"post": "yes"})

    # The user's row held: the refresh queues for it first, the deletion behind it. Were the
    # deletion to take the session rows before the user's (Django's order of deletion), each
    # would wait for the other and PostgreSQL would fail one.
    user_row = user_model.objects.filter(pk=browser.user.pk)
    refreshed, deleted = _queued_behind(user_row, _refresher(browser), delete_user)
    assert deleted.status_code == 302
    assert refreshed.status_code == 200  # it went first; the deletion then ended its successor
    assert not user_model.objects.filter(pk=browser.user.pk).exists()
    assert not BrowserSession.objects.exists()
    new_cookie = _me_with_cookie(refreshed)
    assert new_cookie == 401


def test_an_instance_still_on_the_previous_release_can_open_sessions(db: Any, browser: Browser):
    """A rolling deploy: the migration has run, an instance not yet upgraded inserts session
    rows without the ``replaces`` column; the database fills it in."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sessions_app_browsersession"
            " (key_hash, user_id, method, created_at, expires_at, user_agent)"
            " VALUES (%s, %s, 'passkey', now(), now() + interval '1 hour', '')",
            ["f" * 64, browser.user.pk],
        )
    assert BrowserSession.objects.get(key_hash="f" * 64).replaces == ""
