"""API keys and user secrets: 256-bit, recognisable, stored as keyed hashes, rotatable."""

from __future__ import annotations

import base64

import pytest

from clients.internal.credential_hashing import (
    PURPOSE_API_KEY,
    PURPOSE_USER_SECRET,
    check_secret,
    generate_api_key,
    generate_user_secret,
    parse_api_key,
)
from clients.models import Client
from clients.services import authenticate_api_key, create_client
from tests.leaks import assert_absent


def test_an_api_key_carries_256_random_bits_behind_a_recognisable_prefix():
    generated = generate_api_key()
    prefix, _, secret = generated.raw.partition(".")
    assert prefix == f"ak_{generated.lookup_id}"
    assert len(base64.urlsafe_b64decode(secret + "=")) == 32
    assert_absent(repr(generated), "its repr", raw=generated.raw, hashed=generated.hashed)
    assert parse_api_key(generated.raw).lookup_id == generated.lookup_id


def test_a_user_secret_is_not_an_api_key():
    generated = generate_user_secret()
    prefixed = generated.raw.startswith("us_")
    assert prefixed
    assert parse_api_key(generated.raw).lookup_id is None
    assert not check_secret(generated.raw, generated.hashed, purpose=PURPOSE_API_KEY).matches
    assert check_secret(generated.raw, generated.hashed, purpose=PURPOSE_USER_SECRET).matches


def test_the_hash_depends_on_the_server_secret(settings):
    generated = generate_api_key()
    settings.SECRET_KEY = "another-server-secret-" + "x" * 40
    assert not check_secret(generated.raw, generated.hashed, purpose=PURPOSE_API_KEY).matches


@pytest.mark.django_db
def test_keys_survive_a_server_secret_rotation_through_the_fallbacks(settings):
    created = create_client(name="Shop")
    old_secret = settings.SECRET_KEY
    settings.SECRET_KEY = "the-new-server-secret-" + "y" * 40
    settings.SECRET_KEY_FALLBACKS = [old_secret]
    assert authenticate_api_key(presented=created.api_key, ip="192.0.2.1") == created.client
    # The hash was upgraded to the new secret: the fallback can now be retired.
    settings.SECRET_KEY_FALLBACKS = []
    assert authenticate_api_key(presented=created.api_key, ip="192.0.2.1") == created.client
    assert Client.objects.get(pk=created.client.pk).key_hash != created.client.key_hash
