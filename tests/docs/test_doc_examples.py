"""Every fenced block marked ``<!-- example -->`` in README.md and docs/ runs against a live
server and must exit 0, so a page that lies fails the suite.

The blocks of one page run in order in one bash process (a page's walkthrough shares its shell
variables; ``set -a`` exports them to Python blocks). They get ``AUTHCORE_URL`` (the live
server), ``MASTER_USERNAME``/``MASTER_PASSWORD`` (configured on it) and ``APP_ID``; ``python``
is this virtualenv's. Supported languages: ``sh``/``bash``/``shell`` and ``python``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

REPO = Path(django_settings.BASE_DIR)
MARKED_BLOCK = re.compile(r"<!-- example -->\s*\n```(\w*)[^\n]*\n(.*?)\n```", re.DOTALL)
SHELL = {"sh", "bash", "shell"}
PYTHON = {"python", "py"}
MASTER = ("operator", "a-long-random-master-password")
TIMEOUT = 120


def pages() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def examples(page: Path) -> list[tuple[str, str]]:
    return MARKED_BLOCK.findall(page.read_text())


def script(page: Path) -> str:
    lines = ["set -euo pipefail", "set -a"]
    for language, code in examples(page):
        if language in SHELL:
            lines.append(code)
        elif language in PYTHON:
            lines += ["python - <<'AUTHCORE_EXAMPLE_PY'", code, "AUTHCORE_EXAMPLE_PY"]
        else:
            pytest.fail(f"{page.name}: an example in {language or 'no language'} cannot be run")
    return "\n".join(lines) + "\n"


PAGES_WITH_EXAMPLES = [page for page in pages() if examples(page)]


@pytest.fixture
def site(live_server: Any, settings: Any) -> Iterator[str]:
    url = str(live_server.url)
    settings.API_BASE_URL = url
    settings.API_ORIGIN = url
    settings.API_RP_ID = "localhost"
    settings.CORS_ALLOWED_ORIGINS = [url]
    settings.MASTER_USERNAME, settings.MASTER_PASSWORD = MASTER
    yield url


def test_the_readme_and_the_walkthroughs_have_runnable_examples() -> None:
    names = {page.relative_to(REPO).as_posix() for page in PAGES_WITH_EXAMPLES}
    assert {"README.md", "docs/quickstart.md", "docs/client-service.md"} <= names


def test_an_unclosed_or_unknown_example_is_not_silently_skipped(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("<!-- example -->\n```ruby\nputs 1\n```\n")
    with pytest.raises(pytest.fail.Exception, match="ruby"):
        script(page)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "page", PAGES_WITH_EXAMPLES, ids=lambda page: page.relative_to(REPO).as_posix()
)
def test_the_examples_of_the_page_run_against_a_live_server(page: Path, site: str) -> None:
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "AUTHCORE_URL": site,
        "MASTER_USERNAME": MASTER[0],
        "MASTER_PASSWORD": MASTER[1],
        "APP_ID": django_settings.APP_ID,
    }
    result = subprocess.run(
        ["bash", "-c", script(page)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, (
        f"an example of {page.relative_to(REPO)} failed (exit {result.returncode}):\n"
        f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
    )
