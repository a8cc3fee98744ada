"""Provider-issued JWTs presented as ``Authorization: Bearer`` on /api/me.

The tokens are signed with the real provider's own keys (the suite generated them and handed
them to the Node provider, which publishes them at its jwks_uri), so only the claim or header
under test is wrong.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from rest_framework.test import APIClient

from authcore.models import User
from authcore.store import shared_store
from sessions_app.exceptions import InvalidIdToken
from sessions_app.models import OidcIdentity
from sessions_app.oidc.discovery import issuer_key
from sessions_app.oidc.jwt_verification import unverified_issuer, verify_id_token
from sessions_app.oidc.providers import provider_by_name
from tests.leaks import outcome
from tests.sessions_app.oidc_peer import CLIENT_ID
from tests.tokens import forge


def _me(api_client, token: str):
    return api_client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {token}")


def _refused(response) -> None:
    assert response.status_code == 401, outcome(response)
    assert response.json()["code"] == "invalid_token"
    assert response["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_a_provider_token_opens_api_me_and_provisions_the_user(api_client, mint, oidc_provider):
    response = _me(api_client, mint())
    assert response.status_code == 200, outcome(response)
    body = response.json()
    identity = OidcIdentity.objects.get(issuer=oidc_provider.issuer, subject="bob")
    assert body["id"] == str(identity.user.pk)
    assert body["email"] == "bob@example.test"
    # The same subject is the same user next time.
    assert _me(api_client, mint()).json()["id"] == body["id"]


def test_subjects_differing_only_in_case_are_two_users_with_distinct_usernames(api_client, mint):
    # A provider's subjects are case-sensitive; usernames are not (one identity per spelling).
    upper = _me(api_client, mint(sub="Bob", email=None)).json()
    lower = _me(api_client, mint(sub="bob", email=None)).json()
    assert upper["id"] != lower["id"]
    assert upper["username"].lower() != lower["username"].lower()
    assert _me(api_client, mint(sub="Bob", email=None)).json()["id"] == upper["id"]


def test_an_es256_provider_token_is_accepted(api_client, mint):
    assert _me(api_client, mint(algorithm="ES256")).status_code == 200


def test_a_token_for_another_audience_is_refused(api_client, mint):
    _refused(_me(api_client, mint(aud="someone-else")))


def test_an_audience_listed_in_oidc_bearer_audiences_is_accepted(api_client, mint, settings):
    settings.OIDC_BEARER_AUDIENCES = ["https://api.example", CLIENT_ID]
    assert _me(api_client, mint(aud="https://api.example")).status_code == 200


def test_an_expired_token_is_refused(api_client, mint):
    now = int(time.time())
    _refused(_me(api_client, mint(iat=now - 7200, exp=now - 3600)))


def test_a_token_not_yet_valid_is_refused(api_client, mint):
    _refused(_me(api_client, mint(nbf=int(time.time()) + 3600)))


def test_a_token_without_exp_is_refused(api_client, mint):
    _refused(_me(api_client, mint(exp=None)))


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_an_unsigned_alg_none_token_is_refused(api_client, mint):
    signed = mint()
    claims = jwt.decode(signed, options={"verify_signature": False})
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    _refused(_me(api_client, unsigned))


def test_an_hs256_token_keyed_with_the_providers_public_key_is_refused(
    api_client, mint, provider_keys
):
    """The classic algorithm-confusion attack (RFC 8725 §2.1)."""
    public_pem = provider_keys.rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = jwt.decode(mint(), options={"verify_signature": False})
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": provider_keys.rsa_kid})
    payload = _b64(claims)
    mac = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    _refused(_me(api_client, forged))


def test_a_token_signed_by_another_key_under_the_providers_kid_is_refused(api_client, mint):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = jwt.decode(mint(), options={"verify_signature": False})
    forged = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "rsa-test-1"})
    _refused(_me(api_client, forged))


def test_a_token_naming_an_unknown_key_is_refused(api_client, mint):
    _refused(_me(api_client, mint(headers={"kid": "no-such-key"})))


def test_an_rs256_token_presented_as_es256_is_refused(api_client, mint, provider_keys):
    token = mint()
    _, payload, signature = token.split(".")
    relabelled = _b64({"alg": "ES256", "typ": "JWT", "kid": provider_keys.rsa_kid})
    _refused(_me(api_client, f"{relabelled}.{payload}.{signature}"))


def test_a_token_from_an_unconfigured_issuer_opens_nothing(api_client, mint):
    response = _me(api_client, mint(iss="https://evil.example"))
    assert response.status_code == 401


def test_a_rotated_provider_key_is_refetched_once_and_not_again_right_away(
    api_client, mint, provider_keys, oidc_provider
):
    """The cache holds the set from before the provider added its RSA key: the first token
    under the new kid forces one refetch; right after, unknown kids cannot force another."""
    store = shared_store()
    cache_key = f"oidc:jwks:{issuer_key(oidc_provider.issuer)}"
    old_set = requests.get(f"{oidc_provider.issuer}/jwks", timeout=5).json()["keys"]
    stale = json.dumps([k for k in old_set if k["kid"] != provider_keys.rsa_kid])
    store.set(cache_key, stale, 3600)
    assert _me(api_client, mint()).status_code == 200  # refetched, key found
    store.set(cache_key, stale, 3600)  # as if the rotation happened again at once
    _refused(_me(api_client, mint()))  # no second refetch within the interval


@pytest.mark.parametrize(
    "provider, presented",
    [
        (
            {"name": "idp", "issuer": "https://idp.example/", "client_id": "app"},
            "https://idp.example",
        ),
        (
            {"name": "idp", "issuer": "https://idp.example", "client_id": "app"},
            "https://idp.example/",
        ),
        ({"name": "idp", "issuer": "https://idp.example"}, "https://idp.example"),  # no client_id
    ],
)
def test_a_forged_token_naming_a_provider_like_issuer_is_401_invalid_token(
    db, settings, provider, presented
):
    """Whose a token is was decided twice (trailing slash ignored on one side, ill-formed
    providers counted on one side only): a token neither side claimed slipped through as
    anonymous, or as the session cookie's user, and no failure was counted."""
    settings.OIDC_PROVIDERS = [provider]
    forged = forge.signed_with(forge.attacker_key(), {"iss": presented, "sub": "x"}, kid="k")

    response = APIClient().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {forged}")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert response["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


