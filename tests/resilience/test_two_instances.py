"""Two real instances (gunicorn, two workers each) on one PostgreSQL and one Redis behave as one
service: what one decides, the other knows at once (API.md "Tokens and keys", "Cross-cutting")."""

from __future__ import annotations

import threading
from typing import Any

import jwt
import pytest
import requests

from tests.leaks import outcome
from tests.passkeys.authenticator import SoftwareAuthenticator
from tests.resilience.conftest import Clusters
from tests.resilience.harness import (
    PUBLIC_HOST,
    PUBLIC_ORIGIN,
    Caller,
    Cluster,
    bearer,
    new_client_user,
    query,
    token_for,
)

pytestmark = pytest.mark.slow

GLOBAL_LIMIT = 40
AUTH_LIMIT = 20


@pytest.fixture(scope="module")
def cluster(module_clusters: Clusters) -> Cluster:
    """Shared by the tests of this module; each test is its own client IP (own budgets)."""
    return module_clusters.start(
        2, RATE_LIMIT_GLOBAL=f"{GLOBAL_LIMIT}/1h", RATE_LIMIT_AUTH=f"{AUTH_LIMIT}/1h"
    )


def test_a_token_revoked_on_one_instance_is_refused_by_the_other_at_once(cluster: Cluster) -> None:
    one, other = cluster
    caller = Caller()
    user = new_client_user(one, caller, "rita")
    token = token_for(one, caller, user)["access_token"]
    for _ in range(4):  # every worker of the other instance has seen it valid (and cached it)
        answered = caller.get(f"{other.url}/api/me", headers=bearer(token)).status_code
        assert answered == 200

    revoked = caller.post(
        f"{one.url}/api/tokens/revoke", json={"token": token}, headers={"x-api-key": user.api_key}
    )
    assert revoked.status_code == 200

    for instance in (other, one, other, one):
        refused = caller.get(f"{instance.url}/api/me", headers=bearer(token))
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_the_rate_limit_budget_is_one_for_both_instances(cluster: Cluster) -> None:
    caller = Caller()
    statuses = [
        caller.get(f"{cluster[i % 2].url}/api/nothing-here").status_code
        for i in range(GLOBAL_LIMIT + 4)
    ]
    assert statuses == [404] * GLOBAL_LIMIT + [429] * 4
    refused = caller.get(f"{cluster[0].url}/api/nothing-here")
    assert refused.json() == {"detail": "Rate limit exceeded", "code": "rate_limited"}
    assert int(refused.headers["Retry-After"]) > 0
    # another client still has its whole budget on either instance
    assert Caller().get(f"{cluster[1].url}/api/nothing-here").status_code == 404


