# ruff: noqa: F811  (pytest fixtures imported from admin_fixtures)
"""Staff permissions are respected: a view-only staff member sees every page but cannot
revoke, rotate, flag, end or delete, even by posting the action form by hand."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from rest_framework.test import APIClient

from authcore.models import User
from passkeys.models import Passkey
from sessions_app.models import BrowserSession
from tests.authcore.admin_fixtures import (  # noqa: F401 (fixtures)
    World,
    master_configured,
    staff,
    viewer,
    world,
)
from tokens.models import SigningKey, TokenRecord

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELISTS = (
    "/admin/authcore/user/",
    "/admin/authcore/auditevent/",
    "/admin/clients/client/",
    "/admin/clients/clientuser/",
    "/admin/passkeys/passkey/",
    "/admin/tokens/tokenrecord/",
    "/admin/tokens/signingkey/",
    "/admin/sessions_app/browsersession/",
)
FORBIDDEN_ACTIONS = (
    ("/admin/authcore/user/", "revoke_all_tokens"),
    ("/admin/authcore/user/", "end_all_sessions"),
    ("/admin/clients/client/", "rotate_key"),
    ("/admin/clients/client/", "revoke_client_tokens"),
    ("/admin/clients/clientuser/", "revoke_user_tokens"),
    ("/admin/passkeys/passkey/", "flag_possibly_cloned"),
    ("/admin/passkeys/passkey/", "delete_selected"),
    ("/admin/tokens/tokenrecord/", "revoke_selected"),
    ("/admin/sessions_app/browsersession/", "end_sessions"),
)


def selectable(page: Any, action: str) -> bool:
    return f'<option value="{action}"'.encode() in page.content


def test_a_view_only_member_sees_every_list_and_the_dashboard(viewer: Client, world: World) -> None:
    for url in (*CHANGELISTS, "/admin/authcore/auditevent/dashboard/"):
        assert viewer.get(url).status_code == 200, url


def test_a_view_only_member_is_offered_none_of_the_actions_that_change_things(
    viewer: Client, staff: Client, world: World
) -> None:
    for url, action in FORBIDDEN_ACTIONS:
        assert selectable(staff.get(url), action), (url, action)
        assert not selectable(viewer.get(url), action), (url, action)


def test_posting_the_actions_by_hand_changes_nothing(viewer: Client, world: World) -> None:
    targets = {
        "/admin/authcore/user/": str(User.objects.get(username="bob").pk),
        "/admin/clients/client/": world.backend.id,
        "/admin/passkeys/passkey/": str(Passkey.objects.get().pk),
        "/admin/tokens/tokenrecord/": world.bearer.jti,
        "/admin/sessions_app/browsersession/": BrowserSession.objects.get().pk,
    }
    for url, action in FORBIDDEN_ACTIONS:
        if url not in targets:
            continue
        form = {"action": action, "_selected_action": [targets[url]], "index": "0"}
        viewer.post(url, {**form, "confirm": "yes", "post": "yes"})
    key = SigningKey.objects.get(state="current")
    viewer.post("/admin/tokens/signingkey/rotate-now/", {"confirm": "yes"})
    viewer.post(
        "/admin/tokens/signingkey/",
        {"action": "emergency_revoke", "_selected_action": [key.pk], "confirm": "yes"},
    )
    me = APIClient().get("/api/me", headers={"Authorization": f"Bearer {world.bearer.raw}"})
    assert me.status_code == 200
    assert not TokenRecord.objects.filter(revoked_at__isnull=False).exists()
    assert SigningKey.objects.get(state="current").pk == key.pk
    assert not Passkey.objects.get().flagged
    assert BrowserSession.objects.count() == 1
    assert world.browser.client.get("/auth/web/me").status_code == 200


def test_rotate_now_is_refused_to_a_view_only_member(viewer: Client, world: World) -> None:
    answered = viewer.get("/admin/tokens/signingkey/rotate-now/").status_code
    assert answered == 403


def test_staff_without_the_audit_permission_cannot_open_the_dashboard(world: World) -> None:
    clerk = User.objects.create_user(username="clerk", email="c@example.test", is_staff=True)
    browser = Client()
    browser.force_login(clerk)
    assert browser.get("/admin/authcore/auditevent/dashboard/").status_code == 403
    assert b"Security dashboard" not in browser.get("/admin/").content


# --- staff who may change users cannot make anyone more powerful (found by an attacker review) --


@pytest.fixture
def user_editor(transactional_db: None) -> tuple[Client, User]:
    """A staff member allowed to view and change users, nothing else."""
    user = User.objects.create_user(username="editor", password="pw-long-enough-1", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_user", "change_user"]))
    browser = Client()
    browser.force_login(user)
    return browser, user


def _change_form(browser: Client, user: User) -> dict[str, Any]:
    """The user's change form as the admin renders it, every field as submitted unchanged."""
    page = browser.get(f"/admin/authcore/user/{user.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None or name in ("password",):
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(getattr(item, "pk", item)) for item in value]
        else:
            data[name] = str(value)
    for prefix in ("passkeys", "token_records", "browser_sessions", "oidc_identities"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return data


def test_staff_who_may_change_users_cannot_make_themselves_superuser(user_editor) -> None:
    browser, editor = user_editor
    form = _change_form(browser, editor)
    assert "is_superuser" not in form  # shown read-only, not as a field
    form.update(
        is_superuser="on",
        user_permissions=[str(p.pk) for p in Permission.objects.all()],
        display_name="Ed",
    )
    answered = browser.post(f"/admin/authcore/user/{editor.pk}/change/", form)
    assert answered.status_code == 302  # saved: what they may change, they changed
    editor.refresh_from_db()
    assert editor.display_name == "Ed"
    assert not editor.is_superuser
    assert set(editor.user_permissions.values_list("codename", flat=True)) == {
        "view_user",
        "change_user",
    }
    assert browser.get("/admin/tokens/signingkey/rotate-now/").status_code == 403


def _set_password(browser: Client, user: User, password: str) -> int:
    """The admin's "change password" form for ``user``, posted by ``browser``: its status."""
    answered = browser.post(
        f"/admin/authcore/user/{user.pk}/password/", {"password1": password, "password2": password}
    )
    return int(answered.status_code)


def test_staff_who_may_change_users_cannot_change_or_delete_a_superuser(user_editor) -> None:
    browser, _ = user_editor
    root = User.objects.create_superuser(username="root", password="pw-long-enough-1")
    assert _set_password(browser, root, "taken-over-pw-123") == 403
    root.refresh_from_db()
    assert root.check_password("pw-long-enough-1")
    assert browser.get(f"/admin/authcore/user/{root.pk}/change/").status_code == 200  # view
    assert (
        browser.post(f"/admin/authcore/user/{root.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert User.objects.filter(pk=root.pk).exists()


def test_a_superuser_still_grants_superuser(staff: Client) -> None:
    bob = User.objects.create_user(username="bob-2", password="pw-long-enough-1", is_staff=True)
    form = _change_form(staff, bob)
    form["is_superuser"] = "on"
    assert staff.post(f"/admin/authcore/user/{bob.pk}/change/", form).status_code == 302
    bob.refresh_from_db()
    assert bob.is_superuser


def test_staff_who_may_change_users_cannot_take_over_another_staff_account(user_editor) -> None:
    """Resetting a more powerful colleague's password and signing in as them is climbing too
    (found by a review of the fix above)."""
    browser, _ = user_editor
    ops = User.objects.create_user(username="ops", password="pw-long-enough-1", is_staff=True)
    ops.user_permissions.set(Permission.objects.all())
    assert _set_password(browser, ops, "taken-over-pw-123") == 403
    ops.refresh_from_db()
    assert ops.check_password("pw-long-enough-1")
    customer = User.objects.create_user(username="customer", password="pw-long-enough-1")
    # What change_user is for: accounts that are not staff.
    assert _set_password(browser, customer, "a-new-pw-for-them-1") == 302


def test_staff_who_may_change_groups_cannot_add_permissions_to_their_own(
    transactional_db: None,
) -> None:
    helpdesk = Group.objects.create(name="helpdesk")
    helpdesk.permissions.set(Permission.objects.filter(codename__in=["view_group", "change_group"]))
    member = User.objects.create_user(username="helper", password="pw-long-enough-1", is_staff=True)
    member.groups.add(helpdesk)
    browser = Client()
    browser.force_login(member)
    answered = browser.post(
        f"/admin/auth/group/{helpdesk.pk}/change/",
        {"name": "helpdesk", "permissions": [str(p.pk) for p in Permission.objects.all()]},
    )
    assert answered.status_code == 302
    assert helpdesk.permissions.count() == 2


def test_a_second_spelling_of_a_stored_address_is_a_form_error(staff: Client) -> None:
    User.objects.create_user(username="bob", email="bob@xn--bcher-kva.test")
    carol = User.objects.create_user(username="carol-2", email="carol@example.test")
    form = _change_form(staff, carol)
    form["email"] = "Bob@B\u00fccher.test"
    answered = staff.post(f"/admin/authcore/user/{carol.pk}/change/", form)
    assert answered.status_code == 200  # the form again, with the error
    carol.refresh_from_db()
    assert carol.email == "carol@example.test"
