"""`make bench` runs end to end in its short mode: servers up, wrk runs, table and JSON out.

No timing is asserted (issue 11: ratios vary by machine); only that every part of the
pipeline produced sane, complete output. The run uses its own databases and Redis prefix and
writes to a temporary directory, never to bench/results or docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ROWS = "floor.bare,floor.physical,simplejwt.me,authcore.healthz,authcore.me"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (make system)"),
]


@pytest.fixture(scope="module")
def quick_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("bench")
    docs = out / "benchmarks.md"
    docs.write_text(
        "# Benchmarks\n\n<!-- bench:results:start -->\nold\n<!-- bench:results:end -->\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--seconds",
            "1",
            "--only",
            ROWS,
            "--results-dir",
            str(out),
            "--docs",
            str(docs),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    return completed, out


def test_the_quick_run_succeeds_and_prints_the_table(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    completed, _ = quick_run
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "| row | req/s | p50 ms | p99 ms |" in completed.stdout
    assert "| target (issue 11) | measured | verdict |" in completed.stdout
    assert "In-process crypto floors" in completed.stdout


def test_the_json_holds_every_requested_row_with_a_rate_and_its_ratios(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, out = quick_run
    result = json.loads((out / "latest.json").read_text())
    rows = {row["key"]: row for row in result["rows"]}
    assert set(rows) == set(ROWS.split(","))
    for row in rows.values():
        assert row["status"].startswith("ok"), row  # "ok", maybe noting unbalanced workers
        assert row["rate"] > 0
        assert 0 < row["p50_ms"] <= row["p99_ms"]
        assert row["ratio_to_bare"] > 0
    assert rows["floor.bare"]["ratio_to_bare"] == 1.0
    targets = {target["key"]: target for target in result["targets"]}
    assert targets["me_vs_simplejwt"]["measured"] > 0
    assert targets["me_vs_physical"]["measured"] > 0
    assert isinstance(targets["healthz"]["met"], bool)
    assert result["crypto_floors"]["rs256_verify_per_s"] > 0
    assert result["crypto_floors"]["rs256_sign_per_s"] > 0
    assert len(list(out.glob("*.json"))) == 2  # latest.json and its timestamped copy


def test_the_table_replaces_the_docs_block_between_the_markers(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, out = quick_run
    docs = (out / "benchmarks.md").read_text()
    assert docs.startswith("# Benchmarks\n")
    assert "\nold\n" not in docs
    assert docs.count("<!-- bench:results:start -->") == 1
    assert "Authcore: GET /api/me (Bearer, full verification)" in docs


def test_the_run_leaves_no_server_and_no_database_behind(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    completed, _ = quick_run
    run_id = re.search(r"bench: run (\S+):", completed.stderr).group(1)  # type: ignore[union-attr]
    ports = [int(port) for port in re.findall(r"serving on 127\.0\.0\.1:(\d+)", completed.stderr)]
    assert len(ports) == 3
    for port in ports:
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers"
    database_url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    with psycopg.connect(database_url) as connection:
        names = [row[0] for row in connection.execute("SELECT datname FROM pg_database")]
    assert [name for name in names if name.endswith(run_id)] == []