def test_a_passkey_challenge_from_one_instance_is_accepted_once_by_the_other(
    cluster: Cluster,
) -> None:
    one, other = cluster
    caller = Caller()
    device = SoftwareAuthenticator(rp_id=PUBLIC_HOST, origin=PUBLIC_ORIGIN)
    options = caller.post(
        f"{one.url}/api/auth/passkey/register/options", json={"username": "paula"}
    ).json()
    registered = caller.post(
        f"{other.url}/api/auth/passkey/register/verify", json=device.create(options)
    )
    assert registered.status_code == 201, outcome(registered)

    options = caller.post(f"{one.url}/api/auth/passkey/login/options", json={}).json()
    assertion = device.get(options)
    # The same assertion sent to both instances at the same moment: exactly one sign-in.
    answers: list[requests.Response] = []
    barrier = threading.Barrier(4)

    def send(url: str) -> None:
        barrier.wait()
        answers.append(caller.post(f"{url}/api/auth/passkey/login/verify", json=assertion))

    threads = [threading.Thread(target=send, args=(i.url,)) for i in (one, other, one, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [200, 400, 400, 400]
    for refused in (a for a in answers if a.status_code == 400):
        assert refused.json()["code"] == "challenge_invalid"
    # and later, on either instance, still never again
    for instance in (one, other):
        again = caller.post(f"{instance.url}/api/auth/passkey/login/verify", json=assertion)
        assert again.status_code == 400
        assert again.json()["code"] == "challenge_invalid"


def test_a_browser_session_opened_on_one_instance_works_on_the_other(cluster: Cluster) -> None:
    one, other = cluster
    caller = Caller()
    device = SoftwareAuthenticator(rp_id=PUBLIC_HOST, origin=PUBLIC_ORIGIN)
    options = caller.post(
        f"{one.url}/api/auth/passkey/register/options", json={"username": "sven"}
    ).json()
    assert (
        caller.post(
            f"{one.url}/api/auth/passkey/register/verify", json=device.create(options)
        ).status_code
        == 201
    )
    options = caller.post(f"{one.url}/api/auth/passkey/login/options", json={}).json()
    signed_in = caller.post(
        f"{one.url}/api/auth/passkey/login/verify", json={**device.get(options), "session": True}
    )
    assert signed_in.status_code == 200, outcome(signed_in)
    cookies = {"user_session_id": signed_in.cookies["user_session_id"]}

    me = caller.get(f"{other.url}/auth/web/me", cookies=cookies)
    assert me.status_code == 200, outcome(me)
    assert me.json()["user"]["username"] == "sven"
    csrf = me.json()["csrf_token"]
    unsafe: dict[str, Any] = {
        "cookies": cookies,
        "headers": {"X-CSRF-Token": csrf, "Origin": PUBLIC_ORIGIN},
    }
    token = caller.post(f"{one.url}/auth/web/token", **unsafe)
    assert token.status_code == 200, outcome(token)
    assert caller.get(f"{other.url}/api/me", headers=bearer(token.json()["access_token"])).ok

    assert caller.post(f"{other.url}/auth/web/logout", **unsafe).status_code == 204
    for instance in (one, other):
        gone = caller.get(f"{instance.url}/auth/web/me", cookies=cookies)
        assert gone.status_code == 401
        assert gone.json()["detail"] == "No session found"


def test_a_token_of_a_revoked_key_is_refused_by_an_instance_that_never_saw_it(
    cluster: Cluster,
) -> None:
    """``revoke_key`` on one host; the other host's workers hold the key set from before and
    Redis still says "valid" for the token (the first host verified it), but they never
    verified it themselves: the key set's new version, read in the same round trip as the
    token's state, takes the key away before the cached "valid" is believed."""
    one, other = cluster
    caller = Caller()
    user = new_client_user(one, caller, "kim")
    token = token_for(one, caller, user)["access_token"]
    warm = token_for(one, caller, user)["access_token"]
    for _ in range(12):  # fresh connections: both workers of each instance, in all likelihood
        answered = caller.get(f"{one.url}/api/me", headers=bearer(token)).status_code
        assert answered == 200
        answered = caller.get(f"{other.url}/api/me", headers=bearer(warm)).status_code
        assert answered == 200

    kid = jwt.get_unverified_header(token)["kid"]
    revoked = one.manage("revoke_key", kid)
    assert revoked.returncode == 0, revoked.stderr[-2000:]

    for _ in range(4):  # both workers of the other instance
        refused = caller.get(f"{other.url}/api/me", headers=bearer(token))
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_rotate_keys_run_on_both_instances_at_once_creates_one_key(
    start_cluster: Clusters,
) -> None:
    """A fresh database: no key yet. Both hosts run rotate_keys at the same moment."""
    cluster = start_cluster.start(2, serve=False)
    assert query(cluster.database, "SELECT count(*) FROM tokens_signingkey") == [(0,)]
    runs = [instance.manage_async("rotate_keys") for instance in cluster]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert query(cluster.database, "SELECT state, count(*) FROM tokens_signingkey GROUP BY 1") == [
        ("current", 1)
    ]

    # forced at the same moment: each run is one rotation, serialized; one key signs.
    runs = [instance.manage_async("rotate_keys", "--now") for instance in cluster]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    states = dict(
        query(cluster.database, "SELECT state, count(*) FROM tokens_signingkey GROUP BY 1")
    )
    assert states["current"] == 1
    assert states["retiring"] == 2  # two forced moves, one after the other
    assert states.get("next", 0) <= 1
