"""Consumers we did not write verify our tokens against the live JWKS URL, across rotations.

- PyJWT's ``PyJWKClient`` (what a Python resource server uses);
- Node ``jose`` (``createRemoteJWKSet`` + ``jwtVerify``, as Privy-style verifiers do), run as a
  real process from ``tests/node/verify-with-jose.mjs``.

The app's clock starts ten days back and moves forward, so scheduled rotations happen within
the test while every token is still valid for the consumers' real clocks.
"""

from __future__ import annotations

import io
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


def test_jose_holding_a_jwks_cached_just_before_each_rotate_now_fails_nothing(
    user: User, jose_without_refetch: Jose
) -> None:
    """Repeated forced rotations (and one emergency revoke of the signing key), each right
    after the consumer filled its cache: the key that signs next was published by the
    previous step, so the consumer already holds it and never needs to refetch."""
    call_command("rotate_keys", "--now")  # publishes a next key (no next key before it)
    failures, kids = [], []
    for round_number in range(6):
        cached = jose_without_refetch.ask(op="reload")["keys"]
        if round_number == 3:
            signing = kid(services.issue_token(user=user, kind="client").raw)
            call_command("revoke_key", "--", signing, stdout=io.StringIO())
        else:
            call_command("rotate_keys", "--now", stdout=io.StringIO())
        token = services.issue_token(user=user, kind="client").raw
        kids.append(kid(token))
        assert kid(token) in cached  # published before the consumer's cache was filled
        for _ in range(3):  # fresh tokens, all verified from the cache filled before
            answer = jose_without_refetch.ask(op="verify", token=token)
            if not answer["ok"]:
                failures.append((round_number, answer))
            token = services.issue_token(user=user, kind="client").raw
    assert failures == []
    assert len(set(kids)) == 6  # a different key signed after each forced step


def test_jose_meets_an_unknown_kid_only_when_rotate_now_found_no_next_key(
    user: User, jose_without_refetch: Jose
) -> None:
    """The one case that cannot be gap-free (docs/tokens.md): no next key was published, so
    the key that signs after --now is brand new and a cached JWKS does not hold it."""
    services.rotate_keys()
    jose_without_refetch.ask(op="reload")
    errors = io.StringIO()
    call_command("rotate_keys", "--now", stdout=io.StringIO(), stderr=errors)
    assert "signs unannounced" in errors.getvalue()
    token = services.issue_token(user=user, kind="client").raw
    answer = jose_without_refetch.ask(op="verify", token=token)
    assert answer["ok"] is False and answer["code"] == "ERR_JWKS_NO_MATCHING_KEY"


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


def test_pyjwt_jwks_client_holding_a_jwks_cached_just_before_rotate_now_fails_nothing(
    user: User, jwks_url: str
) -> None:
    # PyJWT refetches on an unknown kid at most once per cooldown (30 s by default, the test
    # takes far less); an hour here makes sure no refetch can hide a gap.
    client = jwt.PyJWKClient(jwks_url, cooldown_duration=3600)
    services.rotate_keys()
    call_command("rotate_keys", "--now")  # publishes a next key (no next key before it)
    older = services.issue_token(user=user, kind="client").raw
    failures = []
    for round_number in range(5):
        client.get_jwk_set(refresh=True)  # the consumer's cache, filled just before
        call_command("rotate_keys", "--now", stdout=io.StringIO())
        for raw in (
            services.issue_token(user=user, kind="client").raw,
            services.issue_token(user=user, kind="passkey").raw,
            older,
        ):
            try:
                pyjwt_verify(client, raw)
            except jwt.PyJWTError as error:
                failures.append((round_number, repr(error)))
        older = services.issue_token(user=user, kind="client").raw
    assert failures == []
