# ruff: noqa: F811  (pytest fixtures imported from tests/passkeys and tests/sessions_app)
"""A user that staff deactivated (``is_active = False``, saved as the admin saves it) cannot sign
in by any route: a passkey, the email code or link, the OpenID provider's callback, or a
provider-issued bearer JWT on /api/me. Each attempt is real (software authenticator, SMTP sink,
the Node OpenID provider, tokens signed with that provider's keys), is refused with the
documented status and code, and writes no access-token record and no browser session.

Authcore's own bearer tokens, the client-secret exchange and the session cookie of a
deactivated user are covered in tests/tokens, tests/clients and tests/sessions_app.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.test import APIClient

from authcore.models import AuditEvent, User
from passkeys.models import Passkey
from sessions_app.models import BrowserSession, OidcIdentity
from tests.passkeys.authenticator import SoftwareAuthenticator
from tests.passkeys.conftest import (
    LOGIN_OPTIONS,
    LOGIN_VERIFY,
    Mailbox,
    alice,  # noqa: F401 (fixture)
    authenticator,  # noqa: F401 (fixture)
    mailbox,  # noqa: F401 (fixture)
)
from tests.sessions_app.conftest import (
    Mint,
    mint,  # noqa: F401 (fixture)
    new_browser,  # noqa: F401 (fixture)
    oidc_provider,  # noqa: F401 (fixture)
    oidc_settings,  # noqa: F401 (fixture)
    provider_keys,  # noqa: F401 (fixture)
    web_browser,  # noqa: F401 (fixture)
)
from tests.sessions_app.oidc_peer import OidcProviderProcess, WebBrowser
from tokens.models import TokenRecord

EMAIL_START = "/api/auth/email/start"
EMAIL_VERIFY = "/api/auth/email/verify"


def answer(response: Any) -> tuple[int, str | None]:
    """Status and JSON ``code`` only: a successful answer's body holds a token, and a failing
    assertion must not print it."""
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    code = body.get("code") if isinstance(body, dict) else None
    return response.status_code, code


def deactivate(user: User) -> None:
    """What staff do in the admin: clear "active" and save the whole user."""
    user.is_active = False
    user.save()


def token_jtis() -> set[str]:
    return set(TokenRecord.objects.values_list("jti", flat=True))


def session_keys() -> set[str]:
    return set(BrowserSession.objects.values_list("key_hash", flat=True))


def test_a_deactivated_user_cannot_sign_in_with_a_passkey(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    user = User.objects.get(pk=alice["user"]["id"])
    deactivate(user)
    passkey = Passkey.objects.get(user=user)
    tokens, sessions = token_jtis(), session_keys()

    # Username-less, as the demo page's "Sign in with passkey": the authenticator's
    # discoverable credential names the (deactivated) account; "session" would also open one.
    options = api_client.post(LOGIN_OPTIONS, {}, format="json")
    assert options.status_code == 200
    assertion = authenticator.get(options.json())
    response = api_client.post(LOGIN_VERIFY, {**assertion, "session": True}, format="json")

    assert answer(response) == (400, "credential_unknown")  # docs/passkeys.md "Error codes"
    assert token_jtis() == tokens
    assert session_keys() == sessions
    stored = Passkey.objects.get(pk=passkey.pk)
    assert (stored.sign_count, stored.last_used_at) == (passkey.sign_count, passkey.last_used_at)
    assert not AuditEvent.objects.filter(
        action="signin.passkey", actor_id=str(user.pk), outcome="success"
    ).exists()


@pytest.mark.parametrize("proof", ["code", "link"])
def test_a_deactivated_user_cannot_sign_in_with_the_email_code_or_link(
    db: Any, api_client: APIClient, mailbox: Mailbox, proof: str
) -> None:
    user = User.objects.create_user(username="erin", email="erin@example.test", email_verified=True)
    deactivate(user)
    users, tokens, sessions = User.objects.count(), token_jtis(), session_keys()

    started = api_client.post(EMAIL_START, {"email": "erin@example.test"}, format="json")
    assert started.status_code == 202
    if proof == "code":
        body = {"email": "erin@example.test", "code": mailbox.code_for("erin@example.test")}
    else:
        link = mailbox.link_for("erin@example.test")
        body = {"link_token": parse_qs(urlsplit(link).query)["token"][0]}
    response = api_client.post(EMAIL_VERIFY, {**body, "session": True}, format="json")

    # API.md: valid credentials without the right to act are 403 (the code proved the mailbox).
    assert answer(response) == (403, "permission_denied")
    assert token_jtis() == tokens
    assert session_keys() == sessions
    assert User.objects.count() == users  # no new account for the address either
    assert not AuditEvent.objects.filter(
        action="signin.email", actor_id=str(user.pk), outcome="success"
    ).exists()


def test_a_deactivated_user_cannot_sign_in_through_the_openid_provider(
    web_browser: WebBrowser,
    new_browser: Callable[..., WebBrowser],
    oidc_provider: OidcProviderProcess,
) -> None:
    # The provider account signs in once (its user is provisioned), then staff deactivate it.
    assert web_browser.sign_in().status_code == 302
    identity = OidcIdentity.objects.get(issuer=oidc_provider.issuer, subject="alice")
    deactivate(identity.user)
    tokens, sessions = token_jtis(), session_keys()

    returning = new_browser()
    response = returning.sign_in()

    assert answer(response) == (400, "login_failed")  # docs/browser-sessions.md "Errors"
    assert "user_session_id" not in returning.http.cookies
    assert returning.me().status_code == 401
    assert token_jtis() == tokens
    assert session_keys() == sessions
    refusals = AuditEvent.objects.filter(action="signin.oidc", outcome="failure")
    assert [event.detail.get("reason") for event in refusals] == ["user_inactive"]


def test_a_deactivated_users_provider_bearer_jwt_is_refused_on_api_me(
    api_client: APIClient, mint: Mint, oidc_provider: OidcProviderProcess
) -> None:
    # The provider's subject is provisioned by its first token, then staff deactivate the user.
    first = api_client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {mint(sub='dora')}")
    assert first.status_code == 200
    identity = OidcIdentity.objects.get(issuer=oidc_provider.issuer, subject="dora")
    deactivate(identity.user)
    identities, tokens, sessions = OidcIdentity.objects.count(), token_jtis(), session_keys()

    response = api_client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {mint(sub='dora')}")

    assert answer(response) == (401, "invalid_token")  # docs/browser-sessions.md
    assert response["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert OidcIdentity.objects.count() == identities  # not provisioned anew either
    assert token_jtis() == tokens
    assert session_keys() == sessions
