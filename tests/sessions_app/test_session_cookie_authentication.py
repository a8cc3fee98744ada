"""A browser session cookie as the front end and an attacker see it."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from authcore.models import AuditEvent, User
from authcore.store import shared_store
from sessions_app.app_settings import SESSION_COOKIE
from sessions_app.services import open_session
from tests.leaks import assert_absent
from tests.sessions_app.conftest import BROWSER_UA, open_browser_session

pytestmark = pytest.mark.django_db


def test_me_shows_the_signed_in_user_and_a_csrf_token(browser):
    response = browser.client.get("/auth/web/me")
    assert response.status_code == 200
    body = response.json()
    assert body["authenticated"] is True
    assert body["user"] == {
        "id": str(browser.user.pk),
        "username": "ada",
        "display_name": "Ada Lovelace",
        "email": "ada@example.test",
    }
    timestamp, _, mac = body["csrf_token"].partition(":")
    assert timestamp.isdigit() and len(mac) >= 43
    assert body["expires_at"]


def test_me_without_a_cookie_is_401_no_session_found(api_client):
    response = api_client.get("/auth/web/me")
    assert response.status_code == 401
    assert response.json() == {"detail": "No session found", "code": "session_not_found"}


def test_an_unknown_session_id_is_401_no_session_found(api_client):
    api_client.cookies[SESSION_COOKIE] = "x" * 43
    response = api_client.get("/auth/web/me", HTTP_USER_AGENT=BROWSER_UA)
    assert response.status_code == 401
    assert response.json()["detail"] == "No session found"


def test_the_session_cookie_is_httponly_lax_and_not_secure_outside_production(user):
    request = RequestFactory().get("/", HTTP_USER_AGENT=BROWSER_UA)
    response = HttpResponse()
    open_session(request=request, response=response, user=user)
    cookie = response.cookies[SESSION_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert not cookie["secure"]
    assert int(cookie["max-age"]) == 3600


def test_the_session_cookie_is_secure_in_production(user, settings):
    settings.IS_PRODUCTION = True
    request = RequestFactory().get("/", HTTP_USER_AGENT=BROWSER_UA)
    response = HttpResponse()
    open_session(request=request, response=response, user=user)
    assert response.cookies[SESSION_COOKIE]["secure"] is True


def test_the_raw_session_id_is_stored_nowhere(browser):
    store = shared_store()
    client = store.redis
    if client is None:
        pytest.skip("needs Redis to inspect what it stores")
    scanned = 0
    for key in client.scan_iter(match=f"{store.prefix}:*"):
        value = client.get(key)
        assert isinstance(value, bytes | None)
        assert_absent(key + b" " + (value or b""), "Redis", session_id=browser.session_id)
        scanned += 1
    assert scanned > 0  # the session itself is one of them
    stored_raw = User.objects.filter(browser_sessions__key_hash=browser.session_id).exists()
    assert not stored_raw


def test_a_cookie_replayed_with_another_user_agent_ends_the_session(browser):
    thief = browser.client.get("/auth/web/me", HTTP_USER_AGENT="curl/8.0")
    assert thief.status_code == 401
    assert thief.json()["detail"] == "No session found"
    # The session is over for its owner too, and the event is in the audit trail.
    assert browser.client.get("/auth/web/me").status_code == 401
    assert AuditEvent.objects.filter(
        action="session.ended", outcome="fingerprint_mismatch"
    ).exists()


def test_a_cookie_replayed_from_another_address_ends_the_session(browser):
    response = browser.client.get("/auth/web/me", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 401
    assert browser.client.get("/auth/web/me").status_code == 401


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_changes_nothing(browser):
    response = browser.client.get("/auth/web/me", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == 200


def test_deleting_the_user_ends_their_session(browser):
    browser.user.delete()
    assert browser.client.get("/auth/web/me").status_code == 401


def test_a_deactivated_user_has_no_session(browser):
    browser.user.is_active = False
    browser.user.save()
    assert browser.client.get("/auth/web/me").status_code == 401


def test_sessions_live_in_the_memory_fallback_while_redis_is_down(user, settings, restart_store):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    browser = open_browser_session(user)
    assert shared_store().using_redis is False
    response = browser.client.get("/auth/web/me")
    assert response.status_code == 200
    assert response.json()["user"]["username"] == "ada"
