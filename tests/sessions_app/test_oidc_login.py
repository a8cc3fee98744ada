"""Signing in through a real OpenID provider, as a browser does, and every refusal on the way."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest

from authcore.models import AuditEvent, User
from sessions_app.models import OidcIdentity
from tests.sessions_app.conftest import provider_entry
from tests.sessions_app.oidc_peer import CLIENT_ID, OidcProviderProcess


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {**_query(url), **changes}
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_login_redirects_to_the_provider_with_state_nonce_and_pkce(web_browser, oidc_provider):
    response = web_browser.start_login()
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(oidc_provider.issuer + "/")
    query = _query(location)
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == web_browser.url("/auth/web/callback")
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 43 and len(query["nonce"]) >= 43
    assert "openid" in query["scope"].split()
    cookie = next(c for c in web_browser.http.cookies if c.name == "auth_session_id")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert "SameSite=Lax" in response.headers["Set-Cookie"]
    assert "Max-Age=600" in response.headers["Set-Cookie"]


def test_two_logins_get_different_state_and_nonce(web_browser):
    first = _query(web_browser.start_login().headers["Location"])
    second = _query(web_browser.start_login().headers["Location"])
    assert first["state"] != second["state"]
    assert first["nonce"] != second["nonce"]
    assert first["code_challenge"] != second["code_challenge"]


def test_a_full_sign_in_opens_a_session_and_lands_on_next(web_browser):
    response = web_browser.sign_in(next_path="/dashboard?tab=keys")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard?tab=keys"
    set_cookie = response.headers["Set-Cookie"]
    assert "user_session_id=" in set_cookie and "HttpOnly" in set_cookie
    assert "SameSite=Lax" in set_cookie and "Path=/" in set_cookie
    me = web_browser.me()
    assert me.status_code == 200
    body = me.json()
    assert body["authenticated"] is True
    assert body["user"]["display_name"] == "Alice Liddell"
    assert body["user"]["email"] == "alice@example.test"
    assert body["csrf_token"] and body["expires_at"]


def test_the_provider_account_is_linked_by_issuer_and_subject(
    web_browser, new_browser, oidc_provider
):
    web_browser.sign_in()
    identity = OidcIdentity.objects.get(issuer=oidc_provider.issuer, subject="alice")
    assert identity.user.email == "alice@example.test"
    # Signing in again finds the same user instead of creating another.
    second = new_browser()
    second.sign_in()
    assert second.me().json()["user"]["id"] == str(identity.user.pk)
    assert User.objects.filter(oidc_identities__subject="alice").count() == 1


def test_an_unverified_email_never_links_to_the_existing_account(web_browser, db):
    ada = User.objects.create_user(username="ada", email="ada@example.test")
    start = web_browser.start_login()
    callback = web_browser.sign_in_at_provider(start.headers["Location"], account="mallory")
    assert web_browser.open(callback).status_code == 302
    me = web_browser.me().json()
    assert me["user"]["id"] != str(ada.pk)
    assert me["user"]["email"] == ""


def test_a_replayed_callback_is_refused(web_browser):
    callback = web_browser.callback_url()
    assert web_browser.open(callback).status_code == 302
    replay = web_browser.open(callback)
    assert replay.status_code == 400
    assert replay.json()["code"] == "login_failed"


def test_a_replayed_callback_with_the_auth_cookie_restored_is_refused(web_browser):
    callback = web_browser.callback_url()
    auth_cookie = web_browser.http.cookies.get("auth_session_id")
    assert web_browser.open(callback).status_code == 302
    web_browser.http.cookies.set("auth_session_id", auth_cookie)
    assert web_browser.open(callback).status_code == 400


def test_a_callback_with_the_wrong_state_is_refused_and_burns_the_login(web_browser):
    callback = web_browser.callback_url()
    response = web_browser.open(_with_query(callback, state="forged-state"))
    assert response.status_code == 400
    assert response.json()["code"] == "login_failed"
    assert web_browser.me().status_code == 401
    # The pending login is gone: the genuine callback cannot be used afterwards either.
    assert web_browser.open(callback).status_code == 400
    assert AuditEvent.objects.filter(action="signin.oidc", outcome="failure").exists()


def test_a_callback_without_the_auth_cookie_is_refused(web_browser):
    callback = web_browser.callback_url()
    web_browser.http.cookies.clear()
    response = web_browser.open(callback)
    assert response.status_code == 400
    assert response.json()["code"] == "login_failed"


def test_a_callback_from_another_browser_is_refused(web_browser, new_browser):
    callback = web_browser.callback_url()
    auth_cookie = web_browser.http.cookies.get("auth_session_id")
    other = new_browser(user_agent="Mozilla/5.0 OtherBrowser/2.0")
    other.http.cookies.set("auth_session_id", auth_cookie)
    response = other.open(callback)
    assert response.status_code == 400
    assert other.me().status_code == 401


def test_a_callback_naming_another_issuer_is_refused(web_browser):
    callback = web_browser.callback_url()
    response = web_browser.open(_with_query(callback, iss="https://evil.example"))
    assert response.status_code == 400


def test_a_provider_error_on_the_callback_is_a_clear_400(web_browser):
    callback = web_browser.callback_url()
    state = _query(callback)["state"]
    url = web_browser.url("/auth/web/callback?") + urlencode(
        {"error": "access_denied", "state": state}
    )
    response = web_browser.open(url)
    assert response.status_code == 400
    assert response.json()["code"] == "provider_error"


def test_an_unknown_provider_is_a_400(web_browser):
    response = web_browser.start_login(provider="nope")
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_provider"


@pytest.mark.parametrize(
    "next_path",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "/%2F%2Fevil.example",
        "%2F%2Fevil.example",
        "/%5Cevil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_open_redirect_attempts_land_on_the_root(web_browser, next_path):
    response = web_browser.sign_in(next_path=next_path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_provider_down_during_login_is_a_clear_502(web_browser, oidc_settings):
    oidc_settings.OIDC_PROVIDERS = [provider_entry("http://127.0.0.1:9", name="down")]
    response = web_browser.start_login(provider="down")
    assert response.status_code == 502
    assert response.json() == {
        "detail": "The OpenID provider is unavailable; try again later.",
        "code": "provider_unavailable",
    }


def test_provider_down_at_the_code_exchange_is_a_clear_502(
    web_browser, oidc_settings, provider_keys, live_server
):
    second = OidcProviderProcess(
        redirect_uri=f"{live_server.url}/auth/web/callback", keys=provider_keys
    )
    try:
        oidc_settings.OIDC_PROVIDERS = [provider_entry(second.issuer, name="flaky")]
        callback = web_browser.callback_url(provider="flaky")
    finally:
        second.stop()
    response = web_browser.open(callback)
    assert response.status_code == 502
    assert response.json()["code"] == "provider_unavailable"


def test_a_new_sign_in_replaces_the_browsers_old_session(web_browser):
    web_browser.sign_in()
    first = web_browser.http.cookies.get("user_session_id")
    web_browser.sign_in()
    assert web_browser.http.cookies.get("user_session_id") != first
    web_browser.http.cookies.set("user_session_id", first)
    assert web_browser.me().status_code == 401


def test_two_simultaneous_callbacks_open_one_session(web_browser, new_browser):
    """The pending login is consumed atomically: a raced replay loses."""
    callback = web_browser.callback_url()
    racers = [new_browser() for _ in range(2)]
    for racer in racers:
        racer.http.cookies.update(web_browser.http.cookies)
    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(lambda racer: racer.open(callback).status_code, racers))
    assert statuses == [302, 400]
