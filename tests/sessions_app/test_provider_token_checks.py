"""Checks on provider tokens and CSRF tokens that nothing else exercised.

* ID token at sign-in (OIDC Core §3.1.3.7): ``nonce`` equal to the one the login sent (step 11,
  replay of an ID token), ``azp`` when present our ``client_id`` and required with several
  audiences (steps 4-5).
* A provider JWK published with ``alg`` signs only tokens of that algorithm (RFC 7517 §4.4,
  RFC 8725 §3.1): the provider's RSA key is published for RS256, so a token signed RS512 with the
  very same key is refused, at sign-in and as a bearer token on /api/me.
* A CSRF token dated in the future beyond the allowed clock skew is refused.

The provider tokens are signed with the real provider's own keys (the Node provider publishes
them at its jwks_uri), so only the claim or header under test is wrong, and each refusal is
paired with the same token (or its twin) being accepted once that one defect is gone. Failing
asserts show outcomes and status codes only, never a token or a nonce.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest
import requests
from rest_framework.test import APIClient

from sessions_app.csrf import FUTURE_SKEW, make_csrf_token
from sessions_app.exceptions import InvalidIdToken
from sessions_app.oidc.jwt_verification import verify_id_token
from sessions_app.oidc.providers import provider_by_name
from sessions_app.selectors import session_by_id
from tests.sessions_app.conftest import Browser, Mint
from tests.sessions_app.oidc_peer import CLIENT_ID, OidcProviderProcess, SigningKeys

ACCEPTED = "accepted"
REFUSED = "refused"


@pytest.fixture
def sent_nonce() -> str:
    """The nonce the login put in the authorization request (as flow.start_login makes it)."""
    return secrets.token_urlsafe(32)


def _id_token_outcome(raw: str, *, nonce: str) -> str:
    """What the callback's check says of ``raw``: ACCEPTED (claims of "bob") or REFUSED."""
    try:
        claims = verify_id_token(raw, provider=provider_by_name("test"), nonce=nonce)
    except InvalidIdToken:
        return REFUSED
    return ACCEPTED if claims.get("sub") == "bob" else "accepted without the subject"


# --- nonce (OIDC Core §3.1.3.7 step 11) ---------------------------------------------------------


def test_an_id_token_carrying_the_sent_nonce_is_accepted(mint: Mint, sent_nonce: str) -> None:
    outcome = _id_token_outcome(mint(nonce=sent_nonce), nonce=sent_nonce)
    assert outcome == ACCEPTED


def test_an_id_token_issued_for_another_login_is_refused(mint: Mint, sent_nonce: str) -> None:
    """A valid ID token replayed into another sign-in: its nonce is the other login's."""
    other_login = mint(nonce=secrets.token_urlsafe(32))
    outcome = _id_token_outcome(other_login, nonce=sent_nonce)
    assert outcome == REFUSED


def test_an_id_token_without_a_nonce_is_refused(mint: Mint, sent_nonce: str) -> None:
    outcome = _id_token_outcome(mint(), nonce=sent_nonce)
    assert outcome == REFUSED


def test_a_nonce_differing_in_its_last_character_is_refused(mint: Mint, sent_nonce: str) -> None:
    near = sent_nonce[:-1] + ("A" if sent_nonce[-1] != "A" else "B")
    outcome = _id_token_outcome(mint(nonce=near), nonce=sent_nonce)
    assert outcome == REFUSED


def test_a_nonce_that_is_not_a_string_is_refused(mint: Mint, sent_nonce: str) -> None:
    outcome = _id_token_outcome(mint(nonce=[sent_nonce]), nonce=sent_nonce)
    assert outcome == REFUSED


# --- azp and several audiences (OIDC Core §3.1.3.7 steps 4-5) -----------------------------------


def test_an_id_token_authorized_for_another_party_is_refused(mint: Mint, sent_nonce: str) -> None:
    token = mint(nonce=sent_nonce, azp="someone-else")
    outcome = _id_token_outcome(token, nonce=sent_nonce)
    assert outcome == REFUSED


def test_several_audiences_with_azp_another_party_are_refused(mint: Mint, sent_nonce: str) -> None:
    token = mint(nonce=sent_nonce, aud=[CLIENT_ID, "someone-else"], azp="someone-else")
    outcome = _id_token_outcome(token, nonce=sent_nonce)
    assert outcome == REFUSED


def test_an_azp_naming_our_client_is_accepted(mint: Mint, sent_nonce: str) -> None:
    token = mint(nonce=sent_nonce, azp=CLIENT_ID)
    outcome = _id_token_outcome(token, nonce=sent_nonce)
    assert outcome == ACCEPTED


