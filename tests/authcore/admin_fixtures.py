"""Fixtures for the staff-console tests: a superuser, a view-only staff member, and the
things staff act on (a client with a user and a token, a passkey, a browser session), all made
through the public API or services, as in production."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.test import APIClient

from authcore.models import User
from tests.clients.conftest import (
    MASTER_PASSWORD,
    MASTER_USERNAME,
    Backend,
    Bearer,
    ClientUserCredentials,
    basic,
    create_user,
    get_token,
)
from tests.leaks import outcome
from tests.passkeys.authenticator import SoftwareAuthenticator
from tests.passkeys.conftest import register

STAFF_PASSWORD = "staff-password-for-the-admin-tests-0123456789"
API_KEY_IN_PAGE = re.compile(rb'<code class="api-key">([^<]+)</code>')


@pytest.fixture
def master_configured(settings: Any) -> dict[str, str]:
    settings.MASTER_USERNAME = MASTER_USERNAME
    settings.MASTER_PASSWORD = MASTER_PASSWORD
    return basic(MASTER_USERNAME, MASTER_PASSWORD)


@pytest.fixture
def staff(transactional_db: None) -> Client:
    """A superuser signed in through /admin/login/ with a username and password."""
    User.objects.create_superuser(
        username="root", email="root@example.test", password=STAFF_PASSWORD
    )
    browser = Client()
    page = browser.post(
        "/admin/login/?next=/admin/",
        {"username": "root", "password": STAFF_PASSWORD, "next": "/admin/"},
    )
    assert page.status_code == 302 and page["Location"] == "/admin/", page.content[:500]
    return browser


@pytest.fixture
def viewer(transactional_db: None) -> Client:
    """A staff member who may view everything and change nothing."""
    user = User.objects.create_user(
        username="auditor", email="auditor@example.test", password=STAFF_PASSWORD, is_staff=True
    )
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    browser = Client()
    browser.force_login(user)
    return browser


@dataclass
class World:
    """What staff act on: a client, its user and token, a passkey user, a browser session."""

    backend: Backend
    client_user: ClientUserCredentials
    bearer: Bearer
    passkey_user: dict[str, Any]
    passkey_token: str = field(repr=False)
    browser: Any = field(repr=False)  # tests.sessions_app.conftest.Browser


ONCE_IN_PAGE = re.compile(rb'name="once" value="([^"]+)"')


def once_of(page: Any) -> str:
    """The single-use token of a create or rotate form (clients/admin.py)."""
    (token,) = ONCE_IN_PAGE.findall(page.content)
    return str(token.decode())


def add_client_in_admin(staff: Client, name: str) -> Any:
    """Fill in and send the admin's add form, as a browser does (GET, then POST)."""
    form = staff.get("/admin/clients/client/add/")
    return staff.post("/admin/clients/client/add/", {"name": name, "once": once_of(form)})


def rotate_in_admin(staff: Client, pks: list[Any]) -> Any:
    """Run the rotate action and confirm it, as a browser does; returns the key page."""
    action = {"action": "rotate_key", "_selected_action": [str(pk) for pk in pks], "index": "0"}
    confirm = staff.post("/admin/clients/client/", action)
    assert confirm.status_code == 200, outcome(confirm)
    return staff.post(
        "/admin/clients/client/", {**action, "confirm": "yes", "once": once_of(confirm)}
    )


def create_client_in_admin(staff: Client, name: str) -> tuple[str, str]:
    """Add a client on the admin's add form; returns (client id, the key shown once)."""
    from clients.models import Client as ClientModel

    page = add_client_in_admin(staff, name)
    assert page.status_code == 200, outcome(page)
    keys = API_KEY_IN_PAGE.findall(page.content)
    assert len(keys) == 1
    client = ClientModel.objects.get(name=name)
    return str(client.pk), keys[0].decode()


@pytest.fixture
def world(staff: Client, settings: Any) -> World:
    from sessions_app.models import BrowserSession
    from tests.sessions_app.conftest import open_browser_session

    api = APIClient()
    client_id, api_key = create_client_in_admin(staff, "Shop backend")
    backend = Backend(id=client_id, name="Shop backend", api_key=api_key)
    client_user = create_user(api, backend, "alice@shop", email="alice@example.test")
    bearer = get_token(api, backend, client_user)
    authenticator = SoftwareAuthenticator(rp_id=settings.API_RP_ID, origin=settings.API_ORIGIN)
    registered = register(APIClient(), authenticator, "bob")
    assert registered.status_code == 201, outcome(registered)
    body = registered.json()
    bob = User.objects.get(username="bob")
    browser = open_browser_session(bob)
    assert BrowserSession.objects.filter(user=bob).count() == 1
    return World(
        backend=backend,
        client_user=client_user,
        bearer=bearer,
        passkey_user=body,
        passkey_token=body["access_token"],
        browser=browser,
    )
