"""Headless Chromium with a CDP virtual authenticator, for the demo-page tests."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--window-size=1100,1300",
)


def start_chromium(profile: Path) -> WebDriver:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("Debian chromium and chromium-driver are not installed (make system)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    return webdriver.Chrome(service=Service(driver_path), options=options)


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[WebDriver]:
    driver = start_chromium(tmp_path / "profile")
    try:
        yield driver
    finally:
        driver.quit()


def add_virtual_authenticator(driver: WebDriver) -> str:
    """A platform authenticator (CTAP2, internal) with resident keys and user verification."""
    driver.execute_cdp_cmd("WebAuthn.enable", {"enableUI": False})
    result = driver.execute_cdp_cmd(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    authenticator_id: str = result["authenticatorId"]
    return authenticator_id


def remove_virtual_authenticator(driver: WebDriver, authenticator_id: str) -> None:
    driver.execute_cdp_cmd(
        "WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator_id}
    )


def credentials_of(driver: WebDriver, authenticator_id: str) -> list[dict[str, Any]]:
    result = driver.execute_cdp_cmd(
        "WebAuthn.getCredentials", {"authenticatorId": authenticator_id}
    )
    credentials: list[dict[str, Any]] = result["credentials"]
    return credentials


def cdp_id_as_base64url(credential: dict[str, Any]) -> str:
    raw = base64.b64decode(credential["credentialId"])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def wait(driver: WebDriver, condition: Any, seconds: float = 20) -> Any:
    return WebDriverWait(driver, seconds).until(condition)


def visible(driver: WebDriver, element_id: str) -> WebElement:
    element: WebElement = wait(driver, ec.visibility_of_element_located((By.ID, element_id)))
    return element


def message_text(driver: WebDriver, contains: str) -> str:
    wait(driver, ec.text_to_be_present_in_element((By.ID, "message"), contains))
    return str(driver.find_element(By.ID, "message").text)


def screenshot(driver: WebDriver, name: str) -> None:
    """Saved only when AUTHCORE_SCREENSHOTS names a folder (for looking at the page)."""
    folder = os.environ.get("AUTHCORE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))
