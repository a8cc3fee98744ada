"""GET /.well-known/jwks.json and /.well-known/openid-configuration."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tokens import app_settings, services

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_jwks_lists_public_rsa_members_only() -> None:
    services.rotate_keys()
    response = APIClient().get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    (key,) = response.json()["keys"]
    assert set(key) == {"kty", "kid", "use", "alg", "n", "e"}
    assert (key["kty"], key["use"], key["alg"], key["e"]) == ("RSA", "sig", "RS256", "AQAB")


def test_the_jwks_is_publicly_cacheable_for_less_than_the_publish_ahead_time() -> None:
    services.rotate_keys()
    response = APIClient().get("/.well-known/jwks.json")
    cache_control = response["Cache-Control"]
    assert cache_control.startswith("public, max-age=")
    assert "no-store" not in cache_control and "Pragma" not in response
    max_age = int(cache_control.rsplit("=", 1)[1])
    assert 0 < max_age < app_settings.PUBLISH_AHEAD.total_seconds()
    assert response["X-Content-Type-Options"] == "nosniff"  # security headers still there


def test_a_matching_if_none_match_gets_a_304_and_a_rotation_a_new_etag() -> None:
    services.rotate_keys()
    client = APIClient()
    etag = client.get("/.well-known/jwks.json")["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")  # strong
    not_modified = client.get("/.well-known/jwks.json", HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified["ETag"] == etag
    call_command("rotate_keys", "--now")
    changed = client.get("/.well-known/jwks.json", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert len(changed.json()["keys"]) == 3  # retiring, current and the fresh next key


def test_a_warm_jwks_is_served_without_the_database(django_assert_num_queries: Any) -> None:
    services.rotate_keys()
    client = APIClient()
    client.get("/.well-known/jwks.json")
    with django_assert_num_queries(0):
        assert client.get("/.well-known/jwks.json").status_code == 200


def test_the_jwks_refuses_writes() -> None:
    assert APIClient().post("/.well-known/jwks.json").status_code == 405


def test_the_openid_configuration_names_issuer_jwks_and_algorithm() -> None:
    response = APIClient().get("/.well-known/openid-configuration")
    assert response.status_code == 200
    document = response.json()
    assert document["issuer"] == app_settings.ISSUER
    assert document["jwks_uri"] == f"{app_settings.ISSUER}/.well-known/jwks.json"
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert response["Cache-Control"].startswith("public, max-age=")
    assert client_gets_304(response["ETag"])


def test_the_openid_configuration_advertises_no_endpoint_we_do_not_really_speak() -> None:
    # Our introspection and revocation take JSON with x-api-key, not RFC 7662/7009 form posts
    # with client authentication; we have no authorization or token endpoint at all.
    document = APIClient().get("/.well-known/openid-configuration").json()
    assert set(document) == {
        "issuer",
        "jwks_uri",
        "id_token_signing_alg_values_supported",
        "subject_types_supported",
        "claims_supported",
    }
    assert not [name for name in document if name.endswith("_endpoint")]
    assert "token_endpoint_auth_signing_alg_values_supported" not in document


def client_gets_304(etag: str) -> bool:
    response = APIClient().get("/.well-known/openid-configuration", HTTP_IF_NONE_MATCH=etag)
    return bool(response.status_code == 304)
