# ruff: noqa: F811  (pytest fixtures imported from admin_fixtures)
"""The security dashboard in a real browser: headless Chromium signs in on /admin/login/ of a
live server with a staff username and password, opens the dashboard and saves a screenshot
(``AUTHCORE_SCREENSHOT_DIR`` if set, else the test's tmp dir) for a person to look at."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.authcore.admin_fixtures import (  # noqa: F401 (fixtures)
    STAFF_PASSWORD,
    World,
    master_configured,
    staff,
    world,
)

pytestmark = pytest.mark.django_db(transaction=True)

FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--window-size=1280,2600",
)


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[WebDriver]:
    binary = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if not binary or not driver_path:
        pytest.skip("Debian chromium and chromium-driver are not installed (make system)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def some_trouble(world: World, settings: Any) -> None:
    """A few failed sign-ins, a lockout and a revocation, so the charts have something."""
    settings.CLIENTS_LOCKOUT_MAX_FAILURES = 3
    api = APIClient()
    for _ in range(4):
        api.post(
            "/api/tokens",
            {"identifier": world.client_user.identifier, "secret": "wrong"},
            format="json",
            headers={"x-api-key": world.backend.api_key},
        )
    api.post(
        "/api/tokens",
        {"identifier": "x", "secret": "y"},
        format="json",
        headers={"x-api-key": "ak_bogus.bogus"},
    )
    api.get("/api/me", headers={"Authorization": "Bearer nonsense"})
    api.post(
        "/api/tokens/revoke",
        {"token": world.bearer.raw},
        format="json",
        headers={"x-api-key": world.backend.api_key},
    )


def test_staff_sign_in_in_chromium_and_see_the_dashboard(
    chromium: WebDriver, live_server: Any, world: World, settings: Any, tmp_path: Path
) -> None:
    some_trouble(world, settings)
    chromium.get(f"{live_server.url}/admin/login/?next=/admin/")
    chromium.find_element(By.NAME, "username").send_keys("root")
    chromium.find_element(By.NAME, "password").send_keys(STAFF_PASSWORD)
    chromium.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    link = WebDriverWait(chromium, 20).until(
        ec.element_to_be_clickable((By.LINK_TEXT, "Security dashboard"))
    )
    link.click()
    WebDriverWait(chromium, 20).until(ec.presence_of_element_located((By.ID, "key-timeline")))
    assert chromium.title.startswith("Security dashboard")
    charts = chromium.find_elements(By.CSS_SELECTOR, "figure.chart svg")
    assert len(charts) == 6 and all(chart.size["width"] > 300 for chart in charts)
    assert "Redis reachable" in chromium.find_element(By.ID, "store-state").text
    folder = Path(os.environ.get("AUTHCORE_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / "security-dashboard.png"
    assert chromium.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000
