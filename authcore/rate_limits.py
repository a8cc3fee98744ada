"""Moving-window rate limits on Redis (one round trip), in memory while Redis is down.

Built on the ``limits`` library: its rate items and key scheme, its moving-window layout in
Redis (a list of hit timestamps, newest first, trimmed to the limit) and, while the breaker
is open, its ``MemoryStorage`` with ``MovingWindowRateLimiter``.

Why a script of our own on Redis: ``limits`` answers "allowed?" (``hit``) and "how many are
left, and until when?" (``get_window_stats``) in two calls, i.e. two round trips, and each
limit separately. ``CONSUME_SCRIPT`` below does what limits' ``acquire_moving_window.lua`` and
``moving_window.lua`` do, on the same data, for every limit of the request at once, so the
global and the auth limit cost ONE ``EVALSHA`` together, atomically: either every limit takes
the hit or none does (a refused request consumes nothing), and the answer carries what the
``X-RateLimit-*`` headers need. Time comes from Redis (``TIME``), so instances with skewed
clocks share one window.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import redis
import structlog
from django.core.exceptions import ImproperlyConfigured
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import NoScriptError

from authcore.store import REDIS_ERRORS, SharedStore, shared_store

logger = structlog.get_logger(__name__)

_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PERIOD_WORDS = {
    "sec": "s",
    "second": "s",
    "seconds": "s",
    "min": "m",
    "minute": "m",
    "minutes": "m",
    "hour": "h",
    "hours": "h",
    "day": "d",
    "days": "d",
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")

# KEYS[i]: the moving-window list of limit i (hit timestamps, newest first: limits' layout).
# ARGV: amount_1, expiry_1, amount_2, expiry_2, ...
# Hits that left the window are popped from the tail first (amortised O(1)), so the list length
# is the count in the window and its tail the oldest hit: a handful of O(1) commands per limit
# instead of limits' binary search. Returns {allowed (1/0), now, count_1, oldest_1, ...}.
CONSUME_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local stamp = string.format('%.6f', now)
local counts, oldest = {}, {}
local allowed = 1
for i = 1, #KEYS do
  local limit, expiry = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local tail = redis.call('LINDEX', KEYS[i], -1)
  while tail and tonumber(tail) < now - expiry do
    redis.call('RPOP', KEYS[i])
    tail = redis.call('LINDEX', KEYS[i], -1)
  end
  counts[i] = redis.call('LLEN', KEYS[i])
  oldest[i] = tail or stamp
  if counts[i] >= limit then
    allowed = 0
  end
end
local result = {allowed, stamp}
for i = 1, #KEYS do
  if allowed == 1 then
    counts[i] = redis.call('LPUSH', KEYS[i], stamp)
    redis.call('EXPIRE', KEYS[i], tonumber(ARGV[2 * i]))
  end
  result[#result + 1] = counts[i]
  result[#result + 1] = oldest[i]
end
return result
"""


@dataclass(frozen=True)
class Rate:
    """A parsed ``N/period`` setting (``100/15m``, ``5/1h``, ``10/30s``, ``1000/1d``)."""

    text: str
    amount: int
    seconds: int

    @property
    def item(self) -> RateLimitItem:
        return _item(self.amount, self.seconds)


class LimitState(NamedTuple):
    """One limit after a request: what the ``X-RateLimit-*`` headers show."""

    scope: str
    limit: int
    remaining: int
    reset: int  # seconds until one more request fits (see _state)
    allowed: bool  # this limit had room


class Decision(NamedTuple):
    allowed: bool
    limits: tuple[LimitState, ...]

    @property
    def shown(self) -> LimitState:
        """The limit the headers report: the refusing one (latest to free), else the tightest."""
        if len(self.limits) == 1:
            return self.limits[0]
        if not self.allowed:
            refused = [state for state in self.limits if not state.allowed] or list(self.limits)
            return max(refused, key=lambda state: state.reset)
        return min(self.limits, key=lambda state: (state.remaining, -state.reset))


