"""The demo page in headless Chromium with a virtual authenticator, against a live server.

Nothing is mocked: the page's own script runs WebAuthn in Chromium (CDP virtual
authenticator: CTAP2, internal, resident keys, user verification) against the real API.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from passkeys.models import Passkey
from tests.passkeys.browser import (
    add_virtual_authenticator,
    cdp_id_as_base64url,
    credentials_of,
    message_text,
    remove_virtual_authenticator,
    screenshot,
    visible,
    wait,
)
from tests.passkeys.conftest import Mailbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server: Any, settings: Any) -> Iterator[str]:
    """The live server as the service's public origin (an IP is not a valid RP ID)."""
    url = live_server.url
    assert url.startswith("http://localhost:")
    settings.API_BASE_URL = url
    settings.API_ORIGIN = url
    settings.API_RP_ID = "localhost"
    settings.CORS_ALLOWED_ORIGINS = [url]
    settings.CSRF_TRUSTED_ORIGINS = [url]
    yield url


def open_page(driver: WebDriver, url: str) -> None:
    driver.get(url)
    wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))


def rows(driver: WebDriver) -> list[Any]:
    return list(driver.find_elements(By.CSS_SELECTOR, "#passkey-list .passkey-row"))


def test_a_person_registers_signs_out_signs_in_without_a_username_renames_and_removes(
    site: str,
    chromium: WebDriver,
) -> None:
    first_device = add_virtual_authenticator(chromium)
    open_page(chromium, site + "/")
    screenshot(chromium, "1-signed-out")

    chromium.find_element(By.ID, "username").send_keys("alice")
    chromium.find_element(By.ID, "register-button").click()

    assert visible(chromium, "signed-in-username").text == "alice"
    claims = json.loads(chromium.find_element(By.ID, "claims").text)
    [credential] = credentials_of(chromium, first_device)
    assert credential["isResidentCredential"] is True
    assert claims["credentialID"] == cdp_id_as_base64url(credential)
    screenshot(chromium, "2-registered")

    chromium.find_element(By.ID, "signout-button").click()
    visible(chromium, "signin-button")
    assert chromium.find_element(By.ID, "username").get_attribute("value") == ""

    chromium.find_element(By.ID, "signin-button").click()  # every field empty
    assert visible(chromium, "signed-in-username").text == "alice"
    message_text(chromium, "Signed in as alice")

    chromium.find_element(By.CSS_SELECTOR, ".rename-button").click()
    name_input = chromium.find_element(By.CSS_SELECTOR, ".rename-input")
    name_input.clear()
    name_input.send_keys("My laptop")
    chromium.find_element(By.CSS_SELECTOR, ".save-button").click()
    message_text(chromium, "Renamed")
    assert chromium.find_element(By.CSS_SELECTOR, ".passkey-name").text == "My laptop"
    assert Passkey.objects.get().name == "My laptop"

    # The last passkey, and no verified email: the page explains the refusal.
    remove = chromium.find_element(By.CSS_SELECTOR, ".remove-button")
    remove.click()
    remove.click()
    assert "last passkey" in message_text(chromium, "last passkey")
    assert Passkey.objects.count() == 1

    # A second device adds a passkey; then the first one is removed.
    remove_virtual_authenticator(chromium, first_device)
    add_virtual_authenticator(chromium)
    chromium.find_element(By.ID, "add-passkey-button").click()
    message_text(chromium, "Added")
    assert len(rows(chromium)) == 2
    screenshot(chromium, "3-two-passkeys")

    laptop = next(r for r in rows(chromium) if "My laptop" in r.text)
    laptop.find_element(By.CSS_SELECTOR, ".remove-button").click()
    laptop.find_element(By.CSS_SELECTOR, ".remove-button").click()
    message_text(chromium, "Removed")
    assert [r.find_element(By.CSS_SELECTOR, ".passkey-name").text for r in rows(chromium)] == [
        "Passkey 2"
    ]
    assert Passkey.objects.count() == 1


def test_without_webauthn_the_page_offers_the_email_code(
    site: str,
    chromium: WebDriver,
    mailbox: Mailbox,
) -> None:
    chromium.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {"source": "delete window.PublicKeyCredential;"},
    )
    open_page(chromium, site + "/")

    visible(chromium, "no-webauthn")
    assert not chromium.find_element(By.ID, "signin-button").is_displayed()
    chromium.find_element(By.ID, "email").send_keys("Carol@Example.test")
    chromium.find_element(By.ID, "send-code-button").click()
    visible(chromium, "code").send_keys(mailbox_code(chromium, mailbox))
    chromium.find_element(By.ID, "verify-code-button").click()

    assert visible(chromium, "signed-in-username").text == "carol@example.test"
    screenshot(chromium, "4-email-signed-in")


def mailbox_code(driver: WebDriver, mailbox: Mailbox) -> str:
    message_text(driver, "Check")
    return mailbox.code_for("carol@example.test")


def test_a_wrong_code_gets_a_clear_message(
    site: str,
    chromium: WebDriver,
    mailbox: Mailbox,
) -> None:
    open_page(chromium, site + "/")
    chromium.find_element(By.ID, "email").send_keys("dave@example.test")
    chromium.find_element(By.ID, "send-code-button").click()
    message_text(chromium, "Check")
    right = mailbox.code_for("dave@example.test")
    visible(chromium, "code").send_keys(f"{(int(right) + 1) % 1_000_000:06d}")
    chromium.find_element(By.ID, "verify-code-button").click()

    assert "not right" in message_text(chromium, "not right")
    screenshot(chromium, "5-wrong-code")


def test_the_sign_in_link_from_the_mail_signs_in_on_the_page(
    site: str,
    chromium: WebDriver,
    mailbox: Mailbox,
) -> None:
    open_page(chromium, site + "/")
    chromium.find_element(By.ID, "email").send_keys("erin@example.test")
    chromium.find_element(By.ID, "send-code-button").click()
    message_text(chromium, "Check")

    chromium.get(mailbox.link_for("erin@example.test"))

    assert visible(chromium, "signed-in-username").text == "erin@example.test"
    assert "token=" not in chromium.current_url
