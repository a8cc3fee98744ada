"""Sliding-window-counter rate limits on Redis (one round trip), in memory while Redis is down.

The algorithm is the sliding window counter (``limits``' ``SlidingWindowCounterRateLimiter``,
Cloudflare's "sliding window" approximation): time is cut into fixed windows of the limit's
period ``T`` aligned on the epoch, each with one counter; a request arriving ``e`` seconds into
window ``k`` sees the weighted count::

    W = count[k - 1] * (T - e) / T + count[k]

i.e. the previous window's requests are assumed spread evenly over it and only the part still
inside the last ``T`` seconds is counted. The request is allowed when ``W + 1 <= N`` and then
adds one to ``count[k]``. That is O(1) per limit (two counters, in one Redis hash per client and
limit) where the moving window kept a list of every hit of the last ``T`` seconds, thousands of
entries under load. The price is an approximation, documented in docs/configuration.md.

Why a script of our own on Redis: ``limits`` answers "allowed?" (``hit``) and "how many are
left, and until when?" (``get_window_stats``) in two calls, i.e. two round trips, and each
limit separately. ``CONSUME_SCRIPT`` checks and takes every limit of the request at once, so
the global and the auth limit cost ONE ``EVALSHA`` together, atomically: either every limit
takes the hit or none does (a refused request consumes nothing), and the answer carries the
counters the ``X-RateLimit-*`` headers are computed from (``evaluate``, shared with the memory
fallback). Time comes from Redis (``TIME``), so instances with skewed clocks share one window.
``limits`` still provides the rate items and key scheme and, while the breaker is open, the
per-process ``MemoryStorage`` the same arithmetic runs on.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import redis
import structlog
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from limits import RateLimitItem, RateLimitItemPerSecond
from redis.exceptions import NoScriptError

from authcore.store import REDIS_ERRORS, SharedStore, execute, shared_store

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

# KEYS[1..n]: the hash of limit i for one client: w = index of the window counted in c, c = that
# window's count, p = the count of the window before it (windows aligned on the epoch);
# KEYS[n+1..]: keys to read ahead for the request (authcore.store.read_ahead), string values.
# ARGV: n, amount_1, period_1, amount_2, period_2, ...
# Every limit is checked before any is written (all or nothing); O(1) per limit.
# Returns {allowed (1/0), previous_1, current_1, elapsed_1, ..., value of KEYS[n+1], ...}:
# current includes this request when it was allowed; elapsed is the time into the current
# window (Redis's clock); a missing (or non-string) read-ahead key is nil.
CONSUME_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local n = tonumber(ARGV[1])
local windows, previous, current, elapsed, fresh = {}, {}, {}, {}, {}
local allowed = 1
for i = 1, n do
  local limit, period = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local window = math.floor(now / period)
  local state = redis.call('HMGET', KEYS[i], 'w', 'c', 'p')
  local stored = tonumber(state[1])
  local p, c = 0, 0
  if stored == window then
    p, c = tonumber(state[3]) or 0, tonumber(state[2]) or 0
  elseif stored == window - 1 then
    p = tonumber(state[2]) or 0
  end
  windows[i], previous[i], current[i], fresh[i] = window, p, c, stored ~= window
  elapsed[i] = now - window * period
  if p * (period - elapsed[i]) / period + c + 1 > limit then
    allowed = 0
  end
end
local result = {allowed}
for i = 1, n do
  if allowed == 1 then
    current[i] = current[i] + 1
    if fresh[i] then  -- first request of this window: roll the counters, expire after 2T
      redis.call('HSET', KEYS[i], 'w', string.format('%d', windows[i]), 'c', current[i],
                 'p', previous[i])
      redis.call('EXPIRE', KEYS[i], 2 * tonumber(ARGV[2 * i + 1]))
    else
      redis.call('HINCRBY', KEYS[i], 'c', 1)
    end
  end
  result[#result + 1] = previous[i]
  result[#result + 1] = current[i]
  result[#result + 1] = string.format('%.6f', elapsed[i])
end
for j = n + 1, #KEYS do
  local value = redis.pcall('GET', KEYS[j])
  if type(value) ~= 'string' then value = false end
  result[#result + 1] = value
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
    reset: int  # seconds until one more request fits (see evaluate)
    allowed: bool  # this limit had room


class Decision(NamedTuple):
    allowed: bool
    limits: tuple[LimitState, ...]
    # The keys read ahead in the same round trip (full keys -> values); None if none were, or
    # if the memory fallback answered.
    read: dict[str, bytes | None] | None = None

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


# Read-ahead providers by (method, path): what a route's handler will MGET first.
ReadAheadNames = Callable[[HttpRequest], Sequence[str]]
_read_ahead_providers: dict[tuple[str, str], ReadAheadNames] = {}


def register_read_ahead(method: str, path: str, names: ReadAheadNames) -> None:
    """Let the limiter's round trip read ahead for ``method path`` (authcore.store's doc).

    ``names(request)`` returns the store names the handler's first ``mget`` will ask for,
    or fewer (or none) when it cannot tell; it must not raise and must not change the
    request. A wrong guess costs nothing but the read: that ``mget`` then goes to Redis.
    Registering the same route again replaces its provider.
    """
    _read_ahead_providers[(method, path)] = names


def log_limits_in_force() -> None:
    """Say at startup which limits apply (API.md: development's defaults are ten times looser
    than test's and production's). ``authcore.wsgi`` calls it: gunicorn and runserver."""
    logger.info(
        "rate_limits",
        environment=settings.APP_ENVIRONMENT,
        **{
            "global": parse_rate(settings.RATE_LIMIT_GLOBAL).text,
            "auth": parse_rate(settings.RATE_LIMIT_AUTH).text,
        },
    )


def read_ahead_names(request: HttpRequest) -> Sequence[str]:
    provider = _read_ahead_providers.get((request.method or "", request.path_info))
    return provider(request) if provider is not None else ()


_SCRIPT_SHA = hashlib.sha1(CONSUME_SCRIPT.encode()).hexdigest()  # noqa: S324 - Redis's script id
_memory_lock = threading.Lock()


def consume(
    limits: Sequence[tuple[str, Rate]], identifier: str, read: Sequence[str] = ()
) -> Decision:
    """Count one request of ``identifier`` against every ``(scope, rate)`` at once.

    All or nothing: the request is allowed only if every limit has room, and then takes one
    slot in each. Redis while the shared store's breaker is closed (one round trip, which also
    reads the store names in ``read``: ``Decision.read``), else the per-process memory
    fallback (nothing read ahead).
    """
    store = shared_store()
    client = store.redis
    if client is not None:
        try:
            return _consume_on_redis(client, store, limits, identifier, read)
        except REDIS_ERRORS as error:
            store.trip(error)
    return _consume_in_memory(store, limits, identifier)


def weighted_count(rate: Rate, previous: int, current: int, elapsed: float) -> float:
    """The sliding-window estimate: the previous window's share still inside the period."""
    return previous * (rate.seconds - elapsed) / rate.seconds + current


