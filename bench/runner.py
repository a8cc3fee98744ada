"""The benchmark run: services, contenders, warm-up, interleaved rounds, report, clean-up.

``python -m bench`` (``make bench``) measures everything; ``--quick`` keeps each row to a
couple of seconds and one round (the smoke test's mode); ``--only`` picks rows by key prefix.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from bench import report
from bench.contenders.authcore import start_authcore
from bench.contenders.base import RunContext, Scenario
from bench.contenders.floor import start_floor
from bench.contenders.simplejwt import start_simplejwt
from bench.crypto_floors import measure_crypto_floors
from bench.databases import drop_database, settle
from bench.load import (
    CONNECTIONS,
    THREADS,
    USER_AGENT,
    Measurement,
    Request,
    SpreadRefused,
    busiest_share,
    run_wrk,
    wrk_path,
)
from bench.servers import REPO_ROOT, SERVER_ARGS, BenchError, Server

# Per-request bodies: how many to make beyond the expected count, and at most.
BODY_MARGIN = 2.5
MAX_BODIES = 60_000
# wrk is restarted, at most this many times per run, while its connections land with more than
# report.MAX_WORKER_SHARE of them on one worker (read half a second in: bench.load), so every
# contender is measured with the load spread alike; the last try runs whatever the spread.
SPREAD_ATTEMPTS = 12
# A whole run is measured again, at most this many times, when it stalled (below) or when
# even its last start landed unevenly (then with SPREAD_ATTEMPTS starts of its own).
BALANCE_ATTEMPTS = 4
# A run below this share of the row's best rate so far is measured again too (same attempts).
# gunicorn's gthread worker falls now and then into a lockstep where every request waits
# ~15 ms (p50 close to p99, a third or less of the row's usual rate), on the floor and on
# Authcore alike (most often with every connection on one worker); a round measured in it
# would skew every ratio of that round.
STALL_SHARE = 0.6


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1 round, short runs (smoke test)")
    parser.add_argument("--seconds", type=float, help="seconds per row per round")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up per row")
    parser.add_argument("--rounds", type=int, help="interleaved rounds")
    parser.add_argument("--only", default="", help="comma-separated row key prefixes")
    parser.add_argument("--results-dir", type=Path, default=REPO_ROOT / "bench" / "results")
    parser.add_argument(
        "--docs", type=Path, default=REPO_ROOT / "docs" / "benchmarks.md", help="'-' for none"
    )
    parser.add_argument("--keep", action="store_true", help="keep databases and logs")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (2.0 if args.quick else 8.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 3.0)
    args.rounds = args.rounds or (1 if args.quick else 3)
    return args


def _services_env() -> tuple[str, str]:
    """The suite's PostgreSQL and Redis (started if needed, as ``make services`` does)."""
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if database_url.startswith("postgres") and redis_url:
        return database_url, redis_url
    script = REPO_ROOT / "scripts" / "services.sh"
    subprocess.run([str(script), "start"], check=True, stdout=subprocess.DEVNULL)
    lines = subprocess.run(
        [str(script), "env"], check=True, capture_output=True, text=True
    ).stdout.split()
    found = dict(line.split("=", 1) for line in lines if "=" in line)
    return found["DATABASE_URL"], found["REDIS_URL"]


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    # Ctrl-C and TERM both end the run through the clean-up below (SIGINT explicitly: a
    # process started in the background by a shell inherits it ignored).
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    wrk_path()
    database_url, redis_url = _services_env()
    workdir = Path(tempfile.mkdtemp(prefix="authcore-bench-"))
    context = RunContext(database_url=database_url, redis_url=redis_url, workdir=workdir)
    servers: list[Server] = []
    started: list[str] = []
    _log(f"run {context.run_id}: databases authcore_bench_*_{context.run_id}")
    try:
        return _run(args, context, servers, started)
    except KeyboardInterrupt:
        _log("interrupted; stopping servers")
        return 130
    except BenchError as error:
        _log(f"failed: {error}")
        return 1
    finally:
        _clean_up(args, context, servers, started)


def _wanted(args: argparse.Namespace, key: str) -> bool:
    prefixes = [p.strip() for p in args.only.split(",") if p.strip()]
    return not prefixes or any(key.startswith(p) or p.startswith(key) for p in prefixes)


