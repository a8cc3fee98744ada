"""The competitor (``bench/simplejwt``): DRF + simplejwt, RS256, blacklist query per request."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import requests

from bench.contenders.base import RunContext, Scenario
from bench.databases import recreate_database
from bench.load import Request
from bench.servers import BenchError, Server, run_django

SETTINGS = "bench.simplejwt.settings"
# The seeded user's secret reaches the seed command here, never on its command line: an
# argument shows in ``ps`` and in run_django's error message, and one that starts with "-"
# (1 in 64 of token_urlsafe's) is taken for an option.
SECRET_ENV = "BENCH_SIMPLEJWT_SECRET"


def seed_user(env: dict[str, str], username: str, secret: str) -> int:
    """Create the competitor's user with ``secret`` as its password; its id."""
    seeded = run_django(
        SETTINGS, ["simplejwt_seed", "--username", username], {**env, SECRET_ENV: secret}
    )
    return int(json.loads(seeded)["user_id"])


def start_simplejwt(context: RunContext, key_file: Path) -> tuple[Server, list[Scenario]]:
    env = {
        **context.base_env(),
        "DATABASE_URL": recreate_database(context.database_url, context.database_name("simplejwt")),
        "BENCH_PRIVATE_KEY_FILE": str(key_file),
    }
    username, secret = "bench-simplejwt", secrets.token_urlsafe(32)
    run_django(SETTINGS, ["migrate", "--noinput", "-v", "0"], env)
    seed_user(env, username, secret)

    server = Server("simplejwt", "bench.simplejwt.wsgi", env, context.workdir / "simplejwt.log")
    server.start()
    server.wait_ready("/api/token")
    credentials = json.dumps({"username": username, "password": secret})
    answer = requests.post(
        server.base_url + "/api/token",
        data=credentials,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    if answer.status_code != 200:
        raise BenchError(f"simplejwt token request failed: {answer.status_code} {answer.text}")
    access = answer.json()["access"]
    scenarios = [
        Scenario(
            "simplejwt.me",
            "simplejwt: protected view (RS256 + blacklist query + user)",
            server,
            Request("GET", "/api/me", {"Authorization": f"Bearer {access}"}),
        ),
        Scenario(
            "simplejwt.issue",
            "simplejwt: token pair issue (TokenObtainPairView)",
            server,
            Request("POST", "/api/token", {"Content-Type": "application/json"}, credentials),
        ),
    ]
    return server, scenarios
