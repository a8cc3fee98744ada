"""docs/security/threat-model.md names a test on every line, and every test it names exists
(collected by pytest itself, so a renamed or deleted test breaks this one)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCUMENT = REPO / "docs" / "security" / "threat-model.md"
CITATION = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def table_rows(text: str) -> list[str]:
    return [
        line
        for line in text.splitlines()
        if line.startswith("| ")
        and not line.startswith("| ---")
        and not line.startswith("| attack")
        and not line.startswith("| sentence")
    ]


def test_every_line_of_the_threat_model_names_a_test() -> None:
    rows = table_rows(DOCUMENT.read_text())
    assert len(rows) >= 30
    for row in rows:
        assert CITATION.search(row), f"a line without a test: {row[:100]}"


def test_every_test_the_threat_model_names_exists() -> None:
    cited = set(CITATION.findall(DOCUMENT.read_text()))
    files = sorted({path for path, _ in cited})
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", *files],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    node_ids = {line.split("[")[0] for line in collected.stdout.splitlines() if "::" in line}
    missing = sorted(f"{path}::{name}" for path, name in cited if f"{path}::{name}" not in node_ids)
    assert missing == [], collected.stderr[-2000:]