# --- what a provider may put in its claims (found by fuzzing: each was a 500) --------------------


@pytest.mark.parametrize(
    "subject",
    ["b" * 256, "bob\x00", "bob\ud800", "bob\n"],
    ids=["256 characters", "a NUL", "a lone surrogate", "a newline"],
)
def test_a_subject_the_contract_does_not_allow_is_refused(api_client, mint, subject):
    """OIDC Core §2: at most 255 ASCII characters; here, printable text of that length."""
    _refused(_me(api_client, mint(sub=subject)))
    assert not OidcIdentity.objects.exists()


def test_a_subject_of_255_characters_is_accepted(api_client, mint):
    assert _me(api_client, mint(sub="b" * 255)).status_code == 200


@pytest.mark.parametrize(
    ("claims", "name", "email"),
    [
        ({"name": "Bob\x00 Builder"}, "Bob Builder", "bob@example.test"),
        ({"name": "Bob \ud800Builder"}, "Bob Builder", "bob@example.test"),
        ({"name": "\x00", "preferred_username": "bobby"}, "bobby", "bob@example.test"),
        ({"name": 42}, "", "bob@example.test"),
        ({"email": "bob\x00@example.test"}, "", ""),
        ({"email": "bob\ud800@example.test"}, "", ""),
    ],
    ids=[
        "NUL in name",
        "surrogate in name",
        "unusable name",
        "number name",
        "NUL in email",
        "surrogate in email",
    ],
)
def test_profile_claims_the_database_cannot_hold_are_cleaned_or_dropped(
    api_client, mint, claims, name, email
):
    """A user whose name at the provider holds a NUL could never sign in (a 500 each time):
    the profile keeps the printable text; an address that is not text as sent is not taken."""
    response = _me(api_client, mint(**claims))
    assert response.status_code == 200, outcome(response)
    assert (response.json()["display_name"], response.json()["email"]) == (name, email)


def test_an_id_token_that_is_not_text_is_refused_as_malformed(mint):
    """A lone surrogate inside the compact JWS, as a token endpoint's JSON can carry one (an
    HTTP header cannot): refused at the callback's check, not a 500."""
    raw = mint()
    broken = raw[:10] + "\ud800" + raw[10:]
    assert unverified_issuer(broken) is None
    with pytest.raises(InvalidIdToken):
        verify_id_token(broken, provider=provider_by_name("test"), nonce="n")


def test_a_provider_address_is_stored_in_its_canonical_form_and_never_matches_a_look_alike(
    api_client, mint
):
    User.objects.create_user(username="alice", email="alice@victim.test")
    look_alike = _me(api_client, mint(sub="s1", email="Alice@V\u0131ctim.test")).json()
    assert look_alike["email"] == "alice@xn--vctim-n4a.test"  # its own mailbox, its own user
    same = _me(api_client, mint(sub="s2", email="ALICE@VICTIM.TEST")).json()
    assert same["email"] == ""  # the address is someone else's: not copied to a new user
