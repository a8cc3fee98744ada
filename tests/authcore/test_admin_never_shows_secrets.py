# ruff: noqa: F811  (pytest fixtures imported from admin_fixtures)
"""Nothing secret is ever rendered in the admin: no API key (after the page that creates it),
no user secret, no token, no session cookie, no hash, no private key. Every page of every
registered model (list, change, delete confirmation, history) and the dashboard is fetched
as a superuser and searched for each secret."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.test import Client
from rest_framework.test import APIClient

from authcore.models import User
from clients.models import Client as ClientModel
from clients.models import ClientUser
from passkeys.models import EmailCode
from tests.authcore.admin_fixtures import (  # noqa: F401 (fixtures)
    World,
    master_configured,
    staff,
    world,
)
from tests.leaks import assert_absent
from tokens.internal import keyset
from tokens.models import SigningKey

pytestmark = pytest.mark.django_db(transaction=True)


def secrets_of(world: World) -> dict[str, bytes]:
    found: dict[str, bytes] = {
        "api key": world.backend.api_key.encode(),
        "user secret": world.client_user.secret.encode(),
        "client token": world.bearer.raw.encode(),
        "client token signature": world.bearer.raw.rsplit(".", 1)[1].encode(),
        "passkey token signature": world.passkey_token.rsplit(".", 1)[1].encode(),
        "session cookie": world.browser.session_id.encode(),
    }
    for client in ClientModel.objects.all():
        found[f"key hash of {client.name}"] = client.key_hash.encode()
    for client_user in ClientUser.objects.all():
        found[f"secret hash of {client_user.identifier}"] = client_user.secret_hash.encode()
    for code in EmailCode.objects.all():
        found["email code hash"] = code.code_hash.encode()
        found["email link hash"] = code.link_hash.encode()
    for user in User.objects.exclude(password="").exclude(password__startswith="!"):
        found[f"password hash of {user.username}"] = user.password.rsplit("$", 1)[-1].encode()
    for key in SigningKey.objects.all():
        sealed = bytes(key.private_key_encrypted)
        found[f"sealed key {key.kid}"] = base64.b64encode(sealed)[:32]
        found[f"sealed key hex {key.kid}"] = sealed.hex()[:32].encode()
        private = keyset.private_key(key.kid).private_numbers()
        d = private.d.to_bytes((private.d.bit_length() + 7) // 8, "big")
        found[f"private exponent {key.kid}"] = base64.urlsafe_b64encode(d).rstrip(b"=")[:32]
    found["PEM"] = b"PRIVATE KEY"
    return found


def admin_pages() -> Iterator[str]:
    yield "/admin/"
    yield "/admin/authcore/auditevent/dashboard/"
    yield "/admin/authcore/auditevent/dashboard/?window=7d"
    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        yield base
        for obj in model._default_manager.all()[:50]:
            key = quote(obj.pk)  # as the admin spells it in its links ("_" in a jti is "_5F")
            yield f"{base}{key}/change/"
            yield f"{base}{key}/history/"
            yield f"{base}{key}/delete/"


def test_no_admin_page_shows_a_secret(staff: Client, world: World, settings: Any) -> None:
    APIClient().post("/api/auth/email/start", {"email": "carol@example.test"}, format="json")
    assert EmailCode.objects.exists()
    secrets = secrets_of(world)
    fetched = 0
    for url in admin_pages():
        page = staff.get(url)
        assert page.status_code in (200, 403), (url, page.status_code)
        fetched += 1
        assert_absent(page.content, url, **secrets)
    assert fetched > 40
