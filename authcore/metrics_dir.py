"""Choose ``PROMETHEUS_MULTIPROC_DIR`` so metrics are right across workers with no config.

Unless the operator set it, the directory is keyed by the serving process group: gunicorn's
workers share their master's pid as parent, so all workers of one server write to one directory
and a new server starts from a fresh one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def ensure_multiprocess_dir() -> str:
    current = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if current:
        Path(current).mkdir(parents=True, exist_ok=True)
        return current
    # gunicorn workers: parent = master. Anything else (runserver, manage.py, pytest): itself.
    is_gunicorn_worker = "gunicorn" in os.environ.get("SERVER_SOFTWARE", "") or any(
        "gunicorn" in part for part in _parent_cmdline()
    )
    group = os.getppid() if is_gunicorn_worker else os.getpid()
    path = Path(tempfile.gettempdir()) / f"authcore-metrics-{os.getuid()}-{group}"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return str(path)


def _parent_cmdline() -> list[str]:
    try:
        raw = Path(f"/proc/{os.getppid()}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]
