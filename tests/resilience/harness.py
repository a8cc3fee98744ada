"""Real processes for the resilience tests: gunicorn instances, a throwaway Redis, a TCP proxy in
front of PostgreSQL, and the databases they share.

Nothing here imports the app: the servers are started as an operator starts them (gunicorn and
``manage.py`` with nothing but the environment), and the tests talk to them over HTTP.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
import requests

from tests.leaks import outcome

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The public origin of the service, as a load balancer in front of every instance would give it:
# the issuer of every token, the WebAuthn origin, the allowed Origin of the CSRF check.
PUBLIC_ORIGIN = "http://authcore.resilience.test"
PUBLIC_HOST = "authcore.resilience.test"
MASTER = ("resilience-master", "a long master passphrase for the resilience suite 7")
# Liveness bound of one request while a dependency fails: generous on a loaded 2-core CI
# machine, yet far below what a request stuck on a dead socket costs (redis-py and libpq
# would wait for seconds or forever).
STUCK = 3.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Any, timeout: float = 15.0, interval: float = 0.05) -> bool:
    """Poll ``condition`` until true; the tests never assert on the time it took."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


# --- PostgreSQL -------------------------------------------------------------------------------


def suite_database_url() -> str:
    """The suite's PostgreSQL server (``make pytest`` exports DATABASE_URL)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise RuntimeError("the resilience suite needs DATABASE_URL on PostgreSQL (make pytest)")
    return url


def database_url(name: str, *, port: int | None = None) -> str:
    """The suite's server URL naming database ``name`` (and optionally another port)."""
    parts = urlsplit(suite_database_url())
    netloc = parts.netloc
    if port is not None:
        netloc = f"{netloc.rsplit(':', 1)[0]}:{port}" if ":" in netloc.split("@")[-1] else netloc
    return urlunsplit((parts.scheme, netloc, f"/{name}", "", ""))


def server_port() -> int:
    return urlsplit(suite_database_url()).port or 5432


def admin_connection() -> psycopg.Connection[Any]:
    return psycopg.connect(database_url("postgres"), autocommit=True)


def create_database(name: str, *, template: str | None = None) -> None:
    with admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        suffix = f' TEMPLATE "{template}"' if template else ""
        connection.execute(f'CREATE DATABASE "{name}"{suffix}')


def drop_database(name: str) -> None:
    with admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(name: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read the shared database as an operator would (psql), to check what was written."""
    with psycopg.connect(database_url(name)) as connection:
        return connection.execute(sql, params).fetchall()


# --- Redis ------------------------------------------------------------------------------------


@dataclass
class ThrowawayRedis:
    """A redis-server of our own on a free port (or a Unix socket), which the tests may kill
    and restart."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    unix_socket: Path | None = None  # listen there instead of on the port

    @property
    def url(self) -> str:
        if self.unix_socket is not None:
            return f"unix://{self.unix_socket}"
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        listen = (
            ("--port", "0", "--unixsocket", str(self.unix_socket))
            if self.unix_socket is not None
            else ("--port", str(self.port), "--bind", "127.0.0.1")
        )
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                *listen,
                *("--save", "", "--appendonly", "no", "--dir", str(self.folder)),
            ],
            stdout=subprocess.DEVNULL,
        )
        if not wait_until(self.answers, timeout=10):
            raise RuntimeError("throwaway redis-server did not start")

    def client(self, **options: Any) -> redis.Redis:
        return redis.Redis.from_url(self.url, **options)

    def answers(self) -> bool:
        try:
            return bool(self.client(socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)  # in case a test froze it
            self.process.kill()
            self.process.wait()


# --- a TCP proxy we can cut -------------------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``upstream_port``; ``cut()`` drops every connection and
    refuses new ones (as a stopped PostgreSQL does), ``restore()`` listens again.

    It counts the ``connections`` opened through it and, with ``record=True``, keeps ``sent``,
    what the clients sent, chunk by chunk (one small command or pipeline is one chunk): for
    tests that prove what reached the server rather than how long something took."""

    def __init__(self, upstream_port: int, *, record: bool = False) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.connections = 0
        self.record = record
        self.sent: list[bytes] = []
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.restore()

    def commands(self, name: bytes) -> int:
        """How many chunks sent so far hold the command ``name`` (e.g. ``b"EVALSHA"``)."""
        with self._lock:
            return sum(name in chunk for chunk in self.sent)

    def sent_since(self, index: int) -> list[bytes]:
        with self._lock:
            return self.sent[index:]

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                downstream, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                downstream.close()
                continue
            with self._lock:
                self._sockets += [downstream, upstream]
                self.connections += 1
            for source, target, record in (
                (downstream, upstream, self.record),
                (upstream, downstream, False),
            ):
                threading.Thread(
                    target=self._pipe, args=(source, target, record), daemon=True
                ).start()

    def _pipe(self, source: socket.socket, target: socket.socket, record: bool = False) -> None:
        try:
            while data := source.recv(65536):
                if record:
                    with self._lock:
                        self.sent.append(data)
                target.sendall(data)
        except OSError:
            pass
        for side in (source, target):
            with contextlib.suppress(OSError):
                side.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for side in sockets:
            with contextlib.suppress(OSError):
                side.shutdown(socket.SHUT_RDWR)
            side.close()

    close = cut


# --- gunicorn instances -----------------------------------------------------------------------


def base_environment(**overrides: str) -> dict[str, str]:
    """What an operator gives every instance: the contract's variables, strong secrets."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PROMETHEUS_MULTIPROC_DIR", "AUTHCORE_METRICS_DIR", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        APP_ENVIRONMENT="test",
        API_BASE_URL=PUBLIC_ORIGIN,
        APP_ID="resilience-app",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
        JWT_SECRET=secrets.token_urlsafe(48),
        CSRF_SIGNING_SECRET=secrets.token_urlsafe(48),
        SESSION_SIGNING_SECRET=secrets.token_urlsafe(48),
        MASTER_USERNAME=MASTER[0],
        MASTER_PASSWORD=MASTER[1],
        # Each test speaks for its own client IPs through X-Forwarded-For from this proxy.
        TRUSTED_PROXIES="127.0.0.1",
        RATE_LIMIT_GLOBAL="100000/1m",
        RATE_LIMIT_AUTH="100000/1m",
        LOG_LEVEL="WARNING",
        LOG_FORMAT="json",
        EMAIL_URL="consolemail://",
    )
    env.update(overrides)
    return env