def evaluate(
    scope: str, rate: Rate, previous: int, current: int, elapsed: float, allowed: bool
) -> LimitState:
    """The headers of one limit from its two counters (``current`` includes this request when
    it was allowed), ``elapsed`` seconds into the current window.

    Remaining: how many more requests fit now (0 on a refusal). Reset: the seconds until the
    weighted count has decayed enough for one more request to fit than fits now; with nothing
    left (and so on a refusal), until a request is allowed again. Exact under the model: the
    previous window's requests leave evenly over the current one, this window's requests leave
    evenly over the next one.
    """
    count = weighted_count(rate, previous, current, elapsed)
    fits_now = max(0, math.floor(rate.amount - count))
    return LimitState(
        scope=scope,
        limit=rate.amount,
        remaining=fits_now if allowed else 0,
        reset=max(1, math.ceil(_seconds_until(rate, previous, current, elapsed, fits_now)))
        if count > 0
        else 0,
        allowed=allowed or count + 1 <= rate.amount,
    )


def _seconds_until(rate: Rate, previous: int, current: int, elapsed: float, fits: int) -> float:
    """Seconds until the weighted count is at most ``N - 1 - fits`` (one more request fits)."""
    period, target = rate.seconds, rate.amount - 1 - fits
    if current <= target:  # the previous window's share alone has to shrink
        if previous == 0:
            return 0.0
        return max(0.0, period - period * (target - current) / previous - elapsed)
    # This window's own requests have to leave: they decay over the next window.
    return (period - elapsed) + period - period * target / current


