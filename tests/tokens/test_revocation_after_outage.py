"""A revocation that could not reach Redis must not be undone by what Redis still holds.

Contract: API.md "Tokens and keys" ("a revocation is seen by every instance at once"); design:
docs/tokens.md ("Revocation", "After a Redis outage"). The outage is real: this process reaches
the suite's Redis through a TCP proxy that the test cuts, so Redis keeps every entry it held
(a partition that heals, not a restart that empties it).

Changes "made by another process whose Redis write was lost" are made here with
``QuerySet.update()``, which writes the database and sends no signal: exactly the state such a
process leaves behind (the database says revoked, Redis still says valid).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

import authcore.store
from authcore.models import User
from authcore.store import SharedStore, reset_shared_store, shared_store
from tests.resilience.harness import TcpProxy
from tests.tokens.conftest import RedisLink
from tokens import services
from tokens.exceptions import InvalidToken
from tokens.internal import clock, state_cache
from tokens.models import TokenRecord

pytestmark = pytest.mark.django_db(transaction=True)


def refused(raw: str) -> str:
    with pytest.raises(InvalidToken) as caught:
        services.verify_token(raw)
    return caught.value.reason


def see_the_outage(raw: str) -> None:
    """A request during the outage: the breaker opens and the database answers."""
    with contextlib.suppress(InvalidToken):
        services.verify_token(raw)
    assert shared_store().using_redis is False


def test_a_token_revoked_elsewhere_during_an_outage_is_refused_once_redis_is_back(
    user: User, redis_link: RedisLink
) -> None:
    token = services.issue_token(user=user, kind="client")
    services.verify_token(token.raw)  # Redis: "valid"
    redis_link.cut()
    TokenRecord.objects.filter(jti=token.jti).update(revoked_at=clock.now())
    see_the_outage(token.raw)
    assert redis_link.restore()
    assert refused(token.raw) == "revoked"
    assert refused(token.raw) == "revoked"


def test_a_user_deactivated_elsewhere_during_an_outage_is_refused_once_redis_is_back(
    user: User, redis_link: RedisLink
) -> None:
    token = services.issue_token(user=user, kind="client")
    services.verify_token(token.raw)  # Redis: "valid" and an active snapshot
    redis_link.cut()
    User.objects.filter(pk=user.pk).update(is_active=False)
    see_the_outage(token.raw)
    assert redis_link.restore()
    assert refused(token.raw) == "user_inactive"
    assert refused(token.raw) == "user_inactive"


def test_a_user_deleted_during_an_outage_has_their_tokens_refused_once_redis_is_back(
    user: User, redis_link: RedisLink
) -> None:
    token = services.issue_token(user=user, kind="client")
    services.verify_token(token.raw)
    redis_link.cut()
    user.delete()  # the receivers' Redis writes fail: the database alone knows
    see_the_outage(token.raw)
    assert redis_link.restore()
    assert refused(token.raw) == "unknown_token"


def test_after_an_outage_a_good_token_costs_one_query_then_none_again(
    user: User, redis_link: RedisLink, django_assert_num_queries: Any
) -> None:
    token = services.issue_token(user=user, kind="client")
    services.verify_token(token.raw)
    redis_link.cut()
    see_the_outage(token.raw)
    assert redis_link.restore()
    with django_assert_num_queries(1):  # its entry predates the outage: asked once
        assert services.verify_token(token.raw).user.pk == user.pk
    with django_assert_num_queries(0):  # and cached again for the new epoch
        assert services.verify_token(token.raw).user.pk == user.pk


def test_a_database_read_older_than_the_recovery_cannot_cache_a_valid_entry(
    user: User, redis_link: RedisLink
) -> None:
    """A verification that read the epoch, then the database, then fills after the epoch was
    renewed (a request racing the recovery) writes nothing that would be trusted."""
    token = services.issue_token(user=user, kind="client")
    services.verify_token(token.raw)
    store = shared_store()
    client = store.redis
    assert client is not None
    seen: Any = client.get(store.key(state_cache.EPOCH_NAME))
    redis_link.cut()
    TokenRecord.objects.filter(jti=token.jti).update(revoked_at=clock.now())
    see_the_outage(token.raw)
    assert redis_link.restore()  # the epoch is renewed here

    record = TokenRecord.objects.select_related("user").get(jti=token.jti)
    state_cache.fill(
        client, jti=token.jti, revoked=False, expires_at=record.expires_at, user=user, epoch=seen
    )
    assert refused(token.raw) == "revoked"


def test_a_revocation_made_while_redis_is_up_is_never_overwritten_by_a_fill(user: User) -> None:
    """A fill whose database read predates the revocation arrives after it: "r" stays."""
    token = services.issue_token(user=user, kind="client")
    services.verify_token(token.raw)
    store = shared_store()
    client = store.redis
    assert client is not None
    seen: Any = client.get(store.key(state_cache.EPOCH_NAME))
    record = TokenRecord.objects.get(jti=token.jti)
    services.revoke_token(jti=token.jti)
    state_cache.fill(
        client, jti=token.jti, revoked=False, expires_at=record.expires_at, user=user, epoch=seen
    )
    assert refused(token.raw) == "revoked"


# --- the store's recovery hooks -----------------------------------------------------------


def test_recovery_hooks_run_before_the_process_uses_redis_again(
    user: User, redis_link: RedisLink, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []

    def observer(store: SharedStore, client: Any) -> None:
        seen.append(store.using_redis)
        assert client.ping()

    monkeypatch.setitem(authcore.store._recovery_hooks, "test.observer", observer)
    token = services.issue_token(user=user, kind="client")
    redis_link.cut()
    see_the_outage(token.raw)
    assert redis_link.restore()
    assert seen == [False]  # ran once, while every other thread still used the fallback
    assert shared_store().using_redis is True
    assert shared_store().ping() and seen == [False]  # a healthy ping runs no hook


def test_a_failing_recovery_hook_keeps_the_fallback_until_it_succeeds(
    user: User, redis_link: RedisLink, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready = threading.Event()

    def flaky(store: SharedStore, client: Any) -> None:
        if not ready.is_set():
            raise RuntimeError("not yet")

    monkeypatch.setitem(authcore.store._recovery_hooks, "test.flaky", flaky)
    token = services.issue_token(user=user, kind="client")
    services.verify_token(token.raw)
    redis_link.cut()
    TokenRecord.objects.filter(jti=token.jti).update(revoked_at=clock.now())
    see_the_outage(token.raw)

    assert redis_link.restore() is False  # Redis answers, but the hook failed
    assert shared_store().using_redis is False  # the background probe fails alike
    assert refused(token.raw) == "revoked"  # from the database meanwhile
    ready.set()
    assert shared_store().ping() is True
    assert refused(token.raw) == "revoked"


# --- one round trip -------------------------------------------------------------------------


@pytest.fixture
def counted_redis(settings: Any) -> Iterator[TcpProxy]:
    parts = urlsplit(settings.REDIS_URL)
    proxy = TcpProxy(upstream_port=parts.port or 6379, record=True)
    host = parts.netloc.rsplit(":", 1)[0]
    settings.REDIS_URL = urlunsplit(parts._replace(netloc=f"{host}:{proxy.port}"))
    reset_shared_store()
    yield proxy
    proxy.cut()
    reset_shared_store()


def test_a_warm_verification_is_one_redis_round_trip_and_no_sql(
    user: User, counted_redis: TcpProxy, django_assert_num_queries: Any
) -> None:
    token = services.issue_token(user=user, kind="client")
    services.verify_token(token.raw)
    services.verify_token(token.raw)
    before = len(counted_redis.sent)
    with django_assert_num_queries(0):
        services.verify_token(token.raw)
    assert len(counted_redis.sent) - before == 1
