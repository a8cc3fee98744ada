"""Which Prometheus multiprocess directory a process uses: one per server, fresh per start.

Real processes: a parent whose command line reads ``gunicorn`` (as gunicorn's master does)
starts two children that import Authcore's chooser, like two workers of one server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.slow

CHILD = "from authcore.metrics_dir import ensure_multiprocess_dir as e; print(e())"
PARENT = """
import subprocess, sys
for _ in range(2):
    print(subprocess.run([{python!r}, "-c", {child!r}], check=True, capture_output=True,
                         text=True).stdout.strip())
"""


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PROMETHEUS_MULTIPROC_DIR", "AUTHCORE_METRICS_DIR"}
    }
    return {**env, **extra}


def server_with_two_workers(parent_name: str) -> list[str]:
    """Run a parent named ``parent_name`` that starts two children; their directories."""
    code = PARENT.format(python=sys.executable, child=CHILD)
    result = subprocess.run(
        ["bash", "-c", f'exec -a {parent_name} "{sys.executable}" -c "$0"', code],
        env=clean_env(),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout.split()


def test_the_workers_of_one_gunicorn_share_a_directory_and_a_new_server_gets_a_fresh_one():
    first_server = server_with_two_workers("gunicorn")
    second_server = server_with_two_workers("gunicorn")
    assert first_server[0] == first_server[1]
    assert second_server[0] == second_server[1]
    assert first_server[0] != second_server[0]


def test_processes_that_are_not_gunicorn_workers_each_have_their_own():
    directories = server_with_two_workers("python3")
    assert directories[0] != directories[1]


def test_a_directory_inherited_from_a_parent_that_chose_it_is_not_reused(tmp_path):
    inherited = str(tmp_path / "parents-metrics")
    result = subprocess.run(
        [sys.executable, "-c", CHILD],
        env=clean_env(PROMETHEUS_MULTIPROC_DIR=inherited, AUTHCORE_METRICS_DIR=inherited),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() != inherited


def test_an_operator_chosen_directory_is_used_as_is(tmp_path):
    chosen = str(tmp_path / "operator-metrics")
    result = subprocess.run(
        [sys.executable, "-c", CHILD],
        env=clean_env(PROMETHEUS_MULTIPROC_DIR=chosen),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == chosen
    assert Path(chosen).is_dir()


def test_directories_of_servers_that_are_gone_are_removed():
    stale = Path(tempfile.gettempdir()) / f"authcore-metrics-{os.getuid()}-4194304-1"
    stale.mkdir(exist_ok=True)
    (stale / "counter_1.db").write_bytes(b"")
    server_with_two_workers("python3")
    assert not stale.exists()
