"""Issue 8, "done when": from the browser only, a staff member creates a client, rotates its
key, finds a user, revokes their tokens, flags and removes a passkey, rotates or
emergency-revokes a signing key, ends a session and reads the audit trail. Driven over HTTP
through the admin with the Django test client; what a client or browser then notices is
checked on the public API."""

# ruff: noqa: F811  (pytest fixtures imported from admin_fixtures)
from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from authcore.models import AuditEvent
from passkeys.models import Passkey
from sessions_app.models import BrowserSession
from tests.authcore.admin_fixtures import (  # noqa: F401 (fixtures)
    API_KEY_IN_PAGE,
    World,
    master_configured,
    rotate_in_admin,
    staff,
    viewer,
    world,
)
from tests.leaks import assert_absent
from tokens.models import SigningKey

pytestmark = pytest.mark.django_db(transaction=True)


def act(staff: Client, changelist: str, action: str, pks: list[Any], **extra: str) -> Any:
    """Run an admin action on the changelist as the action form posts it."""
    form = {"action": action, "_selected_action": [str(pk) for pk in pks], "index": "0", **extra}
    return staff.post(changelist, form)


def me(raw: str) -> int:
    return int(APIClient().get("/api/me", headers={"Authorization": f"Bearer {raw}"}).status_code)


def test_the_key_shown_at_creation_works_and_no_later_page_shows_it(
    staff: Client, world: World
) -> None:
    assert me(world.bearer.raw) == 200  # a token obtained with the key from the admin page
    for url in ("/admin/clients/client/", f"/admin/clients/client/{world.backend.id}/change/"):
        page = staff.get(url)
        assert page.status_code == 200
        assert_absent(page.content, url, api_key=world.backend.api_key)
        assert b"Shop backend" in page.content


def test_rotating_a_key_shows_the_new_one_once_and_the_old_one_stops_working(
    staff: Client, world: World
) -> None:
    confirm = act(staff, "/admin/clients/client/", "rotate_key", [world.backend.id])
    assert confirm.status_code == 200 and b"Rotate API keys?" in confirm.content
    shown = rotate_in_admin(staff, [world.backend.id])
    (new_key,) = API_KEY_IN_PAGE.findall(shown.content)
    api = APIClient()
    old = api.post(
        "/api/users",
        {"identifier": "x"},
        format="json",
        headers={"x-api-key": world.backend.api_key},
    )
    new = api.post(
        "/api/users", {"identifier": "y"}, format="json", headers={"x-api-key": new_key.decode()}
    )
    assert (old.status_code, new.status_code) == (401, 201)
    assert AuditEvent.objects.filter(action="client.key_rotated", actor_kind="staff").exists()


def test_staff_find_a_user_by_email_and_revoke_every_token_they_hold(
    staff: Client, world: World
) -> None:
    found = staff.get("/admin/authcore/user/", {"q": "alice@example.test"})
    assert found.status_code == 200 and b"alice@example.test" in found.content
    user_id = world.client_user.id
    page = staff.get(f"/admin/authcore/user/{user_id}/change/")
    assert world.bearer.jti.encode() in page.content  # the token record is inline

    done = act(staff, "/admin/authcore/user/", "revoke_all_tokens", [user_id], post="yes")
    assert done.status_code == 302
    assert me(world.bearer.raw) == 401
    assert me(world.passkey_token) == 200  # another user's token is untouched
    event = AuditEvent.objects.get(action="token.revoked_user")
    assert event.actor_kind == "staff" and event.target == f"user:{user_id}"


def test_staff_flag_a_passkey_it_shows_on_the_dashboard_then_remove_it(
    staff: Client, world: World
) -> None:
    passkey = Passkey.objects.get(user__username="bob")
    act(staff, "/admin/passkeys/passkey/", "flag_possibly_cloned", [passkey.pk])
    passkey.refresh_from_db()
    assert passkey.flagged
    dashboard = staff.get("/admin/authcore/auditevent/dashboard/")
    assert b"possibly cloned: 1" in dashboard.content and passkey.name.encode() in dashboard.content

    confirm = act(staff, "/admin/passkeys/passkey/", "delete_selected", [passkey.pk])
    assert confirm.status_code == 200 and b"Are you sure" in confirm.content
    act(staff, "/admin/passkeys/passkey/", "delete_selected", [passkey.pk], post="yes")
    assert not Passkey.objects.filter(pk=passkey.pk).exists()
    actions = set(
        AuditEvent.objects.filter(target=f"passkey:{passkey.pk}", actor_kind="staff").values_list(
            "action", flat=True
        )
    )
    assert actions == {"passkey.flagged", "passkey.removed"}


def test_rotate_now_asks_first_then_a_new_key_signs_and_old_tokens_still_work(
    staff: Client, world: World
) -> None:
    before = SigningKey.objects.get(state="current").kid
    ask = staff.get("/admin/tokens/signingkey/rotate-now/")
    assert ask.status_code == 200 and b"A new key will sign" in ask.content
    assert SigningKey.objects.get(state="current").kid == before  # asking changes nothing
    staff.post("/admin/tokens/signingkey/rotate-now/", {"confirm": "yes"})
    assert SigningKey.objects.get(state="current").kid != before
    assert SigningKey.objects.get(kid=before).state == "retiring"
    assert me(world.bearer.raw) == 200


def test_emergency_revoke_says_what_will_break_then_every_token_of_the_key_is_refused(
    staff: Client, world: World
) -> None:
    key = SigningKey.objects.get(state="current")
    confirm = act(staff, "/admin/tokens/signingkey/", "emergency_revoke", [key.pk])
    text = confirm.content.decode()
    assert "2 unexpired token(s) it signed will be refused" in text
    assert "It signs now: a fresh key takes over." in text
    assert me(world.bearer.raw) == 200  # nothing happened yet

    act(staff, "/admin/tokens/signingkey/", "emergency_revoke", [key.pk], confirm="yes")
    assert (me(world.bearer.raw), me(world.passkey_token)) == (401, 401)
    jwks = APIClient().get("/.well-known/jwks.json").json()
    assert key.kid not in {entry["kid"] for entry in jwks["keys"]}


def test_staff_end_a_browser_session_and_the_browser_is_signed_out(
    staff: Client, world: World
) -> None:
    assert world.browser.client.get("/auth/web/me").status_code == 200
    session = BrowserSession.objects.get(user__username="bob")
    act(staff, "/admin/sessions_app/browsersession/", "end_sessions", [session.pk])
    response = world.browser.client.get("/auth/web/me")
    assert response.status_code == 401


def test_the_audit_trail_is_searchable_and_can_be_neither_edited_nor_deleted(
    staff: Client, world: World
) -> None:
    rotate_in_admin(staff, [world.backend.id])
    listing = staff.get("/admin/authcore/auditevent/", {"q": "client.key_rotated"})
    assert listing.status_code == 200
    assert b'<td class="field-action">client.key_rotated</td>' in listing.content
    assert b'<td class="field-action">client.created</td>' not in listing.content
    event = AuditEvent.objects.get(action="client.key_rotated")
    page = staff.get(f"/admin/authcore/auditevent/{event.pk}/change/")
    assert page.status_code == 200 and b"deletelink" not in page.content
    assert (
        staff.post(f"/admin/authcore/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert staff.post(f"/admin/authcore/auditevent/{event.pk}/change/", {}).status_code == 403
    assert staff.get("/admin/authcore/auditevent/add/").status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
