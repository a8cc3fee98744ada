"""The framework floor (``bench/floor``): bare Django views doing only the named work."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from webauthn.helpers import bytes_to_base64url

from bench.authenticator import SoftwarePasskey
from bench.contenders.base import RunContext, Scenario, write_bodies
from bench.databases import recreate_database
from bench.load import Request
from bench.servers import Server, run_django

SETTINGS = "bench.floor.settings"
RP_ID = "localhost"
ORIGIN = "http://localhost:8000"
PASSKEYS = 32  # as many as Authcore's row gets (one per wrk connection)


def start_floor(context: RunContext, key_file: Path) -> tuple[Server, list[Scenario]]:
    prefix = context.redis_prefix("floor")
    env = {
        **context.base_env(),
        "DATABASE_URL": recreate_database(context.database_url, context.database_name("floor")),
        "REDIS_URL": context.redis_url,
        "BENCH_REDIS_PREFIX": prefix,
        "BENCH_PRIVATE_KEY_FILE": str(key_file),
    }
    passkeys = [SoftwarePasskey(rp_id=RP_ID, origin=ORIGIN) for _ in range(PASSKEYS)]
    run_django(SETTINGS, ["migrate", "--noinput", "-v", "0"], env)
    seeded = json.loads(
        run_django(
            SETTINGS,
            [
                "floor_seed",
                *(
                    f"--credential={p.credential_id_b64}:{bytes_to_base64url(p.cose_public_key())}"
                    for p in passkeys
                ),
            ],
            env,
        )
    )
    user_id = int(seeded["user_id"])
    store = context.redis()
    session_id = secrets.token_urlsafe(32)
    store.set(f"{prefix}:value", "floor")
    store.set(f"{prefix}:session:{session_id}", json.dumps({"user_id": user_id}))

    server = Server("floor", "bench.floor.wsgi", env, context.workdir / "floor.log")
    server.start()
    server.wait_ready("/bare")

    now = int(time.time())
    private_key = load_pem_private_key(key_file.read_bytes(), None)
    token = jwt.encode(
        {
            "iss": "http://bench-floor.test",
            "aud": "bench",
            "sub": str(user_id),
            "iat": now,
            "exp": now + 86400,
            "jti": secrets.token_urlsafe(16),
        },
        private_key,  # type: ignore[arg-type]
        algorithm="RS256",
        headers={"kid": "floor"},
    )
    json_headers = {"Content-Type": "application/json"}

    def passkey_request(count: int) -> Request:
        bodies = []
        pipeline = store.pipeline(transaction=False)
        for index in range(count):
            challenge = secrets.token_bytes(32)
            pipeline.set(f"{prefix}:challenge:{challenge.hex()}", "1", ex=300)
            passkey = passkeys[index % PASSKEYS]
            bodies.append(json.dumps(passkey.assert_challenge(bytes_to_base64url(challenge))))
        pipeline.execute()
        path = write_bodies(context.workdir / "floor-passkey.bodies", bodies)
        return Request("POST", "/passkey", json_headers, bodies_file=path)

    scenarios = [
        Scenario("floor.bare", "floor: bare JSON view", server, Request("GET", "/bare")),
        Scenario(
            "floor.headers",
            "floor: bare JSON view with the contract's response headers",
            server,
            Request("GET", "/headers"),
        ),
        Scenario(
            "floor.document",
            "floor: a one-key JWKS with the contract's headers, ETag and Cache-Control",
            server,
            Request("GET", "/document"),
        ),
        Scenario("floor.pk", "floor: one PK SELECT", server, Request("GET", f"/pk?id={user_id}")),
        Scenario("floor.redis", "floor: one Redis GET", server, Request("GET", "/redis")),
        Scenario(
            "floor.limited",
            "floor: one Redis GET with the headers of a rate-limited answer",
            server,
            Request("GET", "/limited"),
        ),
        Scenario(
            "floor.physical",
            "floor: RS256 verify + Redis EXISTS + PK SELECT",
            server,
            Request("GET", "/physical", {"Authorization": f"Bearer {token}"}),
        ),
        Scenario(
            "floor.issue",
            "floor: PK SELECT + RS256 sign + INSERT",
            server,
            Request("POST", "/issue", json_headers, json.dumps({"user_id": user_id})),
        ),
        Scenario(
            "floor.session",
            "floor: cookie session, Redis GET + PK SELECT",
            server,
            Request("GET", "/session", {"Cookie": f"floor_session={session_id}"}),
        ),
        Scenario(
            "floor.passkey",
            "floor: passkey login (GETDEL, SELECT, verify, UPDATE, sign, INSERT)",
            server,
            make_request=passkey_request,
        ),
    ]
    return server, scenarios
