"""Staff see passkeys (flagged first, no key bytes) and email codes (never their hashes);
``manage.py prune`` removes expired codes; deleting a user removes their passkeys."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from authcore.models import User
from passkeys.models import EmailCode, Passkey
from tests.leaks import assert_absent
from tests.passkeys.conftest import Mailbox

pytestmark = pytest.mark.django_db


def test_staff_see_a_flagged_passkey_without_its_key_bytes(
    admin_client: Client, alice: dict[str, Any]
) -> None:
    Passkey.objects.update(flagged=True)
    passkey_id = alice["credential"]["id"]

    listing = admin_client.get("/admin/passkeys/passkey/?flagged__exact=1")
    detail = admin_client.get(f"/admin/passkeys/passkey/{passkey_id}/change/")

    assert listing.status_code == detail.status_code == 200
    assert alice["credential"]["name"] in listing.content.decode()
    assert "public_key" not in detail.content.decode()


def test_staff_can_clear_the_flag(admin_client: Client, alice: dict[str, Any]) -> None:
    Passkey.objects.update(flagged=True)

    admin_client.post(
        "/admin/passkeys/passkey/",
        {"action": "clear_flag", "_selected_action": [alice["credential"]["id"]]},
    )

    assert Passkey.objects.get().flagged is False


def test_the_admin_never_shows_an_email_code_hash(
    admin_client: Client, api_client: APIClient, mailbox: Mailbox
) -> None:
    api_client.post("/api/auth/email/start", {"email": "alice@example.test"}, format="json")
    record = EmailCode.objects.get()

    page = admin_client.get(f"/admin/passkeys/emailcode/{record.pk}/change/").content.decode()

    assert "alice@example.test" in page
    assert_absent(page, "the admin page", code_hash=record.code_hash, link_hash=record.link_hash)


def test_prune_deletes_expired_email_codes(
    api_client: APIClient, mailbox: Mailbox, settings: Any
) -> None:
    settings.PASSKEY_EMAIL_CODE_TTL = 0
    api_client.post("/api/auth/email/start", {"email": "old@example.test"}, format="json")
    settings.PASSKEY_EMAIL_CODE_TTL = 600
    api_client.post("/api/auth/email/start", {"email": "new@example.test"}, format="json")
    out = StringIO()

    call_command("prune", stdout=out)

    assert "passkeys.services.prune_expired: 1 removed" in out.getvalue()
    assert list(EmailCode.objects.values_list("email", flat=True)) == ["new@example.test"]


def test_deleting_a_user_deletes_their_passkeys(alice: dict[str, Any]) -> None:
    User.objects.filter(pk=alice["user"]["id"]).delete()

    assert Passkey.objects.count() == 0
