"""The admin: a client's API key is shown once, on the page that creates or rotates it."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from clients.models import Client, ClientUser
from tests.authcore.admin_fixtures import add_client_in_admin, once_of
from tests.clients.conftest import create_user, get_token
from tests.leaks import assert_absent, assert_distinct

# Real commits: revocation reaches Redis in transaction.on_commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

KEY_PATTERN = re.compile(r"ak_[0-9a-f]{16}\.[A-Za-z0-9_-]{43}")


@pytest.fixture
def staff(client, django_user_model):
    admin_user = django_user_model.objects.create_superuser(
        username="staff", email="staff@example.test", password="a-staff-password-123"
    )
    client.force_login(admin_user)
    return client


def _pages(staff, client_obj: Client) -> str:
    """Every admin page where a client or its users show up."""
    urls = [
        "/admin/clients/client/",
        f"/admin/clients/client/{client_obj.pk}/change/",
        f"/admin/clients/client/{client_obj.pk}/history/",
        f"/admin/clients/client/{client_obj.pk}/delete/",
        "/admin/clients/clientuser/",
        "/admin/authcore/auditevent/",
        "/admin/",
    ]
    urls += [f"/admin/clients/clientuser/{cu.pk}/change/" for cu in client_obj.users.all()]
    pages = []
    for url in urls:
        response = staff.get(url)
        assert response.status_code in {200, 404}, url  # 404: an app without an admin page
        pages.append(response.content.decode())
    return "\n".join(pages)


def test_creating_a_client_shows_its_key_once_and_never_again(staff):
    response = add_client_in_admin(staff, "Shop")
    assert response.status_code == 200
    page = response.content.decode()
    keys = KEY_PATTERN.findall(page)
    assert len(keys) == 1
    api_key = keys[0]
    client_obj = Client.objects.get(name="Shop")
    prefixed = api_key.startswith(f"ak_{client_obj.key_id}.")
    assert prefixed

    later = _pages(staff, client_obj)
    assert_absent(
        later,
        "the admin pages",
        api_key=api_key,
        key_body=api_key.split(".")[1],
        key_hash=client_obj.key_hash.split("$")[1],
    )
    assert f"ak_{client_obj.key_id}." in later  # the prefix identifies it


def test_the_key_from_the_admin_works_over_the_api(staff, api_client):
    page = add_client_in_admin(staff, "Shop").content.decode()
    api_key = KEY_PATTERN.findall(page)[0]
    response = api_client.post(
        "/api/users", {"identifier": "x"}, format="json", headers={"x-api-key": api_key}
    )
    assert response.status_code == 201


def test_rotating_in_the_admin_asks_first_then_shows_the_new_key_once(staff, api_client, backend):
    client_obj = Client.objects.get(pk=backend.id)
    action = {"action": "rotate_key", ACTION_CHECKBOX_NAME: [str(client_obj.pk)]}
    confirm = staff.post("/admin/clients/client/", action)
    assert confirm.status_code == 200
    assert "Yes, rotate" in confirm.content.decode()
    assert Client.objects.get(pk=backend.id).key_id == client_obj.key_id  # nothing yet

    done = staff.post(
        "/admin/clients/client/", {**action, "confirm": "yes", "once": once_of(confirm)}
    )
    keys = KEY_PATTERN.findall(done.content.decode())
    assert len(keys) == 1
    new_key = keys[0]
    assert_distinct(new_key, backend.api_key, "API keys")

    old = api_client.post("/api/users", {"identifier": "y"}, format="json", headers=backend.headers)
    assert old.status_code == 401
    new = api_client.post(
        "/api/users", {"identifier": "y"}, format="json", headers={"x-api-key": new_key}
    )
    assert new.status_code == 201
    assert_absent(_pages(staff, Client.objects.get(pk=backend.id)), "the admin pages", key=new_key)


def test_client_users_are_listed_without_their_secrets(staff, api_client, backend, alice):
    page = staff.get("/admin/clients/clientuser/").content.decode()
    assert alice.identifier in page
    client_user = ClientUser.objects.get(identifier=alice.identifier)
    everything = _pages(staff, Client.objects.get(pk=backend.id))
    assert_absent(
        everything,
        "the admin pages",
        secret=alice.secret,
        secret_body=alice.secret.split(".")[1],
        secret_hash=client_user.secret_hash.split("$")[1],
    )
    assert staff.get("/admin/clients/clientuser/add/").status_code == 403


def test_revoking_every_token_of_a_user_in_the_admin_ends_them_at_once(
    staff, api_client, backend, alice, bearer
):
    other = get_token(api_client, backend, alice)
    client_user = ClientUser.objects.get(identifier=alice.identifier)
    response = staff.post(
        "/admin/clients/clientuser/",
        {"action": "revoke_user_tokens", ACTION_CHECKBOX_NAME: [str(client_user.pk)]},
        follow=True,
    )
    assert "Revoked 2 token(s)." in response.content.decode()
    for token in (bearer, other):
        answered = api_client.get("/api/me", headers=token.headers).status_code
        assert answered == 401


def test_revoking_every_token_of_a_client_in_the_admin_spares_other_clients(
    staff, api_client, backend, other_backend, bearer
):
    theirs_user = create_user(api_client, other_backend, "theirs")
    theirs = get_token(api_client, other_backend, theirs_user)
    response = staff.post(
        "/admin/clients/client/",
        {"action": "revoke_client_tokens", ACTION_CHECKBOX_NAME: [backend.id]},
        follow=True,
    )
    assert "Revoked 1 token(s)." in response.content.decode()
    answered = api_client.get("/api/me", headers=bearer.headers).status_code
    assert answered == 401
    assert api_client.get("/api/me", headers=theirs.headers).status_code == 200


def test_deleting_a_client_in_the_admin_kills_its_key_and_its_tokens(
    staff, api_client, backend, alice, bearer
):
    response = staff.post(f"/admin/clients/client/{backend.id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    answered = api_client.get("/api/me", headers=bearer.headers).status_code
    assert answered == 401
    assert (
        api_client.post(
            "/api/users", {"identifier": "z"}, format="json", headers=backend.headers
        ).status_code
        == 401
    )


def test_deleting_a_client_user_in_the_admin_ends_its_tokens(
    staff, api_client, backend, alice, bearer
):
    me = api_client.get("/api/me", headers=bearer.headers)
    assert me.json()["identifier"] == alice.identifier  # this process now knows the membership
    client_user = ClientUser.objects.get(identifier=alice.identifier)

    response = staff.post(f"/admin/clients/clientuser/{client_user.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    answered = api_client.get("/api/me", headers=bearer.headers).status_code
    assert answered == 401
    introspected = api_client.post(
        "/api/tokens/introspect", {"token": bearer.raw}, format="json", headers=backend.headers
    )
    assert introspected.json() == {"active": False}
    # The identifier may be given to someone else; the old token never speaks for them.
    newcomer = create_user(api_client, backend, alice.identifier)
    theirs = get_token(api_client, backend, newcomer)
    assert api_client.get("/api/me", headers=theirs.headers).json()["id"] == newcomer.id
    answered = api_client.get("/api/me", headers=bearer.headers).status_code
    assert answered == 401


def test_deleting_client_users_in_bulk_ends_only_their_tokens(
    staff, api_client, backend, alice, bearer
):
    bob = create_user(api_client, backend, "bob")
    bobs = get_token(api_client, backend, bob)
    client_user = ClientUser.objects.get(identifier=alice.identifier)

    staff.post(
        "/admin/clients/clientuser/",
        {"action": "delete_selected", "post": "yes", ACTION_CHECKBOX_NAME: [str(client_user.pk)]},
    )

    assert not ClientUser.objects.filter(pk=client_user.pk).exists()
    answered = api_client.get("/api/me", headers=bearer.headers).status_code
    assert answered == 401
    assert api_client.get("/api/me", headers=bobs.headers).status_code == 200


def test_reloading_the_page_that_shows_a_created_clients_key_creates_nothing(staff):
    form = staff.get("/admin/clients/client/add/")
    post = {"name": "Shop", "once": once_of(form)}
    assert KEY_PATTERN.findall(staff.post("/admin/clients/client/add/", post).content.decode())

    reloaded = staff.post("/admin/clients/client/add/", post)  # the browser sends it again

    assert Client.objects.filter(name="Shop").count() == 1
    assert not KEY_PATTERN.findall(reloaded.content.decode())
    assert "already submitted" in reloaded.content.decode()


def test_reloading_the_page_that_shows_a_rotated_key_leaves_that_key_working(
    staff, api_client, backend
):
    action = {"action": "rotate_key", ACTION_CHECKBOX_NAME: [backend.id]}
    confirm = staff.post("/admin/clients/client/", action)
    post = {**action, "confirm": "yes", "once": once_of(confirm)}
    (new_key,) = KEY_PATTERN.findall(staff.post("/admin/clients/client/", post).content.decode())

    reloaded = staff.post("/admin/clients/client/", post, follow=True)

    assert not KEY_PATTERN.findall(reloaded.content.decode())
    assert "already submitted" in reloaded.content.decode()
    created = api_client.post(
        "/api/users", {"identifier": "y"}, format="json", headers={"x-api-key": new_key}
    )
    assert created.status_code == 201
