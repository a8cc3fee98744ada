"""A user sees and ends their own browser sessions; staff end anyone's from the admin."""

from __future__ import annotations

import pytest

from authcore.models import User
from tests.sessions_app.conftest import open_browser_session

pytestmark = pytest.mark.django_db


def test_a_user_lists_their_sessions_with_the_current_one_marked(browser):
    other = open_browser_session(browser.user, user_agent="Mozilla/5.0 Laptop/2.0")
    response = browser.client.get("/auth/web/sessions")
    assert response.status_code == 200
    sessions = response.json()
    assert len(sessions) == 2
    assert sorted(s["current"] for s in sessions) == [False, True]
    assert {s["user_agent"] for s in sessions} == {
        "Mozilla/5.0 (X11; Linux x86_64) AuthcoreTest/1.0",
        "Mozilla/5.0 Laptop/2.0",
    }
    assert other.session_id not in response.content.decode()


def test_a_user_ends_another_of_their_sessions(browser):
    laptop = open_browser_session(browser.user, user_agent="Mozilla/5.0 Laptop/2.0")
    sessions = browser.client.get("/auth/web/sessions").json()
    target = next(s["id"] for s in sessions if not s["current"])
    response = browser.client.delete(
        f"/auth/web/sessions/{target}",
        HTTP_X_CSRF_TOKEN=browser.csrf_token(),
        HTTP_ORIGIN=browser.origin,
    )
    assert response.status_code == 204
    assert laptop.client.get("/auth/web/me").status_code == 401
    assert browser.client.get("/auth/web/me").status_code == 200


def test_ending_a_session_with_a_cookie_needs_the_csrf_token(browser):
    target = browser.client.get("/auth/web/sessions").json()[0]["id"]
    response = browser.client.delete(f"/auth/web/sessions/{target}", HTTP_ORIGIN=browser.origin)
    assert response.status_code == 403
    assert response.json()["detail"] == "Missing CSRF token header"


def test_another_users_session_is_404(browser):
    eve = User.objects.create_user(username="eve")
    eves = open_browser_session(eve, user_agent="Mozilla/5.0 Eve/1.0")
    target = eves.client.get("/auth/web/sessions").json()[0]["id"]
    response = browser.client.delete(
        f"/auth/web/sessions/{target}",
        HTTP_X_CSRF_TOKEN=browser.csrf_token(),
        HTTP_ORIGIN=browser.origin,
    )
    assert response.status_code == 404
    assert eves.client.get("/auth/web/me").status_code == 200


def test_listing_sessions_needs_a_signed_in_caller(api_client):
    assert api_client.get("/auth/web/sessions").status_code == 401


def test_staff_end_a_session_from_the_admin(browser, client):
    staff = User.objects.create_superuser(username="root", password="pw-long-enough-123")
    client.force_login(staff)
    listing = client.get("/admin/sessions_app/browsersession/")
    assert listing.status_code == 200
    assert browser.session_id not in listing.content.decode()
    key = browser.client.get("/auth/web/sessions").json()[0]["id"]
    response = client.post(
        "/admin/sessions_app/browsersession/",
        {"action": "end_sessions", "_selected_action": [key]},
    )
    assert response.status_code == 302
    assert browser.client.get("/auth/web/me").status_code == 401