@lru_cache(maxsize=256)
def _key_template(prefix: str, scope: str, rate: Rate) -> tuple[str, str]:
    """limits' key for (scope, identifier) split around the identifier, built once.

    ``rlc`` (rate-limit counter), not the moving window's ``rl``: the value is a hash now, and
    during a rolling deploy the old code's lists must not collide with it.
    """
    head, _, tail = rate.item.key_for(scope, "\0").partition("\0")
    return f"{prefix}:rlc:{head}", tail


def _consume_on_redis(
    client: redis.Redis,
    store: SharedStore,
    limits: Sequence[tuple[str, Rate]],
    identifier: str,
    read: Sequence[str],
) -> Decision:
    arguments: list[str | int] = []
    for scope, rate in limits:
        head, tail = _key_template(store.prefix, scope, rate)
        arguments.append(head + identifier + tail)
    read_keys = [store.key(name) for name in read]
    arguments += read_keys
    arguments.append(len(limits))
    for _, rate in limits:
        arguments += (rate.amount, rate.seconds)
    keys = len(limits) + len(read_keys)
    try:
        reply: list[Any] = execute(client, "EVALSHA", _SCRIPT_SHA, keys, *arguments)
    except NoScriptError:  # first use on this Redis (or it restarted): load, then run
        client.script_load(CONSUME_SCRIPT)
        reply = execute(client, "EVALSHA", _SCRIPT_SHA, keys, *arguments)
    allowed = reply[0] == 1
    values = reply[1 + 3 * len(limits) :]
    return Decision(
        allowed,
        tuple(
            evaluate(
                scope,
                rate,
                int(reply[1 + 3 * i]),
                int(reply[2 + 3 * i]),
                float(reply[3 + 3 * i]),
                allowed,
            )
            for i, (scope, rate) in enumerate(limits)
        ),
        dict(zip(read_keys, values, strict=True)) if read_keys else None,
    )


def _consume_in_memory(
    store: SharedStore, limits: Sequence[tuple[str, Rate]], identifier: str
) -> Decision:
    """The same counters in limits' ``MemoryStorage`` (one key per window, expiring after 2T)."""
    storage = store.memory.rate_limits
    now = time.time()
    keys: list[str] = []
    counts: list[tuple[int, int, float]] = []  # previous, current, elapsed
    with _memory_lock:  # test-all-then-hit-all must not interleave within this process
        for scope, rate in limits:
            window = math.floor(now / rate.seconds)
            key = rate.item.key_for(scope, identifier)
            keys.append(f"{key}/{window}")
            previous, current = storage.get(f"{key}/{window - 1}"), storage.get(keys[-1])
            counts.append((previous, current, now - window * rate.seconds))
        allowed = all(
            weighted_count(rate, *count) + 1 <= rate.amount
            for (_, rate), count in zip(limits, counts, strict=True)
        )
        if allowed:
            counts = [
                (previous, storage.incr(key, 2 * rate.seconds), elapsed)
                for (_, rate), key, (previous, _, elapsed) in zip(limits, keys, counts, strict=True)
            ]
    return Decision(
        allowed,
        tuple(
            evaluate(scope, rate, *count, allowed=allowed)
            for (scope, rate), count in zip(limits, counts, strict=True)
        ),
    )
