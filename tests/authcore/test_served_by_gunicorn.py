"""The service as an operator runs it: ``gunicorn authcore.wsgi:application -w 2`` with nothing but
the environment. /metrics must add up across workers whichever one answers the scrape, and the
rate limit must be one window shared by every worker."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings as django_settings

pytestmark = [pytest.mark.slow, pytest.mark.real_rate_limits]

CONTRACT_METRICS = (
    "authcore_tokens_issued_total",
    "authcore_token_revocations_total",
    "authcore_auth_failures_total",
    "authcore_rate_limit_hits_total",
    "authcore_key_rotations_total",
    "authcore_signing_keys",
    "authcore_http_requests_total",
)
GLOBAL_LIMIT = 12
# /metrics counts against RATE_LIMIT_GLOBAL like any route (API.md exempts only the health
# probes and /.well-known/*): the scrapes come from another address than the requests they
# count, through the loopback proxy the server trusts.
SCRAPER = {"X-Forwarded-For": "192.0.2.50", "Connection": "close"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_url() -> str:
    db = django_settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{user}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


@contextmanager
def serving(
    settings: Any, *options: str, log: Any = subprocess.DEVNULL
) -> Iterator[tuple[str, int]]:
    """gunicorn on a free port with ``options``, on this run's test database and Redis prefix;
    yields its base URL and its master's process id once it answers."""
    if shutil.which("gunicorn", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("gunicorn is not installed")
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        # the server chooses its own metrics directory, as it would in production
        if key not in {"PROMETHEUS_MULTIPROC_DIR", "AUTHCORE_METRICS_DIR"}
    }
    env.update(
        APP_ENVIRONMENT="test",
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        AUTHCORE_REDIS_PREFIX=settings.REDIS_KEY_PREFIX,
        RATE_LIMIT_GLOBAL=f"{GLOBAL_LIMIT}/1h",
        TRUSTED_PROXIES="127.0.0.1",
        API_BASE_URL=f"http://127.0.0.1:{port}",
    )
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "authcore.wsgi:application",
            *options,
            "-b",
            f"127.0.0.1:{port}",
        ],
        env=env,
        cwd=django_settings.BASE_DIR,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")
        yield base, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


@pytest.fixture
def gunicorn(transactional_db, settings) -> Iterator[tuple[str, int]]:
    """Two gunicorn workers (gthread, two threads each)."""
    with serving(settings, "-w", "2", "-k", "gthread", "--threads", "2") as served:
        yield served


def sample(text: str, name: str, **labels: str) -> float:
    """The summed value of the samples called ``name`` whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{name}(?:\{{(.*)\}})? (\S+)$", line)
        if not match:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            total += float(match.group(2))
    return total


def test_metrics_add_up_across_workers_and_the_rate_limit_is_shared(gunicorn):
    base, master_pid = gunicorn
    first_scrape = requests.get(f"{base}/metrics", headers=SCRAPER, timeout=10).text
    for name in CONTRACT_METRICS:
        assert f"# TYPE {name} " in first_scrape, name
    assert sample(first_scrape, "authcore_rate_limit_hits_total", scope="global") == 0

    with requests.Session() as session:  # keep-alive off: let both workers answer
        session.headers["Connection"] = "close"
        statuses = [session.get(f"{base}/nope", timeout=10).status_code for _ in range(15)]
    assert statuses == [404] * GLOBAL_LIMIT + [429] * 3

    for _ in range(6):  # whichever worker answers, the totals are the same
        text = requests.get(f"{base}/metrics", headers=SCRAPER, timeout=10).text
        assert sample(text, "authcore_http_requests_total", status="404") == GLOBAL_LIMIT
        assert sample(text, "authcore_http_requests_total", status="429") == 3
        assert sample(text, "authcore_rate_limit_hits_total", scope="global") == 3

    # both workers wrote into the one directory of this server (named after its master)
    folders = list(
        Path(tempfile.gettempdir()).glob(f"authcore-metrics-{os.getuid()}-{master_pid}-*")
    )
    assert len(folders) == 1
    assert len({path.name for path in folders[0].glob("counter_*.db")}) == 2


def test_a_superuser_created_from_the_environment_signs_in_to_the_admin(transactional_db, client):
    environment = {
        **os.environ,
        "DJANGO_SUPERUSER_USERNAME": "root-admin",
        "DJANGO_SUPERUSER_EMAIL": "root@example.test",
        "DJANGO_SUPERUSER_PASSWORD": "a long admin passphrase 93",
        "DATABASE_URL": database_url(),
    }
    subprocess.run(
        [sys.executable, "manage.py", "createsuperuser", "--noinput"],
        env=environment,
        cwd=django_settings.BASE_DIR,
        check=True,
        capture_output=True,
        timeout=120,
    )
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "root-admin", "password": "a long admin passphrase 93"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200
    assert b"root-admin" in page.content


def _log_of_a_server_without_redis(workers: int) -> str:
    """Serve with ``workers`` processes and no ``REDIS_URL``; the log after two requests."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update(APP_ENVIRONMENT="test", DATABASE_URL=database_url(), LOG_FORMAT="json")
    command = [str(Path(sys.executable).parent / "gunicorn"), "authcore.wsgi:application"]
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [*command, "-w", str(workers), "-b", f"127.0.0.1:{port}"],
            env=env,
            cwd=django_settings.BASE_DIR,
            stdout=log,
            stderr=log,
        )
        try:
            for _ in range(300):
                try:
                    requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
                    break
                except requests.RequestException:
                    time.sleep(0.1)
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        log.seek(0)
        return log.read()


@pytest.mark.parametrize(("workers", "warned"), [(2, True), (1, False)])
def test_several_workers_without_redis_are_warned_about(transactional_db, workers, warned):
    """Without REDIS_URL the store is per process: with several workers a passkey ceremony or
    a browser session breaks whenever a request lands on another worker, so the log says so."""
    log = _log_of_a_server_without_redis(workers)
    assert ('"store_per_process"' in log) is warned, log[-2000:]


def test_the_images_access_log_holds_no_query_string_or_referer(transactional_db, settings):
    """docker/gunicorn.conf.py: a sign-in link's token and a callback's code and state travel
    in the query string, valid until used; gunicorn's access log is outside the app's
    redaction (found by fuzzing: a token copied from that log signed in)."""
    secrets = ("LinkTokenValue123", "AuthCodeValue456", "StateValue789", "RefererToken000")
    with tempfile.TemporaryFile() as log:
        with serving(settings, "-c", "docker/gunicorn.conf.py", log=log) as (base, _):
            link = requests.get(f"{base}/?token={secrets[0]}", timeout=10)
            callback = requests.get(
                f"{base}/auth/web/callback?code={secrets[1]}&state={secrets[2]}",
                headers={"Referer": f"{base}/?token={secrets[3]}"},
                timeout=10,
            )
        log.seek(0)
        lines = log.read().decode().splitlines()
    leaked = [secret for secret in secrets if any(secret in line for line in lines)]
    assert leaked == []
    access = [line for line in lines if '"GET / HTTP/1.1"' in line or "/auth/web/callback" in line]
    assert len(access) == 2, "the access log wrote a line per request"
    assert link.headers["X-Request-ID"] in access[0]
    assert callback.headers["X-Request-ID"] in access[1]