def _run(
    args: argparse.Namespace, context: RunContext, servers: list[Server], started: list[str]
) -> int:
    key_file = context.workdir / "rs256.pem"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))

    _log("crypto floors (in-process, one core)")
    crypto = measure_crypto_floors(key_file, 0.3 if args.quick else 2.0)

    scenarios: list[Scenario] = []
    notes: list[str] = []
    if _wanted(args, "floor"):
        _log("floor: database, seed, gunicorn")
        started.append("floor")
        server, found = start_floor(context, key_file)
        servers.append(server)
        scenarios += found
    if _wanted(args, "simplejwt"):
        _log("simplejwt: database, seed, gunicorn")
        started.append("simplejwt")
        server, found = start_simplejwt(context, key_file)
        servers.append(server)
        scenarios += found
    if _wanted(args, "authcore"):
        _log("authcore: database, migrations, gunicorn, seed through the API")
        started.append("authcore")
        found, authcore_notes = start_authcore(context, servers)
        scenarios += found
        notes += authcore_notes
    scenarios = [s for s in scenarios if _selected(args, s.key)]
    rows = {s.key: report.Row(s.key, s.label, unavailable=s.unavailable) for s in scenarios}
    live = [s for s in scenarios if not s.unavailable]
    for scenario in scenarios:
        if scenario.unavailable:
            _log(f"{scenario.key}: unavailable ({scenario.unavailable.splitlines()[0][:160]})")

    expected_rate: dict[str, float] = {}
    best_rate: dict[str, float] = {}  # per row, over the warm-up and the rounds so far
    _log(f"warm-up: {args.warmup:g} s per row, {len(live)} rows")
    for scenario in live:
        _measure(scenario, args.warmup, expected_rate, best_rate, balanced=False)
    for round_index in range(args.rounds):
        shift = round_index % max(len(live), 1)
        order = live[shift:] + live[:shift]  # each round starts elsewhere: noise hits all alike
        _log(f"round {round_index + 1}/{args.rounds}")
        for scenario in order:
            waited = settle(context.database_url)
            if waited > 1.0:
                _log(f"  waited {waited:.1f} s for PostgreSQL's autovacuum to finish")
            measurement = _measure(scenario, args.seconds, expected_rate, best_rate)
            rows[scenario.key].rounds = [*(rows[scenario.key].rounds or []), measurement]
            _log(
                f"  {scenario.key:<18} {measurement.rate:>9,.0f} req/s  p50 "
                f"{measurement.p50_ms:6.1f} ms  p99 {measurement.p99_ms:6.1f} ms"
                + (f"  errors {measurement.errors}" if measurement.errors else "")
            )

    result = report.build_result(
        list(rows.values()),
        crypto,
        {
            "generated_at": datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "mode": "quick" if args.quick else "full",
            "server": "gunicorn " + " ".join(SERVER_ARGS) + ", APP_ENVIRONMENT=test",
            "load": f"wrk -t{THREADS} -c{CONNECTIONS} on loopback",
            "seconds": args.seconds,
            "warmup_seconds": args.warmup,
            "rounds": args.rounds,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        notes,
    )
    markdown = report.render_markdown(result)
    print(markdown)
    latest = report.write_results(result, args.results_dir)
    _log(f"JSON written to {latest}")
    if str(args.docs) != "-":
        report.update_docs(markdown, args.docs)
        _log(f"table written to {args.docs}")
    return 0


def _selected(args: argparse.Namespace, key: str) -> bool:
    prefixes = [p.strip() for p in args.only.split(",") if p.strip()]
    return not prefixes or any(key.startswith(p) for p in prefixes)


def _measure(
    scenario: Scenario,
    seconds: float,
    expected_rate: dict[str, float],
    best_rate: dict[str, float],
    balanced: bool = True,
) -> Measurement:
    assert scenario.server is not None
    count = 0
    if scenario.make_request is not None:
        rate = expected_rate.get(scenario.key, 1000.0)
        count = min(MAX_BODIES, math.ceil(rate * seconds * BODY_MARGIN) + 200)
    attempts: list[tuple[Measurement, Request]] = []

    def stalled(measurement: Measurement) -> bool:
        return measurement.rate < STALL_SHARE * best_rate.get(scenario.key, 0.0)

    for _attempt in range(BALANCE_ATTEMPTS if balanced else 1):
        measurement, request = _spread_run(scenario, seconds, count, even=balanced)
        attempts.append((measurement, request))
        unbalanced = measurement.busiest_worker_share > report.MAX_WORKER_SHARE
        if not balanced or not (unbalanced or stalled(measurement)):
            break
        _log(
            f"{scenario.key}: "
            + (
                f"{measurement.rate:,.0f} req/s, under {STALL_SHARE:.0%} of its best "
                f"{best_rate[scenario.key]:,.0f} (stalled)"
                if stalled(measurement)
                else f"connections per worker {list(measurement.connections_per_worker)}"
            )
            + ", measuring again"
        )
    # Never balanced: keep the most balanced attempt that did not stall (the JSON shows its
    # spread); all stalled: the fastest.
    running = [pair for pair in attempts if not stalled(pair[0])]
    if running:
        measurement, request = min(running, key=lambda pair: pair[0].busiest_worker_share)
    else:
        measurement, request = max(attempts, key=lambda pair: pair[0].rate)
        _log(f"{scenario.key}: stalled in every attempt; kept the fastest")
    best_rate[scenario.key] = max(measurement.rate, best_rate.get(scenario.key, 0.0))
    if measurement.errors:
        sample = measurement.first_error or _sample(scenario, request)
        ran_out = measurement.bodies_sent > measurement.bodies_available
        _log(
            f"{scenario.key}: {measurement.errors} errors"
            + (" (single-use bodies ran out)" if ran_out else "")
            + f"; first: {sample}"
        )
    if scenario.make_request is not None:
        observed = measurement.rate
        if measurement.bodies_sent > measurement.bodies_available:
            observed = max(observed, measurement.requests / measurement.seconds) * 1.5
        expected_rate[scenario.key] = max(observed, expected_rate.get(scenario.key, 0.0))
    return measurement


def _spread_run(
    scenario: Scenario, seconds: float, count: int, *, even: bool
) -> tuple[Measurement, Request]:
    """One wrk run; with ``even``, restarted while its connections land unevenly."""
    server = scenario.server
    assert server is not None
    refused: list[str] = []
    for attempt in range(SPREAD_ATTEMPTS if even else 1):
        request = scenario.build(count)  # single-use bodies are spent by a stopped run too
        last = attempt == SPREAD_ATTEMPTS - 1
        try:
            measurement = run_wrk(
                server.base_url,
                request,
                seconds,
                server.connections_per_worker,
                None if last or not even else _evenly_spread,
            )
        except SpreadRefused as error:
            refused.append(str(error))
            continue
        if refused:
            spreads = ", ".join(refused)
            _log(f"{scenario.key}: restarted wrk {len(refused)}x (connections {spreads})")
        return measurement, request
    raise AssertionError("unreachable: the last attempt accepts any spread")


def _evenly_spread(spread: tuple[int, ...]) -> bool:
    return busiest_share(spread) <= report.MAX_WORKER_SHARE


def _sample(scenario: Scenario, request: Request) -> str:
    """One request as wrk sent it, to say why requests failed (status and body)."""
    assert scenario.server is not None
    try:
        answer = requests.request(
            request.method,
            scenario.server.base_url + request.path,
            headers={"User-Agent": USER_AGENT, **request.headers},
            data=request.body or None,
            timeout=10,
        )
    except requests.RequestException as error:
        return str(error)
    return f"{answer.status_code} {answer.text[:300]}"


def _clean_up(
    args: argparse.Namespace, context: RunContext, servers: list[Server], started: list[str]
) -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # finish cleaning even on Ctrl-C
    try:
        for server in servers:
            server.stop()
            if server.process is not None:  # Authcore's per-server metrics directory
                pattern = f"authcore-metrics-{os.getuid()}-{server.process.pid}*"
                for metrics_dir in Path(tempfile.gettempdir()).glob(pattern):
                    shutil.rmtree(metrics_dir, ignore_errors=True)
        if args.keep:
            _log(f"kept databases authcore_bench_*_{context.run_id} and logs in {context.workdir}")
            return
        for contender in started:
            try:
                drop_database(context.database_url, context.database_name(contender))
            except Exception as error:
                _log(f"could not drop {context.database_name(contender)}: {error}")
        try:
            store = context.redis()
            for contender in started:
                pattern = f"{context.redis_prefix(contender)}:*"
                keys = list(store.scan_iter(match=pattern, count=1000))
                for start in range(0, len(keys), 1000):
                    store.delete(*keys[start : start + 1000])
        except Exception as error:
            _log(f"could not clean Redis: {error}")
        shutil.rmtree(context.workdir, ignore_errors=True)
    finally:
        signal.signal(signal.SIGINT, previous)