@lru_cache(maxsize=64)
def parse_rate(text: str) -> Rate:
    """Parse ``N/period``; the period is ``[count]unit`` with unit s, m, h or d (or a word).

    Raises:
        ImproperlyConfigured: for anything else, or N < 1.
    """
    match = _RATE.match(text.lower())
    unit = match and _PERIOD_WORDS.get(match.group(3), match.group(3))
    if not match or unit not in _PERIOD_SECONDS:
        raise ImproperlyConfigured(f"A rate limit must look like 100/15m or 5/1h, not {text!r}")
    amount, count = int(match.group(1)), int(match.group(2) or 1)
    if amount < 1 or count < 1:
        raise ImproperlyConfigured(f"A rate limit needs N >= 1 and a period >= 1, not {text!r}")
    return Rate(text=text, amount=amount, seconds=count * _PERIOD_SECONDS[str(unit)])


@lru_cache(maxsize=64)
def _item(amount: int, seconds: int) -> RateLimitItem:
    return RateLimitItemPerSecond(amount, seconds)


_SCRIPT_SHA = hashlib.sha1(CONSUME_SCRIPT.encode()).hexdigest()  # noqa: S324 - Redis's script id
_memory_lock = threading.Lock()


def consume(limits: Sequence[tuple[str, Rate]], identifier: str) -> Decision:
    """Count one request of ``identifier`` against every ``(scope, rate)`` at once.

    All or nothing: the request is allowed only if every limit has room, and then takes one
    slot in each. Redis while the shared store's breaker is closed (one round trip), else the
    per-process memory fallback.
    """
    store = shared_store()
    client = store.redis
    if client is not None:
        try:
            return _consume_on_redis(client, store.prefix, limits, identifier)
        except REDIS_ERRORS as error:
            store.trip(error)
    return _consume_in_memory(store, limits, identifier)


@lru_cache(maxsize=256)
def _key_template(prefix: str, scope: str, rate: Rate) -> tuple[str, str]:
    """limits' key for (scope, identifier) split around the identifier, built once."""
    head, _, tail = rate.item.key_for(scope, "\0").partition("\0")
    return f"{prefix}:rl:{head}", tail


def _consume_on_redis(
    client: redis.Redis, prefix: str, limits: Sequence[tuple[str, Rate]], identifier: str
) -> Decision:
    arguments: list[str | int] = []
    for scope, rate in limits:
        head, tail = _key_template(prefix, scope, rate)
        arguments.append(head + identifier + tail)
    for _, rate in limits:
        arguments += (rate.amount, rate.seconds)
    try:
        reply: list[Any] = client.evalsha(_SCRIPT_SHA, len(limits), *arguments)  # type: ignore[assignment]
    except NoScriptError:  # first use on this Redis (or it restarted): load, then run
        client.script_load(CONSUME_SCRIPT)
        reply = client.evalsha(_SCRIPT_SHA, len(limits), *arguments)  # type: ignore[assignment]
    allowed, now = reply[0] == 1, float(reply[1])
    return Decision(
        allowed,
        tuple(
            _state(scope, rate, int(reply[2 + 2 * i]), float(reply[3 + 2 * i]), now, allowed)
            for i, (scope, rate) in enumerate(limits)
        ),
    )


def _state(
    scope: str, rate: Rate, count: int, oldest: float, now: float, allowed: bool
) -> LimitState:
    # Reset: when the oldest hit in the window leaves it, i.e. when one more request fits
    # (limits' WindowStats.reset_time). With the window full, that is when a request is
    # allowed again, the contract's definition.
    reset = max(1, math.ceil(oldest + rate.seconds - now)) if count else 0
    return LimitState(
        scope=scope,
        limit=rate.amount,
        remaining=max(0, rate.amount - count) if allowed else 0,
        reset=reset,
        allowed=allowed or count < rate.amount,
    )


def _consume_in_memory(
    store: SharedStore, limits: Sequence[tuple[str, Rate]], identifier: str
) -> Decision:
    limiter = MovingWindowRateLimiter(store.memory.rate_limits)
    with _memory_lock:  # test-all-then-hit-all must not interleave within this process
        allowed = all(limiter.test(rate.item, scope, identifier) for scope, rate in limits)
        if allowed:
            for scope, rate in limits:
                limiter.hit(rate.item, scope, identifier)
        stats = [limiter.get_window_stats(rate.item, scope, identifier) for scope, rate in limits]
    now = time.time()
    states = []
    for (scope, rate), window in zip(limits, stats, strict=True):
        count = rate.amount - window.remaining
        oldest = window.reset_time - rate.seconds
        states.append(_state(scope, rate, count, oldest, now, allowed))
    return Decision(allowed, tuple(states))
