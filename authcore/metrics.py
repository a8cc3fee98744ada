"""Prometheus metrics, correct across gunicorn workers (prometheus_client multiprocess mode).

``authcore/__init__.py`` points ``PROMETHEUS_MULTIPROC_DIR`` at a directory shared by the
workers of one server before prometheus_client is imported, so no gunicorn config is needed.
Every metric in the contract is created at import, so ``/metrics`` shows it at zero.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

from authcore.metrics_dir import MARKER
from authcore.process import current_pid

# Each write of a multiprocess value first compares the process id with the one its files
# belong to (a fork starts new files); the id is read without a system call
# (authcore.process). Set before the first metric exists: every value of this process must
# come from one class, which owns the process's open files.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # always, once authcore/__init__.py ran
    values.ValueClass = values.MultiProcessValue(process_identifier=current_pid)

TOKENS_ISSUED = Counter("authcore_tokens_issued_total", "Access tokens issued.", ["kind"])
TOKEN_REVOCATIONS = Counter("authcore_token_revocations_total", "Access tokens revoked.")
AUTH_FAILURES = Counter(
    "authcore_auth_failures_total", "Failed authentications by reason.", ["reason"]
)
RATE_LIMIT_HITS = Counter(
    "authcore_rate_limit_hits_total", "Requests refused by a rate limit or lockout.", ["scope"]
)
KEY_ROTATIONS = Counter("authcore_key_rotations_total", "Signing key rotations.")
SIGNING_KEYS = Gauge(
    "authcore_signing_keys", "Signing keys by state.", ["state"], multiprocess_mode="livemax"
)
HTTP_REQUESTS = Counter(
    "authcore_http_requests_total", "HTTP requests by method and status.", ["method", "status"]
)
HTTP_LATENCY = Histogram(
    "authcore_http_request_duration_seconds",
    "HTTP request latency.",
    ["method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


def register_all() -> None:
    """Touch every labelled series the contract names so it is exported from the start."""
    for kind in ("client", "passkey", "email", "session"):
        TOKENS_ISSUED.labels(kind=kind)
    for state in ("next", "current", "retiring"):
        SIGNING_KEYS.labels(state=state)
    for scope in ("global", "auth", "lockout"):
        RATE_LIMIT_HITS.labels(scope=scope)
    for reason in ("master_credentials", "api_key", "user_secret", "invalid_token"):
        AUTH_FAILURES.labels(reason=reason)


def _forget_dead_processes() -> None:
    """Drop the ``live*`` gauge files of processes that are gone (a recycled or killed worker):
    prometheus_client keeps counting them until ``mark_process_dead``, and no gunicorn hook
    calls it here (the serving configuration is the contract's, without a config file). A
    ``livemax`` gauge such as ``authcore_signing_keys`` would otherwise keep the largest value
    any dead worker ever saw, and the "no next key" alert could never fire."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder or os.environ.get(MARKER) != folder:
        return  # a directory the operator set may be shared with other PID namespaces
    for path in Path(folder).glob("gauge_live*_*.db"):
        try:
            pid = int(path.stem.rsplit("_", 1)[1])
        except ValueError:
            continue
        if not Path(f"/proc/{pid}").exists():
            with contextlib.suppress(OSError):  # a concurrent scrape removed it first
                multiprocess.mark_process_dead(pid, folder)


def render() -> bytes:
    """The exposition text, aggregated over every worker of this server."""
    _forget_dead_processes()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)
