"""Key rotation while two instances serve traffic and a real jose consumer, caching the JWKS,
verifies every freshly issued token (API.md "Tokens and keys", "Operations").

The consumer (tests/node/jwks-caching-consumer.mjs) keeps one ``createRemoteJWKSet`` for its
whole life and refetches only for an unknown kid, with jose's defaults: at most once per 30 s
(``cooldownDuration``), and when its copy is 10 minutes old. Where the test squeezes hours into
seconds, the consumer's clock is squeezed alike (its copy must not outlive the publish-ahead
time, as 10 minutes does not outlive the default 60; its cooldown must be shorter than the
time between two forced rotations).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from tests.leaks import outcome
from tests.resilience.conftest import Clusters
from tests.resilience.harness import (
    PUBLIC_ORIGIN,
    Caller,
    Cluster,
    bearer,
    new_client_user,
    query,
    token_for,
    wait_until,
)

pytestmark = pytest.mark.slow

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
AUDIENCE = "resilience-app"


class JoseConsumer:
    """The Node process; ``verify(token)`` queues a token, ``results`` fills in order."""

    def __init__(self, jwks_url: str, cooldown_ms: int = 30_000, max_age_ms: int = 600_000) -> None:
        node = shutil.which("node")
        if node is None or not (NODE_DIR / "node_modules" / "jose").is_dir():
            raise RuntimeError("node and tests/node/node_modules (make node) are needed")
        self.process = subprocess.Popen(
            [
                node,
                str(NODE_DIR / "jwks-caching-consumer.mjs"),
                jwks_url,
                PUBLIC_ORIGIN,
                AUDIENCE,
                str(cooldown_ms),
                str(max_age_ms),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.sent = 0
        self.results: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.results.append(json.loads(line))

    def verify(self, token: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(token + "\n")
        self.process.stdin.flush()
        self.sent += 1

    def finish(self) -> list[dict[str, Any]]:
        assert wait_until(lambda: len(self.results) >= self.sent, timeout=60)
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)
        return self.results


@dataclass
class Load:
    """Issues tokens on alternating instances, has jose verify each, and checks each (and an
    older long-lived token) on the other instance's /api/me, until stopped."""

    cluster: Cluster
    consumer: JoseConsumer
    older_token: str
    user: Any
    issued: int = 0
    kids: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        caller = Caller()
        while not self._stop.is_set():
            one, other = self.cluster[self.issued % 2], self.cluster[(self.issued + 1) % 2]
            try:
                token = token_for(one, caller, self.user, expires_in=600)["access_token"]
                self.kids.add(jwt.get_unverified_header(token)["kid"])
                self.consumer.verify(token)
                for raw in (token, self.older_token):
                    me = caller.get(f"{other.url}/api/me", headers=bearer(raw))
                    if me.status_code != 200:
                        self.failures.append(f"/api/me {me.status_code} {me.text[:120]}")
            except (AssertionError, requests.RequestException) as error:
                self.failures.append(repr(error)[:200])
            self.issued += 1

    def wait_for(self, more: int) -> None:
        target = self.issued + more
        assert wait_until(lambda: self.issued >= target or bool(self.failures), timeout=120)

    def stop(self) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(60)


def start_load(cluster: Cluster, **consumer_timing: int) -> Load:
    caller = Caller()
    user = new_client_user(cluster[0], caller, "lena")
    older = token_for(cluster[0], caller, user)["access_token"]
    consumer = JoseConsumer(f"{cluster[1].url}/.well-known/jwks.json", **consumer_timing)
    load = Load(cluster=cluster, consumer=consumer, older_token=older, user=user)
    load.start()
    return load


def jose_failures(load: Load) -> list[dict[str, Any]]:
    return [result for result in load.consumer.finish() if not result["ok"]]


