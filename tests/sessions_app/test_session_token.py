"""``POST /auth/web/token``: a short-lived Authcore token for the session's user (for Privy)."""

from __future__ import annotations

import jwt
import pytest

from tests.leaks import outcome

pytestmark = pytest.mark.django_db


def test_a_session_buys_a_token_that_opens_api_me(browser, settings):
    response = browser.post("/auth/web/token", token=browser.csrf_token())
    assert response.status_code == 200, outcome(response)
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.PASSKEY_TOKEN_TTL
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == str(browser.user.pk)
    assert claims["aud"] == settings.APP_ID
    assert claims["exp"] - claims["iat"] == settings.PASSKEY_TOKEN_TTL
    me = browser.client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert me.status_code == 200
    assert me.json()["id"] == str(browser.user.pk)


def test_the_token_lifetime_follows_passkey_token_ttl(browser, settings):
    settings.PASSKEY_TOKEN_TTL = 120
    response = browser.post("/auth/web/token", token=browser.csrf_token())
    assert response.json()["expires_in"] == 120


def test_no_token_without_the_csrf_header(browser):
    response = browser.post("/auth/web/token")
    assert response.status_code == 403
    assert response.json()["detail"] == "Missing CSRF token header"


def test_no_token_without_a_session(api_client, settings):
    response = api_client.post("/auth/web/token", HTTP_ORIGIN=settings.API_ORIGIN)
    assert response.status_code == 401
    assert response.json()["detail"] == "No session found"


def test_the_session_cookie_also_opens_api_me(browser):
    response = browser.client.get("/api/me")
    assert response.status_code == 200
    assert response.json()["id"] == str(browser.user.pk)
