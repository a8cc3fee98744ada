"""Child processes of a run: Django management commands and gunicorn servers.

Every contender is served by the same command line, ``SERVER_ARGS``, each on its own free
loopback port. Servers run in their own process group and are stopped (TERM, then KILL) when
the run ends, fails or is interrupted.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent

# The one serving configuration every contender gets (issue 11).
SERVER_ARGS = ("-w", "2", "--worker-class", "gthread", "--threads", "4")


class BenchError(RuntimeError):
    """A step of the benchmark failed; the message says which and why."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_django(settings_module: str, args: list[str], env: dict[str, str]) -> str:
    """Run ``django-admin <args>`` for one project; return stdout, raise with stderr on error."""
    completed = subprocess.run(
        [sys.executable, "-m", "django", *args],
        cwd=REPO_ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": settings_module},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if completed.returncode != 0:
        tail = "\n".join(completed.stderr.strip().splitlines()[-15:])
        raise BenchError(f"{settings_module}: django-admin {' '.join(args)} failed:\n{tail}")
    return completed.stdout


@dataclass
class Server:
    """One gunicorn serving ``wsgi_module:application`` on 127.0.0.1:``port``."""

    name: str
    wsgi_module: str
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.log_path.open("ab")
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            *SERVER_ARGS,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--no-control-socket",
            "--log-level",
            "warning",
            f"{self.wsgi_module}:application",
        ]
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        print(f"bench: {self.name} serving on 127.0.0.1:{self.port}", file=sys.stderr, flush=True)

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        """Poll ``path`` until it answers (any status below 500)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise BenchError(f"{self.name}: gunicorn exited early\n{self.log_tail()}")
            try:
                if requests.get(self.base_url + path, timeout=2).status_code < 500:
                    self.prime(path)
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise BenchError(f"{self.name}: not ready after {timeout:.0f}s\n{self.log_tail()}")

    def prime(self, path: str, requests_count: int = 64) -> None:
        """Fresh connections, so every worker imports its URLconf and opens its connections
        before anything is measured (wrk keeps its 32 connections, which may all land on
        one worker during a warm-up)."""
        for _ in range(requests_count):
            with contextlib.suppress(requests.RequestException):
                requests.get(self.base_url + path, headers={"Connection": "close"}, timeout=5)

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def connections_per_worker(self) -> list[int]:
        """Established client connections held by each worker, most loaded first ([] if
        ``ss`` cannot tell). wrk keeps its 32 connections for the whole run, and gunicorn
        lets whichever worker accepts first keep them: all 32 may land on one worker."""
        ss = shutil.which("ss")
        workers = self.worker_pids()
        if ss is None or not workers:
            return []
        listing = subprocess.run(
            [ss, "-tnpH", "state", "established", f"( sport = :{self.port} )"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
        held = [int(pid) for pid in re.findall(r"pid=(\d+)", listing)]
        return sorted((held.count(pid) for pid in workers), reverse=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        except ProcessLookupError:
            pass