def test_several_audiences_without_azp_are_refused(mint: Mint, sent_nonce: str) -> None:
    without_azp = mint(nonce=sent_nonce, aud=[CLIENT_ID, "someone-else"])
    with_azp = mint(nonce=sent_nonce, aud=[CLIENT_ID, "someone-else"], azp=CLIENT_ID)
    outcome_without = _id_token_outcome(without_azp, nonce=sent_nonce)
    outcome_with = _id_token_outcome(with_azp, nonce=sent_nonce)
    assert outcome_without == REFUSED
    # The same audiences with azp naming us pass: the refusal was for the missing azp alone.
    assert outcome_with == ACCEPTED


def test_a_one_element_audience_list_needs_no_azp(mint: Mint, sent_nonce: str) -> None:
    token = mint(nonce=sent_nonce, aud=[CLIENT_ID])
    outcome = _id_token_outcome(token, nonce=sent_nonce)
    assert outcome == ACCEPTED


# --- a key bound to an algorithm (RFC 7517 §4.4, RFC 8725 §3.1) ---------------------------------


def _published_rsa_alg(oidc_provider: OidcProviderProcess, provider_keys: SigningKeys) -> Any:
    keys = requests.get(f"{oidc_provider.issuer}/jwks", timeout=5).json()["keys"]
    published = [key for key in keys if key.get("kid") == provider_keys.rsa_kid]
    return published[0].get("alg") if len(published) == 1 else None


def test_an_id_token_signed_rs512_with_the_rs256_key_is_refused(
    mint: Mint, sent_nonce: str, oidc_provider: OidcProviderProcess, provider_keys: SigningKeys
) -> None:
    # The premise: the provider publishes its RSA key for RS256 only.
    published_alg = _published_rsa_alg(oidc_provider, provider_keys)
    assert published_alg == "RS256"
    rs512 = mint(algorithm="RS512", nonce=sent_nonce)
    outcome = _id_token_outcome(rs512, nonce=sent_nonce)
    assert outcome == REFUSED
    # Its RS256 twin, same key and claims, passes: only the algorithm was wrong.
    rs256 = mint(algorithm="RS256", nonce=sent_nonce)
    twin_outcome = _id_token_outcome(rs256, nonce=sent_nonce)
    assert twin_outcome == ACCEPTED


def test_a_bearer_token_signed_rs512_with_the_rs256_key_is_401_invalid_token(
    api_client: APIClient,
    mint: Mint,
    oidc_provider: OidcProviderProcess,
    provider_keys: SigningKeys,
) -> None:
    published_alg = _published_rsa_alg(oidc_provider, provider_keys)
    assert published_alg == "RS256"
    rs512 = mint(algorithm="RS512")
    response = api_client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {rs512}")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert response["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    # RS512 itself is an allowed algorithm: the refusal is the key's binding, not the list.
    rs256 = mint(algorithm="RS256")
    twin = api_client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {rs256}")
    assert twin.status_code == 200


# --- a CSRF token dated in the future -----------------------------------------------------------


def _csrf_token_dated(browser: Browser, seconds_ahead: int) -> str:
    """A CSRF token of ``browser``'s session, made with its real secret, dated ahead."""
    session = session_by_id(browser.session_id)
    assert session is not None
    return make_csrf_token(
        session_id=browser.session_id,
        csrf_secret=session.csrf_secret,
        issued_at=int(time.time()) + seconds_ahead,
    )


@pytest.mark.django_db
def test_a_csrf_token_dated_beyond_the_clock_skew_is_refused(browser: Browser) -> None:
    future = _csrf_token_dated(browser, FUTURE_SKEW + 3600)
    response = browser.post("/auth/web/logout", token=future)
    assert response.status_code == 403
    assert response.json()["detail"] == "Invalid CSRF token"
    # The session is untouched and a token dated now still works on it.
    assert browser.client.get("/auth/web/me").status_code == 200
    current = browser.post("/auth/web/logout", token=browser.csrf_token())
    assert current.status_code == 204


@pytest.mark.django_db
def test_a_csrf_token_dated_a_year_ahead_cannot_refresh_the_session(browser: Browser) -> None:
    future = _csrf_token_dated(browser, 365 * 24 * 3600)
    response = browser.post("/auth/web/refresh", token=future)
    assert response.status_code == 403
    assert response.json()["detail"] == "Invalid CSRF token"
