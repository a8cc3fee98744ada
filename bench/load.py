"""wrk on loopback: one scenario for a bounded time, parsed from the Lua script's report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.servers import BenchError

LUA_SCRIPT = Path(__file__).resolve().parent / "lua" / "scenario.lua"
CONNECTIONS = 32
THREADS = 2
USER_AGENT = "authcore-bench/1"
# wrk opens its connections at start and keeps them for the run; the spread over gunicorn's
# workers is read this long after start (again, up to SPREAD_WAIT, until all are counted).
SPREAD_CHECK_AFTER = 0.5
SPREAD_WAIT = 3.0


class SpreadRefused(BenchError):
    """wrk was stopped early: its connections landed on the workers in a refused spread."""

    def __init__(self, spread: tuple[int, ...]) -> None:
        super().__init__("/".join(map(str, spread)) or "unknown")
        self.spread = spread


@dataclass(frozen=True)
class Request:
    """What wrk sends: a fixed request, or one body per request from ``bodies_file``."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    bodies_file: Path | None = None


@dataclass(frozen=True)
class Measurement:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    bodies_sent: int
    bodies_available: int
    first_error: str = ""
    connections_per_worker: tuple[int, ...] = ()

    @property
    def busiest_worker_share(self) -> float:
        return busiest_share(self.connections_per_worker)

    @property
    def rate(self) -> float:
        """Successful requests per second (refused or failed requests do not count)."""
        return max(self.requests - self.errors, 0) / self.seconds if self.seconds else 0.0

    @property
    def error_share(self) -> float:
        return self.errors / self.requests if self.requests else 1.0


def busiest_share(spread: tuple[int, ...]) -> float:
    """Share of wrk's connections on the busiest worker (1.0: one worker had them all; 0.0:
    unknown)."""
    total = sum(spread)
    return max(spread) / total if total else 0.0


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise BenchError("wrk is not installed: run scripts/system-packages.sh (make system)")
    return path


def run_wrk(
    base_url: str,
    request: Request,
    seconds: float,
    probe: Callable[[], list[int]] | None = None,
    accept: Callable[[tuple[int, ...]], bool] | None = None,
) -> Measurement:
    """Run wrk -t2 -c32 against ``base_url + request.path`` for ``seconds``.

    ``probe`` tells how wrk's connections spread over the workers (connections per worker);
    it is read once they are all open. If ``accept`` refuses that spread, wrk is stopped
    there and ``SpreadRefused`` raised, so a badly spread run costs half a second, not a run.
    """
    headers = {"User-Agent": USER_AGENT, **request.headers}
    env = {
        **os.environ,
        "BENCH_METHOD": request.method,
        "BENCH_HEADERS": "\n".join(f"{name}: {value}" for name, value in headers.items()),
        "BENCH_BODY": request.body,
        "BENCH_BODIES_FILE": str(request.bodies_file or ""),
        "BENCH_THREADS": str(THREADS),
    }
    command = [
        wrk_path(),
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA_SCRIPT),
        base_url + request.path,
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    spread: tuple[int, ...] = ()
    try:
        if probe is not None:
            spread = _settled_spread(probe)
            if accept is not None and not accept(spread):
                raise SpreadRefused(spread)
        stdout, stderr = process.communicate(timeout=seconds + 60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    raw: dict[str, int] | None = None
    first_error = ""
    for line in stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            raw = json.loads(line.removeprefix("BENCH_RESULT "))
        elif line.startswith("BENCH_FIRST_ERROR "):
            first_error = line.removeprefix("BENCH_FIRST_ERROR ")
    if raw is None:
        raise BenchError(f"wrk gave no result for {request.path}:\n{stderr[-2000:]}")
    errors = (
        raw["status_errors"]
        + raw["connect_errors"]
        + raw["read_errors"]
        + raw["write_errors"]
        + raw["timeouts"]
    )
    return Measurement(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        errors=errors,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        bodies_sent=raw["bodies_sent"],
        bodies_available=raw["bodies_available"],
        first_error=first_error,
        connections_per_worker=spread,
    )


def _settled_spread(probe: Callable[[], list[int]]) -> tuple[int, ...]:
    """Connections per worker once all of wrk's are counted (or as many as SPREAD_WAIT saw)."""
    time.sleep(SPREAD_CHECK_AFTER)
    deadline = time.monotonic() + SPREAD_WAIT
    spread = tuple(probe())
    while spread and sum(spread) < CONNECTIONS and time.monotonic() < deadline:
        time.sleep(0.1)
        spread = tuple(probe())
    return spread
