"""Propagation across processes: a real ``gunicorn -w 2 -k gthread --threads 4`` on the test
database and the test run's Redis namespace, while ``rotate_keys --now`` and ``revoke_key`` run
in this process (API.md "Tokens and keys": after either, "every process of every instance signs
with the new key and serves the new JWKS within one second"; "a revocation is seen by every
instance at once").

Which worker answered is read from gunicorn's own access log (``%(p)s``, the worker's pid, next
to a probe number sent in the query string). Each phase polls until every worker has answered
(a generous bound, the machine is shared); the only time in the assertions is the contract's
promise: no request that *started* a second after the command returned may see the old state
(for a revoked token: no request started after the command returned).
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from clients import services as clients
from tests.leaks import outcome
from tokens.models import SigningKey

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PROMISE = 1.0  # seconds: the contract's bound on propagation
POLL_BOUND = 60.0  # seconds: how long a phase may poll for every worker to answer
ROUND = 8  # concurrent requests per polling round, each on its own connection
_probes = itertools.count(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_url() -> str:
    """The pytest-django test database (transactional: what this process writes is committed)."""
    db = connection.settings_dict
    user = quote(str(db["USER"] or ""), safe="")
    password = quote(str(db["PASSWORD"] or ""), safe="")
    credentials = f"{user}:{password}@" if user else ""
    return f"postgres://{credentials}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class Answer:
    """One HTTP answer, with the time its request started (relative to the last command)."""

    probe: int
    kind: str
    started: float
    status: int
    value: Any
    pid: int | None = None


@dataclass
class Gunicorn:
    port: int
    access_log: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> set[int]:
        found = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        )
        return {int(pid) for pid in found.stdout.split()}

    def pids_of_probes(self) -> dict[int, int]:
        pids = {}
        for line in self.access_log.read_text().splitlines():
            matched = re.fullmatch(r"<?(\d+)>? probe=(\d+)", line.strip())
            if matched:
                pids[int(matched[2])] = int(matched[1])
        return pids

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def gunicorn(transactional_db: Any, tmp_path: Path) -> Iterator[Gunicorn]:
    port = free_port()
    access_log = tmp_path / "access.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PROMETHEUS_MULTIPROC_DIR", "AUTHCORE_METRICS_DIR", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        APP_ENVIRONMENT="test",
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        AUTHCORE_REDIS_PREFIX=settings.REDIS_KEY_PREFIX,
        # The same issuer, audience and key-encryption secret as this process, which creates
        # the keys the workers sign with and issues tokens they verify.
        JWT_SECRET=settings.JWT_SECRET,
        API_BASE_URL=settings.API_BASE_URL,
        APP_ID=settings.APP_ID,
        RATE_LIMIT_GLOBAL="1000000/1m",
        RATE_LIMIT_AUTH="1000000/1m",
        LOG_LEVEL="WARNING",
    )
    assert settings.REDIS_URL, "the propagation test needs Redis (make pytest)"
    with open(tmp_path / "gunicorn.log", "ab") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "authcore.wsgi:application",
                *("-w", "2", "-k", "gthread", "--threads", "4"),
                *("-b", f"127.0.0.1:{port}", "--graceful-timeout", "5"),
                "--no-control-socket",  # its default path is shared by every gunicorn here
                # Observation only: which worker answered which probe.
                *("--access-logfile", str(access_log), "--access-logformat", "%(p)s %(q)s"),
            ],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Gunicorn(port=port, access_log=access_log, process=process)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if requests.get(f"{server.url}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise AssertionError((tmp_path / "gunicorn.log").read_text()[-4000:])
        yield server
    finally:
        server.stop()


@dataclass
class Member:
    api_key: str
    identifier: str
    secret: str


@pytest.fixture
def member(db: Any) -> Member:
    made = clients.create_client(name="propagation")
    user = clients.create_client_user(client=made.client, identifier="lena")
    return Member(api_key=made.api_key, identifier="lena", secret=user.secret)


class Prober:
    """Concurrent requests to the workers, each on its own connection, tagged with a probe."""

    def __init__(self, server: Gunicorn, member: Member) -> None:
        self.server = server
        self.member = member
        self.since = time.monotonic()
        self.pool = ThreadPoolExecutor(ROUND)

    def mark(self) -> None:
        """A command just returned: answer times are counted from now."""
        self.since = time.monotonic()

    def _call(self, kind: str, send: Callable[[str], requests.Response]) -> Answer:
        probe = next(_probes)
        started = time.monotonic() - self.since
        response = send(f"probe={probe}")
        value: Any
        if kind == "sign":
            assert response.status_code == 201, outcome(response)
            value = jwt.get_unverified_header(response.json()["access_token"])["kid"]
        elif kind == "jwks":
            assert response.status_code == 200, outcome(response)
            value = frozenset(key["kid"] for key in response.json()["keys"])
        else:
            value = response.json().get("code") if response.status_code != 200 else "ok"
        return Answer(probe, kind, started, response.status_code, value)

    def sign(self) -> Answer:
        return self._call(
            "sign",
            lambda query: requests.post(
                f"{self.server.url}/api/tokens?{query}",
                json={"identifier": self.member.identifier, "secret": self.member.secret},
                headers={"x-api-key": self.member.api_key, "Connection": "close"},
                timeout=30,
            ),
        )

    def jwks(self) -> Answer:
        return self._call(
            "jwks",
            lambda query: requests.get(
                f"{self.server.url}/.well-known/jwks.json?{query}",
                headers={"Connection": "close"},
                timeout=30,
            ),
        )

    def me(self, token: str) -> Answer:
        return self._call(
            "me",
            lambda query: requests.get(
                f"{self.server.url}/api/me?{query}",
                headers={"Authorization": f"Bearer {token}", "Connection": "close"},
                timeout=30,
            ),
        )

    def until_every_worker(
        self, calls: list[Callable[[], Answer]], good: Callable[[Answer], bool], *, after: float
    ) -> list[Answer]:
        """Rounds of ``calls`` until every worker gave, for each kind of call, a ``good`` answer
        to a request started ``after`` seconds or more after the last command; fails at the
        first answer to such a request that is not good. Returns the phase's answers."""
        answers = [call() for call in calls]  # one of each first
        kinds = {answer.kind for answer in answers}
        deadline = time.monotonic() + POLL_BOUND
        while time.monotonic() < deadline:
            futures = [self.pool.submit(calls[i % len(calls)]) for i in range(ROUND)]
            answers += [future.result() for future in futures]
            self._attribute(answers)
            bad = [a for a in answers if a.started >= after and not good(a)]
            assert bad == [], f"{len(bad)} answers {after} s or more after the command: {bad[:3]}"
            workers = self.server.workers()
            seen = {(a.pid, a.kind) for a in answers if a.started >= after}
            if workers and all((pid, kind) in seen for pid in workers for kind in kinds):
                return answers
        raise AssertionError(f"not every worker answered within {POLL_BOUND} s: {answers[-4:]}")

    def _attribute(self, answers: list[Answer]) -> None:
        """The worker pid of each answer, from the access log (written just after the reply)."""
        for _ in range(100):
            pids = self.server.pids_of_probes()
            for answer in answers:
                answer.pid = pids.get(answer.probe, answer.pid)
            if all(answer.pid is not None for answer in answers):
                return
            time.sleep(0.02)
        raise AssertionError("gunicorn's access log lacks some probes")


