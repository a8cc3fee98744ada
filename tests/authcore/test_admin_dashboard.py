# ruff: noqa: F811  (pytest fixtures imported from admin_fixtures)
"""The security dashboard shows what happened, from the audit trail: failed authentications
by reason, lockouts, revocations, new passkeys, sign-ins by method, the signing-key timeline,
flagged passkeys and where shared state lives. Events are caused through the public API."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.authcore.admin_fixtures import (  # noqa: F401 (fixtures)
    World,
    master_configured,
    staff,
    world,
)
from tests.passkeys.authenticator import SoftwareAuthenticator
from tests.passkeys.conftest import login, register

pytestmark = pytest.mark.django_db(transaction=True)
DASHBOARD = "/admin/authcore/auditevent/dashboard/"


def total(page: Any, title: str) -> int:
    found = re.search(rf'data-total="{re.escape(title)}">(\d+)<'.encode(), page.content)
    assert found, title
    return int(found.group(1))


def test_the_dashboard_counts_what_happened_and_draws_it_without_scripts(
    staff: Client, world: World, settings: Any
) -> None:
    settings.CLIENTS_LOCKOUT_MAX_FAILURES = 3
    api = APIClient()
    for _ in range(3):  # three wrong secrets lock the user out
        api.post(
            "/api/tokens",
            {"identifier": world.client_user.identifier, "secret": "wrong"},
            format="json",
            headers={"x-api-key": world.backend.api_key},
        )
    api.post(
        "/api/tokens/revoke",
        {"token": world.bearer.raw},
        format="json",
        headers={"x-api-key": world.backend.api_key},
    )
    authenticator = SoftwareAuthenticator(rp_id=settings.API_RP_ID, origin=settings.API_ORIGIN)
    assert register(APIClient(), authenticator, "carol").status_code == 201
    assert login(APIClient(), authenticator).status_code == 200

    page = staff.get(DASHBOARD)
    assert page.status_code == 200
    assert total(page, "Failed authentications") == 3
    assert b"user_secret (3)" in page.content
    assert total(page, "Rate-limit refusals and lockouts") == 1
    assert total(page, "Tokens revoked") == 1
    assert total(page, "New passkeys") == 2  # bob (fixture) and carol
    assert total(page, "Sign-ins") == 1
    assert total(page, "Sign-ups") == 2
    assert page.content.count(b"<svg xmlns") >= 6 and b"<rect" in page.content
    scripts = re.findall(rb'<script[^>]* src="([^"]+)"', page.content)
    assert all(src.startswith(b"/static/admin/") for src in scripts), scripts  # Django's own
    assert not re.search(rb'(src|href)="https?://', page.content)

    week = staff.get(DASHBOARD, {"window": "7d"})
    assert total(week, "Failed authentications") == 3


def test_the_dashboard_shows_the_key_timeline_and_the_store_state(
    staff: Client, world: World
) -> None:
    staff.post("/admin/tokens/signingkey/rotate-now/", {"confirm": "yes"})
    page = staff.get(DASHBOARD).content.decode()
    timeline = page.split('id="key-timeline"')[1].split('id="flagged-passkeys"')[0]
    assert "current" in timeline and "retiring" in timeline
    assert "hands over to the next key" in timeline or "next key published" in timeline
    assert "leaves the JWKS" in timeline
    assert "key.rotated_now" in timeline
    assert "Redis reachable" in page
    assert "authcore_key_rotations_total" in page
