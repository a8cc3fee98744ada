"""A passkey sign-in's token verifies with the real `jose` library against the JWKS URL."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from tests.passkeys.authenticator import SoftwareAuthenticator
from tests.passkeys.conftest import login, register

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


def verify_with_jose(token: str, jwks_url: str, issuer: str, audience: str) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "jose").is_dir():
        pytest.skip("node and tests/node/node_modules (npm ci) are needed")
    result = subprocess.run(
        [node, str(NODE_DIR / "verify-passkey-token.mjs"), token, jwks_url, issuer, audience],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    verified: dict[str, Any] = json.loads(result.stdout)
    return verified


def test_a_passkey_token_verifies_with_jose_against_the_jwks_url(
    live_server: Any, settings: Any
) -> None:
    settings.API_BASE_URL = settings.API_ORIGIN = live_server.url
    client = APIClient()
    device = SoftwareAuthenticator(rp_id=django_settings.API_RP_ID, origin=live_server.url)
    registered = register(client, device, "alice").json()
    signed_in = login(client, device).json()

    verified = verify_with_jose(
        signed_in["access_token"],
        f"{live_server.url}/.well-known/jwks.json",
        live_server.url,
        django_settings.APP_ID,
    )

    assert verified["header"]["alg"] == "RS256"
    assert verified["header"]["kid"]
    assert verified["claims"]["sub"] == registered["user"]["id"]
    assert verified["claims"]["credentialID"] == registered["credential"]["credential_id"]
    assert verified["claims"]["aud"] == django_settings.APP_ID


def test_jose_refuses_a_passkey_token_for_another_audience(live_server: Any, settings: Any) -> None:
    settings.API_BASE_URL = settings.API_ORIGIN = live_server.url
    client = APIClient()
    device = SoftwareAuthenticator(rp_id=django_settings.API_RP_ID, origin=live_server.url)
    token = register(client, device, "alice").json()["access_token"]

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is needed")
    result = subprocess.run(
        [
            node,
            str(NODE_DIR / "verify-passkey-token.mjs"),
            token,
            f"{live_server.url}/.well-known/jwks.json",
            live_server.url,
            "someone-else",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "ERR_JWT_CLAIM_VALIDATION_FAILED" in result.stderr
