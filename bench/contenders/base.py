"""What every contender shares: the run's context and the scenario it exposes."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

from bench.load import Request
from bench.servers import Server

# Environment variables of the caller that must not leak into a contender's processes.
_SCRUBBED = (
    "DJANGO_SETTINGS_MODULE",
    "AUTHCORE_TEST_DB_SUFFIX",
    "AUTHCORE_REDIS_PREFIX",
    "PROMETHEUS_MULTIPROC_DIR",
    "PYTEST_CURRENT_TEST",
)


@dataclass
class RunContext:
    """Where this run keeps things: services, a private work directory, a unique id."""

    database_url: str
    redis_url: str
    workdir: Path
    run_id: str = field(default_factory=lambda: f"{os.getpid()}_{secrets.token_hex(3)}")

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url)

    def database_name(self, contender: str) -> str:
        return f"authcore_bench_{contender}_{self.run_id}"

    def redis_prefix(self, contender: str) -> str:
        return f"bench_{contender}_{self.run_id}"


@dataclass
class Scenario:
    """One row of the table: a request shape against one contender's server.

    ``request`` is fixed, or ``make_request(count)`` builds one with ``count`` single-use
    bodies right before each measurement (passkey assertions on fresh challenges).
    ``unavailable`` says why the row could not be measured (the endpoint does not exist yet).
    """

    key: str
    label: str
    server: Server | None
    request: Request | None = None
    make_request: Callable[[int], Request] | None = None
    unavailable: str = ""

    def build(self, count: int) -> Request:
        if self.make_request is not None:
            return self.make_request(count)
        assert self.request is not None
        return self.request


def unavailable(key: str, label: str, reason: str) -> Scenario:
    return Scenario(key=key, label=label, server=None, unavailable=reason)


def write_bodies(path: Path, bodies: list[str]) -> Path:
    path.write_text("\n".join(bodies) + "\n")
    return path
