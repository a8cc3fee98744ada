"""POST /api/tokens on the zero-config development default: SQLite and no Redis.

The suite's database is PostgreSQL, where an exchange records its token in the lookup's own
statement (a data-modifying WITH, which SQLite does not have). This runs the exchange the way
``make run`` serves it, in a fresh process on a fresh SQLite file, so the other branch of
``tokens.services.reserve_token`` (lookup alone, then the usual INSERT) is exercised too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import base64, json
import django
django.setup()
from django.core.management import call_command
from django.test import Client
call_command("migrate", "--noinput", "-v", "0")
web = Client(HTTP_HOST="localhost")
basic = "Basic " + base64.b64encode(b"operator:" + b"m" * 32).decode()
def post(path, body, **headers):
    response = web.post(path, json.dumps(body), content_type="application/json", headers=headers)
    return response.status_code, response.json()
_, client = post("/api/clients", {"name": "Shop"}, authorization=basic)
_, user = post("/api/users", {"identifier": "alice"}, x_api_key=client["api_key"])
credentials = {"identifier": "alice", "secret": user["secret"]}
tokens = [post("/api/tokens", credentials, x_api_key=client["api_key"]) for _ in range(2)]
wrong = post("/api/tokens", {**credentials, "secret": "us_" + "0" * 16 + "." + "A" * 43},
             x_api_key=client["api_key"])
me = web.get("/api/me", headers={"authorization": "Bearer " + tokens[1][1]["access_token"]})
from tokens.models import TokenRecord
print(json.dumps({
    "statuses": [status for status, _ in tokens] + [wrong[0], me.status_code],
    "me": me.json()["id"] == user["id"],
    "records": sorted(TokenRecord.objects.values_list("jti", flat=True)),
    "jtis": sorted(body["jti"] for _, body in tokens),
}))
"""


def test_the_exchange_works_on_sqlite_without_redis(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "PROMETHEUS_", "AUTHCORE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="authcore.settings",
        APP_ENVIRONMENT="development",
        DATABASE_URL=f"sqlite:///{tmp_path / 'dev.sqlite3'}",
        REDIS_URL="",
        MASTER_USERNAME="operator",
        MASTER_PASSWORD="m" * 32,
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["statuses"] == [201, 201, 401, 200]
    assert result["me"] is True
    # Both tokens recorded, the refused attempt not.
    assert result["records"] == result["jtis"]
