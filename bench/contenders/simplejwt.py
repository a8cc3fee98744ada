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


def start_simplejwt(context: RunContext, key_file: Path) -> tuple[Server, list[Scenario]]:
    env = {
        **context.base_env(),
        "DATABASE_URL": recreate_database(context.database_url, context.database_name("simplejwt")),
        "BENCH_PRIVATE_KEY_FILE": str(key_file),
    }
    username, secret = "bench-simplejwt", secrets.token_urlsafe(32)
    run_django(SETTINGS, ["migrate", "--noinput", "-v", "0"], env)
    run_django(SETTINGS, ["simplejwt_seed", "--username", username, "--secret", secret], env)

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
