"""Django's session, CSRF, authentication and messages middleware run for the admin only
(authcore.middleware.admin): staff still sign in, are still CSRF-protected and still see the
admin's messages, while API responses set no admin cookie and pay for none of it."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from authcore.models import User
from clients.models import Client as ClientModel

pytestmark = pytest.mark.django_db

PASSWORD = "staff-password-for-the-middleware-tests-0123456789"
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def root() -> User:
    return User.objects.create_superuser(
        username="root", email="root@example.test", password=PASSWORD
    )


def form_token(page) -> str:
    match = CSRF_FIELD.search(page.content)
    assert match, page.content[:300]
    return match.group(1).decode()


def test_staff_sign_in_through_the_login_form_with_its_csrf_token(root):
    browser = Client(enforce_csrf_checks=True)
    form = browser.get("/admin/login/")
    assert form.status_code == 200
    assert "csrftoken" in form.cookies
    signed_in = browser.post(
        "/admin/login/?next=/admin/",
        {"username": "root", "password": PASSWORD, "csrfmiddlewaretoken": form_token(form)},
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"
    assert "sessionid" in signed_in.cookies
    assert browser.get("/admin/").status_code == 200


def test_an_admin_post_without_the_csrf_token_is_refused(root):
    browser = Client(enforce_csrf_checks=True)
    browser.get("/admin/login/")  # the csrftoken cookie is there; the form field is not sent
    refused = browser.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert refused.status_code == 403
    assert "sessionid" not in refused.cookies

    browser.force_login(root)
    added = browser.post(
        "/admin/authcore/user/add/",
        {"username": "mallory", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert added.status_code == 403
    assert not User.objects.filter(username="mallory").exists()


def test_an_admin_post_from_another_origin_is_refused_even_with_the_token(root):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(root)
    page = browser.get("/admin/authcore/user/add/")
    refused = browser.post(
        "/admin/authcore/user/add/",
        {
            "username": "mallory",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "csrfmiddlewaretoken": form_token(page),
        },
        headers={"Origin": "https://evil.example"},
    )
    assert refused.status_code == 403
    assert not User.objects.filter(username="mallory").exists()


def test_staff_see_the_message_an_admin_action_leaves(root):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(root)
    changelist = browser.get("/admin/authcore/user/")
    done = browser.post(
        "/admin/authcore/user/",
        {
            "action": "revoke_all_tokens",
            "_selected_action": [str(root.pk)],
            "index": "0",
            "csrfmiddlewaretoken": form_token(changelist),
        },
        follow=True,
    )
    assert done.status_code == 200
    assert b"Revoked 0 token(s)." in done.content
    # Shown once: the next page no longer carries it.
    assert b"Revoked 0 token(s)." not in browser.get("/admin/authcore/user/").content


@pytest.mark.parametrize("path", ["/healthz", "/api/me", "/no-such-page", "/.well-known/jwks.json"])
def test_api_responses_set_no_session_or_csrf_cookie_even_to_signed_in_staff(root, path):
    browser = Client()
    browser.force_login(root)
    response = browser.get(path)
    assert not set(response.cookies) & {"sessionid", "csrftoken"}
    assert "Cookie" not in response.get("Vary", "")
    assert response["Content-Type"].startswith("application/json")


def test_static_files_are_still_served_and_the_api_does_not_look_for_them(client):
    css = client.get("/static/admin/css/base.css")
    assert css.status_code == 200
    assert b"".join(css.streaming_content)
    assert client.get("/static/no-such-file.css").status_code == 404


def test_browsers_may_keep_static_files_so_admin_pages_do_not_use_up_the_rate_limit(client):
    """A dozen stylesheets and scripts per admin page, each counted against RATE_LIMIT_GLOBAL:
    with no-store on them, staff ran out of ``100/15m`` after a few pages. Static files are
    public documents (API.md: no no-store there), kept ten minutes; the security headers stay."""
    css = client.get("/static/admin/css/base.css")
    assert css.status_code == 200
    assert "no-store" not in css["Cache-Control"]
    assert "public" in css["Cache-Control"]
    assert "max-age=600" in css["Cache-Control"]
    assert "Pragma" not in css
    assert css["X-Content-Type-Options"] == "nosniff"
    assert css["X-Frame-Options"] == "DENY"
    missing = client.get("/static/no-such-file.css")  # Django's 404, not a document
    assert missing.status_code == 404
    assert "no-store" in missing["Cache-Control"]


def test_an_allowed_api_origin_can_neither_read_nor_post_the_admin(root):
    """http://localhost:3000 may call the API with credentials (CORS_ALLOWED_ORIGINS), and it is
    same-site with the admin, so the admin's cookies ride along: the admin must answer it no
    CORS headers (its script cannot read the page, nor its CSRF token) and refuse its posts."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(root)
    web_app = {"Origin": "http://localhost:3000"}

    page = browser.get("/admin/clients/client/add/", headers=web_app)
    posted = browser.post(
        "/admin/clients/client/add/",
        {"name": "x", "csrfmiddlewaretoken": form_token(page)},
        headers=web_app,
    )

    assert page.status_code == 200
    assert "Access-Control-Allow-Origin" not in page
    assert "Access-Control-Allow-Credentials" not in page
    assert posted.status_code == 403
    assert not ClientModel.objects.filter(name="x").exists()
    api = browser.get("/api/me", headers=web_app)  # the API still answers the web app
    assert api["Access-Control-Allow-Origin"] == "http://localhost:3000"