@dataclass
class Instance:
    """One ``gunicorn authcore.wsgi:application -w 2 -k gthread --threads 4`` on a free port."""

    name: str
    env: dict[str, str]
    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    healthy: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder / f"{self.name}.log"

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "authcore.wsgi:application",
                    *("-w", "2", "-k", "gthread", "--threads", "4"),
                    *("-b", f"127.0.0.1:{self.port}", "--graceful-timeout", "5"),
                ],
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = self.process
        wait_until(lambda: process.poll() is not None or self._answers(), timeout=90, interval=0.2)
        self.healthy = process.poll() is None and self._answers()
        if not self.healthy:
            self.stop()

    def _answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def workers(self) -> list[int]:
        assert self.process is not None
        found = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        )
        return [int(pid) for pid in found.stdout.split()]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def manage(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``python manage.py ARGS`` on this instance's host (same environment)."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def manage_async(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            env=self.env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@dataclass
class Cluster:
    """Instances sharing one database and one Redis (namespace)."""

    instances: list[Instance]
    database: str
    redis_url: str
    redis_prefix: str

    def __iter__(self) -> Iterator[Instance]:
        return iter(self.instances)

    def __getitem__(self, index: int) -> Instance:
        return self.instances[index]

    def stop(self) -> None:
        for instance in self.instances:
            instance.stop()


class Caller:
    """HTTP as one client IP (X-Forwarded-For from the trusted local proxy); no keep-alive,
    so consecutive calls reach different workers."""

    _next = 0
    _lock = threading.Lock()

    def __init__(self, ip: str | None = None) -> None:
        if ip is None:
            with Caller._lock:
                Caller._next += 1
                number = Caller._next + os.getpid() % 200 * 1000
            ip = f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"
        self.ip = ip
        self.user_agent = "Mozilla/5.0 (X11; Linux x86_64) AuthcoreResilience/1.0"

    def request(
        self, method: str, url: str, *, timeout: float = 30, **kwargs: Any
    ) -> requests.Response:
        headers = {
            "X-Forwarded-For": self.ip,
            "User-Agent": self.user_agent,
            "Connection": "close",
            **kwargs.pop("headers", {}),
        }
        return requests.request(method, url, headers=headers, timeout=timeout, **kwargs)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, **kwargs)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class ClientUser:
    api_key: str
    identifier: str
    secret: str


def new_client_user(instance: Instance, caller: Caller, identifier: str) -> ClientUser:
    """A client (master credentials) and one of its users, through the public API."""
    created = caller.post(
        f"{instance.url}/api/clients", json={"name": f"client-{identifier}"}, auth=MASTER
    )
    assert created.status_code == 201, outcome(created)
    api_key = created.json()["api_key"]
    user = caller.post(
        f"{instance.url}/api/users",
        json={"identifier": identifier},
        headers={"x-api-key": api_key},
    )
    assert user.status_code == 201, outcome(user)
    return ClientUser(api_key=api_key, identifier=identifier, secret=user.json()["secret"])


def token_for(instance: Instance, caller: Caller, user: ClientUser, **body: Any) -> dict[str, Any]:
    response = caller.post(
        f"{instance.url}/api/tokens",
        json={"identifier": user.identifier, "secret": user.secret, **body},
        headers={"x-api-key": user.api_key},
    )
    assert response.status_code == 201, outcome(response)
    result: dict[str, Any] = response.json()
    return result
