"""The admin for signing keys and issued tokens, over the Django test client."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from authcore.models import User
from tests.leaks import assert_absent
from tokens import services
from tokens.internal import keyset
from tokens.models import SigningKey, TokenRecord

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff(db: object) -> Client:
    admin = User.objects.create_superuser(username="root", email="root@example.test")
    client = Client()
    client.force_login(admin)
    return client


def private_material(key: SigningKey) -> list[bytes]:
    """Every rendering of the key's secret half a careless page could show."""
    sealed = bytes(key.private_key_encrypted)
    private = keyset.private_key(key.kid)
    numbers = private.private_numbers()
    d = numbers.d.to_bytes((numbers.d.bit_length() + 7) // 8, "big")
    return [
        base64.b64encode(sealed)[:40],
        sealed.hex()[:40].encode(),
        base64.urlsafe_b64encode(d).rstrip(b"=")[:40],
        b"PRIVATE KEY",
        b"private_key_encrypted",
    ]


def test_the_key_pages_show_state_and_tokens_signed_but_no_private_material(
    staff: Client, user: User
) -> None:
    services.issue_token(user=user, kind="client")
    key = SigningKey.objects.get()
    pages = [
        staff.get("/admin/tokens/signingkey/"),
        staff.get(f"/admin/tokens/signingkey/{key.pk}/change/"),
        staff.get("/admin/tokens/tokenrecord/"),
    ]
    for page in pages:
        assert page.status_code == 200
        for secret in private_material(key):
            assert_absent(page.content, "an admin page", secret=secret)
    assert key.kid.encode() in pages[0].content and b"current" in pages[0].content


def test_rotate_now_asks_for_confirmation_then_a_new_key_signs(staff: Client) -> None:
    services.rotate_keys()
    first = SigningKey.objects.get().kid
    page = staff.get("/admin/tokens/signingkey/rotate-now/")
    assert page.status_code == 200 and b"Yes, I" in page.content
    assert SigningKey.objects.count() == 1  # nothing happens before the confirmation
    assert b"brand-new key signs" in page.content  # no next key yet: the honest warning
    done = staff.post("/admin/tokens/signingkey/rotate-now/", {"confirm": "yes"})
    assert done.status_code == 302
    assert SigningKey.objects.get(kid=first).state == "retiring"
    assert SigningKey.objects.filter(state="current").exclude(kid=first).exists()
    again = staff.get("/admin/tokens/signingkey/rotate-now/")
    assert b"already hold it" in again.content  # the next key published by the first rotation


def test_emergency_revoke_asks_for_confirmation_then_revokes(staff: Client, user: User) -> None:
    token = services.issue_token(user=user, kind="client")
    key = SigningKey.objects.get()
    form = {"action": "emergency_revoke", "_selected_action": [str(key.pk)]}
    page = staff.post("/admin/tokens/signingkey/", form)
    assert page.status_code == 200 and key.kid.encode() in page.content
    assert SigningKey.objects.get(pk=key.pk).state == "current"
    staff.post("/admin/tokens/signingkey/", {**form, "confirm": "yes"})
    assert SigningKey.objects.get(pk=key.pk).state == "revoked"
    with pytest.raises(Exception, match="signed by an unknown key"):
        services.verify_token(token.raw)


def test_tokens_are_found_by_jti_user_or_client_and_revoked_from_the_list(
    staff: Client, user: User
) -> None:
    token = services.issue_token(user=user, kind="client", client_id="client-42")
    for query in (token.jti, "alice", "client-42"):
        page = staff.get("/admin/tokens/tokenrecord/", {"q": query})
        assert token.jti.encode() in page.content
    assert_absent(page.content, "the admin page", token=token.raw)
    staff.post(
        "/admin/tokens/tokenrecord/",
        {"action": "revoke_selected", "_selected_action": [token.jti]},
    )
    assert TokenRecord.objects.get(jti=token.jti).revoked_at is not None
    with pytest.raises(Exception, match="revoked"):
        services.verify_token(token.raw)


def test_a_staff_member_without_superuser_cannot_rotate(db: object) -> None:
    member = User.objects.create_user(username="staff", is_staff=True)
    client = Client()
    client.force_login(member)
    response = client.post("/admin/tokens/signingkey/rotate-now/", {"confirm": "yes"})
    assert response.status_code in (302, 403)
    assert not SigningKey.objects.exists()
