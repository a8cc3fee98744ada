"""Consumers we did not write verify our tokens against the live JWKS URL, across rotations.

- PyJWT's ``PyJWKClient`` (what a Python resource server uses);
- Node ``jose`` (``createRemoteJWKSet`` + ``jwtVerify``, as Privy-style verifiers do), run as a
  real process from ``tests/node/verify-with-jose.mjs``.

The app's clock starts ten days back and moves forward, so scheduled rotations happen within
the test while every token is still valid for the consumers' real clocks.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from django.core.management import call_command

from authcore.models import User
from tests.tokens.conftest import Clock
from tokens import app_settings, services

pytestmark = [
    pytest.mark.urls("tests.tokens.urls"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


class Jose:
    """The jose verifier process: one JSON command per line, one JSON answer per line."""

    def __init__(self, jwks_url: str, *, cooldown_ms: int) -> None:
        node = shutil.which("node")
        assert node, "node is needed for the jose peer (make test installs it)"
        self.process = subprocess.Popen(
            [
                node,
                str(NODE_DIR / "verify-with-jose.mjs"),
                jwks_url,
                app_settings.ISSUER,
                app_settings.AUDIENCE,
                str(cooldown_ms),
            ],
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, **command: Any) -> dict[str, Any]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, "the jose verifier exited"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def periods(settings: Any) -> Any:
    settings.JWT_KEY_ROTATION_HOURS = 24
    settings.JWT_KEY_TTL_HOURS = 48
    settings.JWT_KEY_PUBLISH_AHEAD_MINUTES = 60
    return settings


@pytest.fixture
def jwks_url(live_server: Any) -> str:
    return f"{live_server.url}/.well-known/jwks.json"


@pytest.fixture
def jose_without_refetch(jwks_url: str) -> Iterator[Jose]:
    """jose that never refetches on an unknown kid within the test (an hour's cooldown)."""
    verifier = Jose(jwks_url, cooldown_ms=3_600_000)
    yield verifier
    verifier.close()


@pytest.fixture
def jose_refetching(jwks_url: str) -> Iterator[Jose]:
    """jose that refetches the JWKS when it meets an unknown kid."""
    verifier = Jose(jwks_url, cooldown_ms=0)
    yield verifier
    verifier.close()


def kid(raw: str) -> str:
    return str(jwt.get_unverified_header(raw)["kid"])


def test_jose_with_a_cached_jwks_verifies_every_token_across_scheduled_rotations(
    user: User, frozen_clock: Clock, periods: Any, jose_without_refetch: Jose
) -> None:
    services.rotate_keys()
    assert jose_without_refetch.ask(op="reload")["ok"]
    failures, kids = [], set()
    for step in range(1, 3 * 48 + 1):  # three days in half-hour beats
        frozen_clock.advance(minutes=30)
        services.rotate_keys()  # the beat
        if step % 2 == 0:
            # The consumer refreshes its cache hourly here (the JWKS max-age allows 5 min):
            # as long as it refreshes within the publish-ahead time, no kid is ever unknown.
            jose_without_refetch.ask(op="reload")
        token = services.issue_token(user=user, kind="passkey").raw
        kids.add(kid(token))
        answer = jose_without_refetch.ask(op="verify", token=token)
        if not answer["ok"]:
            failures.append((step, answer))
    assert failures == []
    assert len(kids) == 4  # the first key and three scheduled successors signed


def test_jose_verifies_across_repeated_rotate_now_and_revoke_key(
    user: User, jose_refetching: Jose
) -> None:
    call_command("rotate_keys")
    older = services.issue_token(user=user, kind="client").raw
    failures = []
    for round_number in range(6):
        if round_number == 3:
            call_command(
                "revoke_key", "--", kid(services.issue_token(user=user, kind="client").raw)
            )
        else:
            call_command("rotate_keys", "--now")
        token = services.issue_token(user=user, kind="client").raw
        # After revoke_key the older token (signed by the revoked key) is rightly refused.
        for raw in (token, older) if round_number != 3 else (token,):
            answer = jose_refetching.ask(op="verify", token=raw)
            if not answer["ok"]:
                failures.append((round_number, answer))
        older = token
    assert failures == []


def test_jose_refuses_a_token_of_a_revoked_key_once_it_refetches(
    user: User, jose_refetching: Jose
) -> None:
    token = services.issue_token(user=user, kind="client").raw
    assert jose_refetching.ask(op="verify", token=token)["ok"]
    services.revoke_key(kid=kid(token))
    jose_refetching.ask(op="reload")
    answer = jose_refetching.ask(op="verify", token=token)
    assert answer["ok"] is False and answer["code"] == "ERR_JWKS_NO_MATCHING_KEY"


def pyjwt_verify(client: jwt.PyJWKClient, token: str) -> dict[str, Any]:
    signing_key = client.get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(
        token,
        signing_key.key,
        algorithms=["RS256"],
        audience=app_settings.AUDIENCE,
        issuer=app_settings.ISSUER,
    )
    return claims


def test_pyjwt_jwks_client_with_its_defaults_verifies_across_scheduled_rotations(
    user: User, frozen_clock: Clock, periods: Any, jwks_url: str
) -> None:
    # Defaults: the JWKS cached 300 s, at most one refetch per 30 s on an unknown kid. Within
    # this test no real time passes, so a kid it has not seen would fail: none may appear.
    services.rotate_keys()
    client = jwt.PyJWKClient(jwks_url)
    failures, kids = [], set()
    for step in range(1, 3 * 48 + 1):  # three days in half-hour beats
        frozen_clock.advance(minutes=30)
        services.rotate_keys()
        if step % 2 == 0:
            client.get_jwk_set(refresh=True)  # its periodic refresh (hourly here)
        token = services.issue_token(user=user, kind="client").raw
        kids.add(kid(token))
        try:
            assert pyjwt_verify(client, token)["sub"] == str(user.pk)
        except jwt.PyJWTError as error:
            failures.append((step, repr(error)))
    assert failures == []
    assert len(kids) == 4


def test_pyjwt_jwks_client_refetching_on_unknown_kids_verifies_across_rotate_now(
    user: User, jwks_url: str
) -> None:
    # After --now the new kid is unknown to every cache: a consumer that refetches on an
    # unknown kid (cooldown 0 here; PyJWT's default waits 30 s) keeps verifying.
    client = jwt.PyJWKClient(jwks_url, cooldown_duration=0)
    services.rotate_keys()
    older = services.issue_token(user=user, kind="client").raw
    failures = []
    for round_number in range(5):
        call_command("rotate_keys", "--now")
        token = services.issue_token(user=user, kind="client").raw
        for raw in (token, older):
            try:
                pyjwt_verify(client, raw)
            except jwt.PyJWTError as error:
                failures.append((round_number, repr(error)))
        older = token
    assert failures == []
