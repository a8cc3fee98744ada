"""Authcore itself: ``authcore.wsgi`` with the bench overlay settings, seeded through its API.

Rows whose endpoint does not answer yet (another issue still in flight) are reported as
unavailable with the reason, and the rest of the run goes on.
"""

from __future__ import annotations

import json
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from bench.authenticator import SoftwarePasskey
from bench.contenders.base import RunContext, Scenario, unavailable, write_bodies
from bench.databases import recreate_database
from bench.load import USER_AGENT, Request
from bench.servers import BenchError, Server, run_django

SETTINGS = "bench.authcore_settings"
# Large budgets through the contract's own variables: the limiter still runs on every request.
# The window is one second so the limiter's per-IP hit list stays as short as the load allows.
RATE_LIMIT = "20000/1s"
ORIGIN = "http://localhost:8000"
RP_ID = "localhost"
JSON = {"Content-Type": "application/json"}
# Passkeys the login row rotates through, one per wrk connection.
PASSKEYS = 32


class _Api:
    """A small JSON client for seeding (one ``requests.Session`` per thread)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            self._local.session = session
        return session

    def call(
        self, method: str, path: str, body: Any = None, expect: int = 200, **kwargs: Any
    ) -> requests.Response:
        response = self.session.request(
            method, self.base_url + path, json=body, timeout=30, **kwargs
        )
        if response.status_code != expect:
            raise BenchError(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return response


ROWS = {
    "authcore.healthz": "Authcore: /healthz",
    "authcore.stack": "Authcore: bare floor view behind the full middleware stack",
    "authcore.jwks": "Authcore: GET /.well-known/jwks.json",
    "authcore.openid": "Authcore: GET /.well-known/openid-configuration",
    "authcore.me": "Authcore: GET /api/me (Bearer, full verification)",
    "authcore.issue": "Authcore: POST /api/tokens (issue)",
    "authcore.passkey": "Authcore: POST /api/auth/passkey/login/verify (one assertion each)",
    "authcore.webme": "Authcore: GET /auth/web/me (session cookie)",
}


def start_authcore(context: RunContext, servers: list[Server]) -> tuple[list[Scenario], list[str]]:
    """Migrate, start and seed Authcore; return its scenarios and setup notes.

    A failure to migrate or start does not end the run: every Authcore row is then reported
    unavailable with the reason (the other contenders are still measured).
    """
    try:
        return _start(context, servers)
    except BenchError as error:
        reason = f"Authcore did not start: {error}"
        return [unavailable(key, label, reason) for key, label in ROWS.items()], [reason]


def _start(context: RunContext, servers: list[Server]) -> tuple[list[Scenario], list[str]]:
    master_password = secrets.token_urlsafe(32)
    env = {
        **context.base_env(),
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "APP_ENVIRONMENT": "test",
        "DATABASE_URL": recreate_database(context.database_url, context.database_name("authcore")),
        "REDIS_URL": context.redis_url,
        "AUTHCORE_REDIS_PREFIX": context.redis_prefix("authcore"),
        "RATE_LIMIT_GLOBAL": RATE_LIMIT,
        "RATE_LIMIT_AUTH": RATE_LIMIT,
        "MASTER_USERNAME": "bench-master",
        "MASTER_PASSWORD": master_password,
        "API_BASE_URL": ORIGIN,
    }
    notes: list[str] = []
    run_django(SETTINGS, ["migrate", "--noinput", "-v", "0"], env)
    try:
        run_django(SETTINGS, ["rotate_keys"], env)
    except BenchError as error:
        notes.append(f"rotate_keys failed: {str(error).splitlines()[-1]}")

    server = Server("authcore", "authcore.wsgi", env, context.workdir / "authcore.log")
    servers.append(server)
    server.start()
    server.wait_ready("/healthz")
    api = _Api(server.base_url)
    scenarios = [
        _fixed(api, server, "authcore.healthz", Request("GET", "/healthz")),
        _fixed(api, server, "authcore.stack", Request("GET", "/bench/floor")),
        _fixed(api, server, "authcore.jwks", Request("GET", "/.well-known/jwks.json")),
        _fixed(api, server, "authcore.openid", Request("GET", "/.well-known/openid-configuration")),
        *_client_scenarios(api, server, master_password),
        *_passkey_scenarios(api, server, context),
    ]
    return scenarios, notes


def _fixed(api: _Api, server: Server, key: str, request: Request) -> Scenario:
    """A fixed request, kept only if it answers as it should now."""
    label = ROWS[key]
    try:
        api.call(
            request.method,
            request.path,
            expect=201 if request.method == "POST" else 200,
            headers=request.headers,
            data=request.body or None,
        )
    except (BenchError, requests.RequestException) as error:
        return unavailable(key, label, str(error))
    return Scenario(key, label, server, request)


def _client_scenarios(api: _Api, server: Server, master_password: str) -> list[Scenario]:
    try:
        client = api.call(
            "POST",
            "/api/clients",
            {"name": "bench"},
            expect=201,
            auth=("bench-master", master_password),
        ).json()
        key_header = {"x-api-key": client["api_key"]}
        user = api.call(
            "POST", "/api/users", {"identifier": "bench-user"}, expect=201, headers=key_header
        ).json()
        credentials = json.dumps({"identifier": "bench-user", "secret": user["secret"]})
        token = api.call(
            "POST",
            "/api/tokens",
            expect=201,
            headers={**key_header, **JSON},
            data=credentials,
        ).json()["access_token"]
    except (BenchError, requests.RequestException, KeyError) as error:
        reason = f"client service not ready: {error}"
        return [unavailable(key, ROWS[key], reason) for key in ("authcore.me", "authcore.issue")]
    me = Request("GET", "/api/me", {"Authorization": f"Bearer {token}"})
    issue = Request("POST", "/api/tokens", {**key_header, **JSON}, credentials)
    return [
        _fixed(api, server, "authcore.me", me),
        _fixed(api, server, "authcore.issue", issue),
    ]


def _passkey_scenarios(api: _Api, server: Server, context: RunContext) -> list[Scenario]:
    login_label, web_label = ROWS["authcore.passkey"], ROWS["authcore.webme"]
    # One passkey per wrk connection: a passkey is not used by 32 clients at once, and
    # Authcore locks the passkey's row while it updates the counter.
    passkeys = [SoftwarePasskey(rp_id=RP_ID, origin=ORIGIN) for _ in range(PASSKEYS)]
    try:
        for index, passkey in enumerate(passkeys):
            options = api.call(
                "POST", "/api/auth/passkey/register/options", {"username": f"bench-passkey-{index}"}
            ).json()
            api.call(
                "POST", "/api/auth/passkey/register/verify", passkey.register(options), expect=201
            )
    except (BenchError, requests.RequestException, KeyError) as error:
        reason = f"passkey registration not ready: {error}"
        return [
            unavailable("authcore.passkey", login_label, reason),
            unavailable("authcore.webme", web_label, reason),
        ]

    def assertion(index: int = 0, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        challenge = api.call("POST", "/api/auth/passkey/login/options", {}).json()["challenge"]
        return {**passkeys[index % PASSKEYS].assert_challenge(challenge), **(extra or {})}

    def login_request(count: int) -> Request:
        with ThreadPoolExecutor(max_workers=8) as pool:
            bodies = [json.dumps(body) for body in pool.map(assertion, range(count))]
        path = write_bodies(context.workdir / "authcore-passkey.bodies", bodies)
        return Request("POST", "/api/auth/passkey/login/verify", JSON, bodies_file=path)

    scenarios: list[Scenario] = []
    try:
        api.call("POST", "/api/auth/passkey/login/verify", assertion())
        scenarios.append(
            Scenario("authcore.passkey", login_label, server, make_request=login_request)
        )
    except (BenchError, requests.RequestException, KeyError) as error:
        scenarios.append(unavailable("authcore.passkey", login_label, str(error)))
    try:
        signed_in = api.call(
            "POST", "/api/auth/passkey/login/verify", assertion(0, {"session": True})
        )
        cookie = signed_in.cookies.get("user_session_id")
        if not cookie:
            raise BenchError("login with session: true set no user_session_id cookie")
        web_me = Request("GET", "/auth/web/me", {"Cookie": f"user_session_id={cookie}"})
        scenarios.append(_fixed(api, server, "authcore.webme", web_me))
    except (BenchError, requests.RequestException, KeyError) as error:
        scenarios.append(unavailable("authcore.webme", web_label, str(error)))
    return scenarios
