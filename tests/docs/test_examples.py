"""examples/ run as a reader would run them, against a live server: the Python backend, the
Node jose verifier and, in headless Chromium with a virtual authenticator, the front end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings as django_settings
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec

from tests.passkeys.browser import add_virtual_authenticator, chromium, wait  # noqa: F401

REPO = Path(django_settings.BASE_DIR)
EXAMPLES = REPO / "examples"
NODE_MODULES = REPO / "tests" / "node" / "node_modules"
MASTER = ("operator", "a-long-random-master-password-for-tests-0123456789")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(live_server: Any, settings: Any) -> Iterator[str]:
    """The live server as the service's public origin, with master credentials."""
    url = str(live_server.url)
    assert url.startswith("http://localhost:")  # an IP is not a valid WebAuthn RP ID
    settings.API_BASE_URL = url
    settings.API_ORIGIN = url
    settings.API_RP_ID = "localhost"
    settings.CORS_ALLOWED_ORIGINS = [url]
    settings.CSRF_TRUSTED_ORIGINS = [url]
    settings.MASTER_USERNAME, settings.MASTER_PASSWORD = MASTER
    yield url


def run(command: list[str], env: dict[str, str], cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        command,
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def access_token(site: str) -> str:
    """A client-service token, obtained over HTTP as a backend would."""
    key = requests.post(f"{site}/api/clients", json={"name": "ex"}, auth=MASTER, timeout=10)
    api_key = {"x-api-key": key.json()["api_key"]}
    user = requests.post(f"{site}/api/users", json={"identifier": "u"}, headers=api_key, timeout=10)
    body = {"identifier": "u", "secret": user.json()["secret"]}
    token = requests.post(f"{site}/api/tokens", json=body, headers=api_key, timeout=10)
    return str(token.json()["access_token"])


def test_the_backend_example_creates_a_user_gets_verifies_and_revokes_a_token(site: str) -> None:
    result = run(
        [sys.executable, str(EXAMPLES / "backend" / "client_service.py")],
        {
            "AUTHCORE_URL": site,
            "AUTHCORE_AUDIENCE": django_settings.APP_ID,
            "MASTER_USERNAME": MASTER[0],
            "MASTER_PASSWORD": MASTER[1],
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified locally" in result.stdout
    assert "revoked: /api/me answers 401" in result.stdout


@pytest.fixture
def verifier(tmp_path: Path) -> Path:
    """examples/verify-token as after `npm install` there: the script beside a node_modules
    holding jose (the suite's pinned copy, tests/node)."""
    if not (NODE_MODULES / "jose").is_dir():
        pytest.fail("tests/node/node_modules is missing: run `make node`")
    shutil.copy(EXAMPLES / "verify-token" / "verify.mjs", tmp_path / "verify.mjs")
    (tmp_path / "package.json").write_text('{"type": "module"}')
    (tmp_path / "node_modules").symlink_to(NODE_MODULES)
    return tmp_path


def verify(verifier: Path, site: str, token: str, audience: str) -> tuple[int, dict[str, Any]]:
    env = {"AUTHCORE_URL": site, "AUTHCORE_AUDIENCE": audience}
    result = run(["node", "verify.mjs", token], env, cwd=verifier)
    assert result.stdout.strip(), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_the_node_example_verifies_a_token_with_jose_against_the_jwks_url(
    site: str, verifier: Path
) -> None:
    token = access_token(site)
    status, answer = verify(verifier, site, token, django_settings.APP_ID)
    assert status == 0, answer
    assert answer["valid"] is True
    assert answer["claims"]["iss"] == site
    assert answer["claims"]["aud"] == django_settings.APP_ID
    assert answer["kid"]


def test_the_node_example_rejects_a_forged_signature_and_a_foreign_audience(
    site: str, verifier: Path
) -> None:
    token = access_token(site)
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-6]}AAAAAA"
    status, answer = verify(verifier, site, forged, django_settings.APP_ID)
    assert (status, answer["code"]) == (1, "ERR_JWS_SIGNATURE_VERIFICATION_FAILED")
    status, answer = verify(verifier, site, token, "some-other-app")
    assert (status, answer["code"]) == (1, "ERR_JWT_CLAIM_VALIDATION_FAILED")


@pytest.mark.browser
@pytest.mark.urls("tests.docs.example_urls")
def test_the_front_end_example_signs_up_and_signs_in_without_a_username(
    site: str,
    chromium: WebDriver,  # noqa: F811
) -> None:
    add_virtual_authenticator(chromium)
    chromium.get(f"{site}/example/index.html")
    status = (By.ID, "status")

    chromium.find_element(By.ID, "username").send_keys("frontend-example")
    chromium.find_element(By.ID, "register").click()
    wait(chromium, ec.text_to_be_present_in_element(status, "Signed in as frontend-example"))
    me = json.loads(chromium.find_element(By.ID, "me").text)
    assert me["username"] == "frontend-example"

    chromium.find_element(By.ID, "username").clear()
    chromium.execute_script("document.getElementById('me').textContent = ''")
    chromium.find_element(By.ID, "signin").click()  # no username: a discoverable credential
    wait(chromium, lambda d: d.find_element(By.ID, "me").text)
    assert json.loads(chromium.find_element(By.ID, "me").text)["username"] == "frontend-example"


@pytest.mark.browser
def test_the_api_docs_page_lists_the_operations_without_any_cdn(
    site: str,
    chromium: WebDriver,  # noqa: F811
) -> None:
    chromium.get(f"{site}/api/docs")
    wait(chromium, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) > 20)
    text = chromium.find_element(By.TAG_NAME, "body").text
    assert "/api/tokens/introspect" in text
    assert "/.well-known/jwks.json" in text
