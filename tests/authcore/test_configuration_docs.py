"""docs/configuration.md documents every variable of the contract and of settings.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(settings.BASE_DIR)
CONTRACT = REPO.parent / "shared" / "API.md"  # CI keeps shared/ beside the clone
DOC = REPO / "docs" / "configuration.md"
ENV_READ = re.compile(r'(?:env(?:\.\w+)?|_secret|_list)\(\s*"([A-Z][A-Z0-9_]*)"')


def contract_variables() -> set[str]:
    if not CONTRACT.is_file():
        pytest.fail(f"the contract is missing: expected {CONTRACT} (shared/API.md beside the repo)")
    text = CONTRACT.read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def settings_variables() -> set[str]:
    return set(ENV_READ.findall((REPO / "authcore" / "settings.py").read_text()))


def documented_variables() -> set[str]:
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", DOC.read_text()))


def test_the_contract_table_is_read():
    assert {"APP_ENVIRONMENT", "REDIS_URL", "RATE_LIMIT_AUTH", "LOG_FORMAT"} <= contract_variables()


def test_every_contract_variable_is_documented():
    missing = contract_variables() - documented_variables()
    assert not missing, f"add to docs/configuration.md: {sorted(missing)}"


def test_every_variable_settings_reads_is_documented():
    found = settings_variables()
    assert {"DATABASE_URL", "JWT_SECRET", "OIDC_BEARER_AUDIENCES"} <= found
    missing = found - documented_variables()
    assert not missing, f"add to docs/configuration.md: {sorted(missing)}"


def test_every_contract_variable_is_read_by_settings():
    missing = contract_variables() - settings_variables()
    assert not missing, f"settings.py does not read: {sorted(missing)}"