def published() -> frozenset[str]:
    return frozenset(
        SigningKey.objects.filter(state__in=["next", "current", "retiring"]).values_list(
            "kid", flat=True
        )
    )


def signing() -> str:
    return str(SigningKey.objects.get(state="current").kid)


def test_every_worker_follows_rotate_now_and_revoke_key_within_a_second(
    gunicorn: Gunicorn, member: Member
) -> None:
    call_command("rotate_keys", "--now")  # a first key, and a next key published
    prober = Prober(gunicorn, member)
    # Every worker has loaded the key set and signed with the current key.
    prober.until_every_worker([prober.sign, prober.jwks], lambda a: True, after=0)

    # --- rotate_keys --now: the published next key signs everywhere, the JWKS gains a new next
    old_kid, before = signing(), published()
    call_command("rotate_keys", "--now")
    prober.mark()
    new_kid, after = signing(), published()
    assert new_kid != old_kid and new_kid in before and after != before

    def rotated(answer: Answer) -> bool:
        return answer.value == (new_kid if answer.kind == "sign" else after)

    # The JWKS alone first: signing would refresh a worker's view of the keys by itself.
    prober.until_every_worker([prober.jwks], rotated, after=PROMISE)
    prober.until_every_worker([prober.sign], rotated, after=PROMISE)

    # --- revoke_key of the signing key: its tokens refused by every worker at once
    doomed_token = requests.post(
        f"{gunicorn.url}/api/tokens",
        json={"identifier": member.identifier, "secret": member.secret},
        headers={"x-api-key": member.api_key},
        timeout=30,
    ).json()["access_token"]
    assert jwt.get_unverified_header(doomed_token)["kid"] == new_kid
    # Every worker has verified it (its signature remembered, its record cached as valid).
    prober.until_every_worker([lambda: prober.me(doomed_token)], lambda a: a.value == "ok", after=0)
    before = published()
    call_command("revoke_key", "--", new_kid)
    prober.mark()
    successor, after = signing(), published()
    assert successor in before and new_kid not in after

    def revoked(answer: Answer) -> bool:
        if answer.kind == "me":
            return answer.status == 401 and answer.value == "invalid_token"
        return answer.value == (successor if answer.kind == "sign" else after)

    # No grace for a revocation: refused by every worker from the moment the command returned.
    prober.until_every_worker([lambda: prober.me(doomed_token)], revoked, after=0)
    prober.until_every_worker([prober.sign, prober.jwks], revoked, after=PROMISE)
