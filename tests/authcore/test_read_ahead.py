"""Read-ahead: the rate limiter's round trip also reads what a route's first store read will
ask for, and that read is then answered without a round trip of its own (authcore.store)."""

from __future__ import annotations

import pytest

from authcore.rate_limits import consume, parse_rate
from authcore.store import read_ahead, shared_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    store = shared_store()
    if store.redis is None:
        pytest.fail("the read-ahead is a Redis round trip: these tests need REDIS_URL")
    return store


def test_the_limiters_round_trip_reads_the_keys_asked_for(store) -> None:
    store.set("ra:string", b"held")
    assert store.redis is not None
    store.redis.hset(store.key("ra:hash"), "field", "1")  # not a string: read as missing
    decision = consume(
        [("global", parse_rate("10/1m"))], "192.0.2.80", ["ra:string", "ra:missing", "ra:hash"]
    )
    assert decision.allowed
    assert decision.read == {
        store.key("ra:string"): b"held",
        store.key("ra:missing"): None,
        store.key("ra:hash"): None,
    }
    assert decision.limits[0].remaining == 9  # the limit itself counted as before


def test_the_first_mget_is_answered_from_the_read_ahead_and_uses_it_up(store) -> None:
    store.set("ra:x", b"now in redis")
    with read_ahead({store.key("ra:x"): b"read ahead"}):
        assert store.mget(["ra:x"]) == [b"read ahead"]  # no round trip: the read-ahead's value
        assert store.mget(["ra:x"]) == [b"now in redis"]  # used up: a later read goes to Redis


def test_an_mget_the_read_ahead_does_not_cover_goes_to_redis(store) -> None:
    store.set("ra:x", b"in redis")
    with read_ahead({store.key("ra:x"): b"read ahead"}):
        assert store.mget(["ra:x", "ra:y"]) == [b"in redis", None]
        assert store.mget(["ra:x"]) == [b"in redis"]  # the first mget used it up all the same


def test_nothing_is_read_ahead_outside_a_request(store) -> None:
    store.set("ra:x", b"in redis")
    assert store.mget(["ra:x"]) == [b"in redis"]