def test_rotate_keys_now_again_and_again_under_load_fails_no_verification(
    start_cluster: Clusters,
) -> None:
    cluster = start_cluster.start(2)
    # A service that has run a while: a forced rotation has published the next key.
    primed = cluster[0].manage("rotate_keys", "--now")
    assert primed.returncode == 0, primed.stderr
    # Forced rotations seconds apart: a consumer refetches within that time or cannot know the
    # key after next (jose's default 30 s cooldown would need rotations 30 s apart).
    load = start_load(cluster, cooldown_ms=1000)
    try:
        for round_number in range(3):
            load.wait_for(8)
            rotated = cluster[round_number % 2].manage("rotate_keys", "--now")
            assert rotated.returncode == 0, rotated.stderr
        load.wait_for(8)
    finally:
        load.stop()
    assert load.failures == []
    assert jose_failures(load) == []
    assert len(load.kids) == 4  # the key signing at the start and three forced ones


def test_scheduled_rotation_with_short_periods_under_load_fails_no_verification(
    start_cluster: Clusters,
) -> None:
    """A key signs for 6 s and is published 3 s ahead; the beat (rotate_keys) runs on both
    instances every moment, and signing rotates by itself when it is overdue."""
    cluster = start_cluster.start(
        2,
        JWT_KEY_ROTATION_HOURS=str(6 / 3600),
        JWT_KEY_PUBLISH_AHEAD_MINUTES=str(3 / 60),
        JWT_KEY_TTL_HOURS=str(12 / 3600),
    )
    load = start_load(cluster, cooldown_ms=1000, max_age_ms=1500)
    try:
        for round_number in range(4):
            load.wait_for(6)
            beat = cluster[round_number % 2].manage("rotate_keys")
            assert beat.returncode == 0, beat.stderr
        assert wait_until(lambda: len(load.kids) >= 3 or bool(load.failures), timeout=120)
        load.wait_for(6)
    finally:
        load.stop()
    assert load.failures == []
    assert jose_failures(load) == []
    states = dict(
        query(cluster.database, "SELECT state, count(*) FROM tokens_signingkey GROUP BY 1")
    )
    assert states["current"] == 1


def test_revoke_key_under_load_ends_its_tokens_everywhere_at_once_and_only_them(
    start_cluster: Clusters,
) -> None:
    cluster = start_cluster.start(2)
    caller = Caller()
    user = new_client_user(cluster[0], caller, "ivan")
    doomed = [token_for(cluster[i % 2], caller, user)["access_token"] for i in range(3)]
    doomed_kid = jwt.get_unverified_header(doomed[0])["kid"]
    rotated = cluster[0].manage("rotate_keys", "--now")
    assert rotated.returncode == 0, rotated.stderr
    survivor = token_for(cluster[1], caller, user)["access_token"]
    assert jwt.get_unverified_header(survivor)["kid"] != doomed_kid
    for instance in cluster:  # every worker has seen each token valid
        for raw in [*doomed, survivor, *doomed, survivor]:
            answered = caller.get(f"{instance.url}/api/me", headers=bearer(raw)).status_code
            assert answered == 200

    load = start_load(cluster)
    try:
        load.wait_for(4)
        revoked = cluster[1].manage("revoke_key", doomed_kid)
        assert revoked.returncode == 0, revoked.stderr
        # the moment the command returns: refused by every worker of every instance
        for _ in range(4):
            for instance in cluster:
                for raw in doomed:
                    refused = caller.get(f"{instance.url}/api/me", headers=bearer(raw))
                    assert refused.status_code == 401, outcome(refused)
                assert caller.get(f"{instance.url}/api/me", headers=bearer(survivor)).ok
        for instance in cluster:
            assert wait_until(
                lambda url=instance.url: (
                    doomed_kid
                    not in {
                        k["kid"] for k in caller.get(f"{url}/.well-known/jwks.json").json()["keys"]
                    }
                )
            )
        load.wait_for(6)
    finally:
        load.stop()
    assert load.failures == []
    assert jose_failures(load) == []
