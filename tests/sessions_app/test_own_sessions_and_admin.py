"""A user sees and ends their own browser sessions; staff end anyone's from the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from authcore.models import User
from sessions_app.models import OidcIdentity
from tests.leaks import assert_absent
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
    assert_absent(response.content, "the session list", session_id=other.session_id)


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
    assert_absent(listing.content, "the session list", session_id=browser.session_id)
    key = browser.client.get("/auth/web/sessions").json()[0]["id"]
    response = client.post(
        "/admin/sessions_app/browsersession/",
        {"action": "end_sessions", "_selected_action": [key]},
    )
    assert response.status_code == 302
    assert browser.client.get("/auth/web/me").status_code == 401


@pytest.mark.parametrize(
    "session_id",
    ["%00", "%00" * 64, "0" * 63 + "%00", "0" * 65, "A" * 64, "x" * 2000, "%C3%A9", "%F0%9F%94%91"],
)
def test_an_id_that_cannot_be_a_session_id_is_404_never_500(browser, session_id):
    browser.client.raise_request_exception = False
    response = browser.client.delete(
        f"/auth/web/sessions/{session_id}",
        HTTP_X_CSRF_TOKEN=browser.csrf_token(),
        HTTP_ORIGIN=browser.origin,
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "No such session.", "code": "session_not_found"}
    assert browser.client.get("/auth/web/me").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/admin/sessions_app/browsersession/%00/change/",
        "/admin/sessions_app/browsersession/%00/history/",
        "/admin/sessions_app/browsersession/%00/delete/",
        "/admin/sessions_app/browsersession/?method=%00",
        "/admin/sessions_app/browsersession/?client_ip=%00",
        "/admin/sessions_app/browsersession/?client_ip=not-an-address",
        "/admin/sessions_app/oidcidentity/%00/change/",
        "/admin/sessions_app/oidcidentity/?provider__exact=%00",
    ],
)
def test_hostile_ids_and_filters_on_admin_pages_are_not_found_never_500(staff, path):
    staff.raise_request_exception = False
    response = staff.get(path)
    # The admin's own answers: "does not exist" (back to the index) or "?e=1" (bad filter).
    assert response.status_code == 302


def test_ending_a_session_with_a_hostile_id_from_the_admin_is_not_a_500(browser, staff):
    staff.raise_request_exception = False
    response = staff.post(
        "/admin/sessions_app/browsersession/",
        {"action": "end_sessions", "_selected_action": ["\x00"]},
    )
    assert response.status_code == 302
    assert browser.client.get("/auth/web/me").status_code == 200


@pytest.fixture
def bobs_identity():
    bob = User.objects.create_user(username="bob")
    return OidcIdentity.objects.create(
        user=bob, issuer="https://idp.test", subject="b", provider="idp"
    )


def _clerk(*permissions: str) -> Client:
    clerk = User.objects.create_user(username="clerk", is_staff=True)
    clerk.user_permissions.set(Permission.objects.filter(codename__in=permissions))
    client = Client()
    client.force_login(clerk)
    return client


@pytest.mark.parametrize("admin", ["clerk", "superuser"])
def test_nobody_can_move_an_oidc_identity_to_another_user(bobs_identity, staff, admin):
    root = User.objects.get(username="root")
    browser = staff if admin == "superuser" else _clerk("view_oidcidentity", "change_oidcidentity")
    url = f"/admin/sessions_app/oidcidentity/{bobs_identity.pk}/change/"
    page = browser.get(url)
    assert page.status_code == 200  # still readable
    assert 'name="user"' not in page.content.decode()
    response = browser.post(url, {"user": str(root.pk)})
    assert response.status_code == 403
    bobs_identity.refresh_from_db()
    assert bobs_identity.user.username == "bob"


def test_nobody_can_add_an_oidc_identity_by_hand(staff):
    clerk = _clerk("view_oidcidentity", "add_oidcidentity")
    for browser in (clerk, staff):
        assert browser.get("/admin/sessions_app/oidcidentity/add/").status_code == 403
        response = browser.post(
            "/admin/sessions_app/oidcidentity/add/",
            {"user": str(User.objects.get(username="root").pk), "issuer": "x", "subject": "y"},
        )
        assert response.status_code == 403
    assert not OidcIdentity.objects.exists()


def test_browser_sessions_cannot_be_changed_or_added_in_the_admin(browser, staff):
    key = browser.client.get("/auth/web/sessions").json()[0]["id"]
    url = f"/admin/sessions_app/browsersession/{key}/change/"
    assert 'name="user"' not in staff.get(url).content.decode()
    assert staff.post(url, {"user": str(User.objects.get(username="root").pk)}).status_code == 403
    assert staff.get("/admin/sessions_app/browsersession/add/").status_code == 403
    assert browser.client.get("/auth/web/me").json()["user"]["username"] == "ada"
