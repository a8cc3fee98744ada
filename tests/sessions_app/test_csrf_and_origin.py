"""State-changing requests with a session cookie need a CSRF token and an allowed Origin."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessions_app.csrf import csrf_token_valid, make_csrf_token
from sessions_app.selectors import session_by_id
from tests.leaks import outcome
from tests.sessions_app.conftest import open_browser_session

pytestmark = pytest.mark.django_db

FOREIGN = "https://evil.example"


def _refused(response, detail: str) -> None:
    assert response.status_code == 403, outcome(response)
    assert response.json()["detail"] == detail


def test_logout_without_a_csrf_header_is_refused(browser):
    _refused(browser.post("/auth/web/logout"), "Missing CSRF token header")
    assert browser.client.get("/auth/web/me").status_code == 200


def test_a_forged_csrf_token_is_refused(browser):
    forged = f"{int(time.time())}:{'A' * 43}"
    _refused(browser.post("/auth/web/logout", token=forged), "Invalid CSRF token")


def test_garbage_in_the_csrf_header_is_refused(browser):
    for garbage in ("nonsense", ":", "12:", "-5:abc", "١٢٣:abc", "9" * 40 + ":x"):
        _refused(browser.post("/auth/web/logout", token=garbage), "Invalid CSRF token")


def test_a_csrf_token_older_than_twelve_hours_is_refused(browser):
    session = session_by_id(browser.session_id)
    assert session is not None
    old = make_csrf_token(
        session_id=browser.session_id,
        csrf_secret=session.csrf_secret,
        issued_at=int(time.time()) - 12 * 3600 - 5,
    )
    _refused(browser.post("/auth/web/logout", token=old), "Invalid CSRF token")


def test_the_csrf_token_of_another_session_is_refused(browser):
    other = open_browser_session(browser.user)
    _refused(browser.post("/auth/web/logout", token=other.csrf_token()), "Invalid CSRF token")


def test_a_foreign_origin_is_refused_even_with_a_valid_token(browser):
    token = browser.csrf_token()
    response = browser.post("/auth/web/logout", token=token, HTTP_ORIGIN=FOREIGN)
    _refused(response, "Origin not allowed")


def test_an_opaque_null_origin_is_refused(browser):
    token = browser.csrf_token()
    _refused(
        browser.post("/auth/web/logout", token=token, HTTP_ORIGIN="null"), "Origin not allowed"
    )


def test_neither_origin_nor_referer_is_refused(browser):
    token = browser.csrf_token()
    response = browser.client.post("/auth/web/logout", HTTP_X_CSRF_TOKEN=token)
    _refused(response, "Origin not allowed")


def test_a_referer_from_an_allowed_origin_stands_in_for_origin(browser):
    token = browser.csrf_token()
    response = browser.client.post(
        "/auth/web/logout",
        HTTP_X_CSRF_TOKEN=token,
        HTTP_REFERER=f"{browser.origin}/account/settings?tab=1",
    )
    assert response.status_code == 204


def test_a_referer_from_a_foreign_site_is_refused(browser):
    token = browser.csrf_token()
    response = browser.client.post(
        "/auth/web/logout", HTTP_X_CSRF_TOKEN=token, HTTP_REFERER=f"{FOREIGN}/page"
    )
    _refused(response, "Origin not allowed")


def test_a_lookalike_origin_is_refused(browser):
    token = browser.csrf_token()
    for origin in (f"{browser.origin}.evil.example", f"{browser.origin}@evil.example"):
        _refused(
            browser.post("/auth/web/logout", token=token, HTTP_ORIGIN=origin), "Origin not allowed"
        )


def test_the_services_own_origin_is_always_allowed(browser, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    token = browser.csrf_token()
    answered = browser.post("/auth/web/logout", token=token).status_code
    assert answered == 204


def test_a_listed_cors_origin_is_allowed(browser, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    token = browser.csrf_token()
    response = browser.post("/auth/web/logout", token=token, HTTP_ORIGIN="https://app.example")
    assert response.status_code == 204


def test_logout_ends_the_session_and_clears_the_cookies(browser):
    response = browser.post("/auth/web/logout", token=browser.csrf_token())
    assert response.status_code == 204
    assert response.cookies["user_session_id"].value == ""
    assert response.cookies["user_session_id"]["max-age"] == 0
    assert browser.client.get("/auth/web/me").status_code == 401


def test_refresh_gives_a_new_id_and_token_and_kills_the_old_ones(browser):
    old_id, old_token = browser.session_id, browser.csrf_token()
    response = browser.post("/auth/web/refresh", token=old_token)
    assert response.status_code == 200
    body = response.json()
    new_id = response.cookies["user_session_id"].value
    assert new_id and new_id != old_id
    assert body["csrf_token"] != old_token and body["expires_at"]
    # The client now holds the new cookie: the new token works, the old one does not.
    _refused(browser.post("/auth/web/refresh", token=old_token), "Invalid CSRF token")
    assert browser.client.get("/auth/web/me").status_code == 200
    # And the old cookie opens nothing any more.
    browser.client.cookies["user_session_id"] = old_id
    assert browser.client.get("/auth/web/me").status_code == 401


def test_csrf_checks_hold_in_every_environment(browser, settings):
    settings.APP_ENVIRONMENT = "development"
    settings.IS_DEVELOPMENT = True
    _refused(browser.post("/auth/web/logout"), "Missing CSRF token header")


@given(st.text(max_size=80))
def test_no_string_but_a_minted_token_passes(presented):
    assert not csrf_token_valid(token=presented, session_id="session-a", csrf_secret="secret-a")


def test_a_minted_token_passes_only_for_its_own_session():
    token = make_csrf_token(session_id="session-a", csrf_secret="secret-a")
    assert csrf_token_valid(token=token, session_id="session-a", csrf_secret="secret-a")
    assert not csrf_token_valid(token=token, session_id="session-b", csrf_secret="secret-a")
    assert not csrf_token_valid(token=token, session_id="session-a", csrf_secret="secret-b")
