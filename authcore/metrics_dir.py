"""Choose ``PROMETHEUS_MULTIPROC_DIR`` so metrics are right across workers with no config.

Unless the operator set it, the directory belongs to the serving process: a gunicorn worker
uses its master's (the parent whose command line names gunicorn), anything else (``--preload``
masters, runserver, manage.py, Celery, pytest) its own. The name holds that process's pid and
start time, so every worker of one server writes to one directory while a new server (even one
reusing a pid, as PID 1 in a restarted container does) starts from a fresh, empty one.
Directories of servers that are gone are removed on the way.

A directory this module chose is marked in ``AUTHCORE_METRICS_DIR``; a child process that
inherits it (a gunicorn started by a test, say) chooses its own again instead of writing into
its parent's. A ``PROMETHEUS_MULTIPROC_DIR`` set by the operator is used as is (and must then
be emptied by the operator between runs, as prometheus_client documents).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

MARKER = "AUTHCORE_METRICS_DIR"
_PREFIX = "authcore-metrics"


def ensure_multiprocess_dir() -> str:
    current = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if current and os.environ.get(MARKER) != current:
        Path(current).mkdir(parents=True, exist_ok=True)
        return current
    owner = os.getppid() if _is_gunicorn_worker() else os.getpid()
    root = Path(tempfile.gettempdir())
    path = root / f"{_PREFIX}-{os.getuid()}-{owner}-{_start_time(owner)}"
    if str(path) != current:
        _remove_stale(root)
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
        os.environ[MARKER] = str(path)
    return str(path)


def _is_gunicorn_worker() -> bool:
    return any("gunicorn" in part for part in _cmdline(os.getppid()))


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot ("0" where /proc is missing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "0"
    # Field 22; the command name (field 2) may hold spaces, so split after its closing ')'.
    return stat.rsplit(")", 1)[1].split()[19]


def _remove_stale(root: Path) -> None:
    """Remove our directories whose server process no longer runs."""
    for folder in root.glob(f"{_PREFIX}-{os.getuid()}-*"):
        try:
            pid, started = folder.name.rsplit("-", 2)[1:]
            alive = started == "0" or _start_time(int(pid)) == started  # "0": cannot tell
        except ValueError:
            continue
        if not alive:
            shutil.rmtree(folder, ignore_errors=True)
