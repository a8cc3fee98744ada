"""Shared short-lived state: Redis, with an in-memory fallback behind a circuit breaker.

Every Redis user (rate limits, revocation list, WebAuthn challenges, browser sessions, key-set
version) goes through ``shared_store()``. When Redis is unreachable the breaker opens: calls go
to a per-process memory store at once (no request waits on a dead socket), a background thread
pings Redis, and when it answers again the breaker closes and Redis is used again.

What the fallback cannot promise (docs/resilience.md): state written while Redis is down is
per-process, so rate limits become per-process and a challenge issued by one instance is unknown
to another. Security decisions that must hold across instances (revocation) also live in the
database, which is the source of truth.

Recovery hooks (``on_recovery``) run when a breaker is about to close after an outage, before any
request of that process uses Redis again: an app whose Redis entries may have gone stale while
its writes could not reach Redis repairs them there (the tokens app renews its cache epoch).

Read-ahead (``read_ahead``): a request's first round trip can carry reads for a later step of
the same request. The rate limiter reads the keys a route registered
(``authcore.rate_limits.register_read_ahead``) inside its own script; the request's first
``mget`` is then answered from those values, without a round trip of its own, when they cover
every key it asks for. The values are as old as the limiter's round trip, a few hundred
microseconds, as if the request had read them first; any first ``mget`` (covered or not) uses
up the read-ahead, so a later read of the same keys goes to Redis.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import redis
import structlog
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from authcore.process import current_pid
from authcore.redis_connection import connection_options

if TYPE_CHECKING:
    from limits.storage import MemoryStorage

logger = structlog.get_logger(__name__)

# Seconds a Redis call may block before the breaker opens.
SOCKET_TIMEOUT = 0.25
# Seconds between background pings while the breaker is open.
PROBE_INTERVAL = 1.0
# Expired fallback entries are swept after this many writes (memory stays bounded by the TTLs).
SWEEP_EVERY = 1000

# What opens the breaker. A ResponseError is a bug or bad data, not an outage, except the two
# a healthy-looking server answers every write with while it cannot take writes: OOM (maxmemory
# reached under noeviction) and READONLY (a replica, e.g. just after a failover).
REDIS_ERRORS = (
    redis.ConnectionError,
    redis.TimeoutError,
    OSError,
    redis.exceptions.OutOfMemoryError,
    redis.exceptions.ReadOnlyError,
)

# The current request's read-ahead: full keys -> values, consumed by its first ``mget``.
_read_ahead: ContextVar[dict[str, bytes | None] | None] = ContextVar(
    "authcore_store_read_ahead", default=None
)


@contextmanager
def read_ahead(values: Mapping[str, bytes | None]) -> Iterator[None]:
    """Offer ``values`` (full keys, as read from Redis) to the next ``mget`` (module doc)."""
    token = _read_ahead.set(dict(values))
    try:
        yield
    finally:
        _read_ahead.reset(token)


RecoveryHook = Callable[["SharedStore", redis.Redis], None]
_recovery_hooks: dict[str, RecoveryHook] = {}


def on_recovery(name: str, hook: RecoveryHook) -> None:
    """Run ``hook(store, client)`` whenever a store's breaker is about to close after an outage.

    ``client`` is the raw Redis client (``store.redis`` is still None while hooks run: every
    other thread of the process keeps using the fallback until they are done). Hooks run in
    the order registered, in the probe thread or in ``ping()``'s caller. If a hook raises, the
    breaker stays open (logged as ``redis_recovery_hook_failed``) and the next probe tries the
    whole recovery again, so a hook must be idempotent. Registering ``name`` again replaces
    its hook. Not run when a process starts: only a store that saw Redis fail recovers.
    """
    _recovery_hooks[name] = hook


class MemoryStore:
    """A thread-safe dict with expiry: the per-process stand-in for Redis."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[bytes, float | None]] = {}
        self._lock = threading.Lock()
        self._writes = 0
        self._rate_limits: MemoryStorage | None = None

    def __len__(self) -> int:
        return len(self._data)

    @property
    def rate_limits(self) -> MemoryStorage:
        """The ``limits`` memory storage used by the rate limiter while Redis is down."""
        if self._rate_limits is None:
            from limits.storage import MemoryStorage

            with self._lock:
                if self._rate_limits is None:
                    self._rate_limits = MemoryStorage()
        return self._rate_limits

    def _wrote(self, now: float) -> None:
        """Called under the lock after each write: drop expired entries now and then."""
        self._writes += 1
        if self._writes % SWEEP_EVERY == 0:
            for key in [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]:
                del self._data[key]

    def _live(self, key: str, now: float) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= now:
            del self._data[key]
            return None
        return value

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._live(key, time.monotonic())

    def mget(self, keys: Sequence[str]) -> list[bytes | None]:
        now = time.monotonic()
        with self._lock:
            return [self._live(key, now) for key in keys]

    def set(self, key: str, value: bytes, ttl: float | None, *, only_new: bool = False) -> bool:
        now = time.monotonic()
        with self._lock:
            if only_new and self._live(key, now) is not None:
                return False
            self._data[key] = (value, now + ttl if ttl else None)
            self._wrote(now)
            return True

    def pop(self, key: str) -> bytes | None:
        with self._lock:
            value = self._live(key, time.monotonic())
            self._data.pop(key, None)
            return value

    def delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._data.pop(key, None)

    def incr(self, key: str, ttl: float) -> int:
        now = time.monotonic()
        with self._lock:
            current = self._live(key, now)
            count = int(current or 0) + 1
            expires = self._data[key][1] if current is not None else now + ttl
            self._data[key] = (str(count).encode(), expires)
            self._wrote(now)
            return count

    def ttl(self, key: str) -> float | None:
        now = time.monotonic()
        with self._lock:
            if self._live(key, now) is None:
                return None
            expires = self._data[key][1]
            return None if expires is None else max(0.0, expires - now)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
        if self._rate_limits is not None:
            self._rate_limits.reset()


def _encode(value: bytes | str | int) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()


class SharedStore:
    """Key/value operations on Redis, falling back to memory while Redis is down.

    Keys are namespaced with ``settings.REDIS_KEY_PREFIX``. Values are bytes. TTLs are seconds.

    The breaker: a Redis error (refused, reset, timed out after ``SOCKET_TIMEOUT``) opens it;
    from then on every call goes to memory at once, and one background thread pings Redis every
    ``PROBE_INTERVAL`` and closes it when Redis answers. redis-py's own retries are off (its
    default would back off for seconds): a refused connection is retried once at once (a pooled
    socket may simply be stale), a timeout never. So only the requests in flight when Redis
    hangs pay the timeout; a dead port costs nothing.

    Entries written to memory during an outage stay readable after Redis is back (reads fall
    through to memory for keys Redis does not hold) until they expire, so a challenge issued
    during the outage can still be completed in the process that issued it.
    """

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self.memory = MemoryStore()
        self._client: redis.Redis | None = None
        if url:
            self._client = redis.Redis.from_url(
                url,
                socket_timeout=SOCKET_TIMEOUT,
                socket_connect_timeout=SOCKET_TIMEOUT,
                retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
                health_check_interval=30,
                **connection_options(url),  # the timeout kept by the kernel: no poll per call
            )
        self._open = self._client is None  # breaker open = use memory
        self._local = threading.local()  # this thread's client (see ``redis``)
        self._probe_lock = threading.Lock()
        self._recovery_lock = threading.Lock()
        self._probing = False
        self._closed = threading.Event()

    # --- breaker ---------------------------------------------------------------------------

    @property
    def configured(self) -> bool:
        return self._client is not None

    @property
    def using_redis(self) -> bool:
        return not self._open

    @property
    def redis(self) -> redis.Redis | None:
        """This thread's Redis client while the breaker is closed, else None (use the fallback).

        Callers running their own pipelines or scripts on it must catch ``REDIS_ERRORS`` and
        call ``trip(error)``, then use the fallback.

        Each thread gets a client that keeps one connection of the shared pool for itself
        (redis-py's ``single_connection_client``). A pooled client checks a connection out and
        back in around every command, and the check-out polls the socket for stray data: about
        16 µs of CPU per command here, a quarter of a Redis GET's. A thread runs one request
        at a time, so its own connection is never shared; pipelines still take pooled
        connections. A client made before a fork (the pid changed) is replaced, not reused.
        """
        if self._open:
            return None
        local = self._local
        client: redis.Redis | None = getattr(local, "client", None)
        if client is None or local.pid != current_pid():
            assert self._client is not None
            try:  # connects at once: Redis may be down, which is the breaker's business
                client = redis.Redis(
                    connection_pool=self._client.connection_pool, single_connection_client=True
                )
            except REDIS_ERRORS as error:
                self.trip(error)
                return None
            local.client, local.pid = client, current_pid()
        return client

    def key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def trip(self, error: BaseException) -> None:
        """Open the breaker after a Redis failure and start probing in the background."""
        if not self._open:
            logger.warning("redis_unavailable", error=type(error).__name__, fallback="memory")
        self._open = True
        if isinstance(error, redis.exceptions.ReadOnlyError) and self._client is not None:
            # A failover that moved a DNS name leaves the old primary up as a replica: every
            # open connection still talks to it. Drop them all (the threads' own ones too), so
            # the probe and the next commands connect afresh, to wherever the name now points.
            self._client.connection_pool.disconnect(inuse_connections=True)
        with self._probe_lock:
            if self._probing or self._client is None or self._closed.is_set():
                return
            self._probing = True
        threading.Thread(target=self._probe, name="redis-probe", daemon=True).start()

    def _probe(self) -> None:
        assert self._client is not None
        try:
            while not self._closed.wait(PROBE_INTERVAL):
                try:
                    self._client.ping()
                except REDIS_ERRORS:
                    continue
                if self._recover():
                    return
        finally:
            with self._probe_lock:
                self._probing = False

    def _recover(self) -> bool:
        """Redis answered: run the recovery hooks, then close the breaker. False if a hook
        failed (the breaker stays open and the probe tries again)."""
        assert self._client is not None
        with self._recovery_lock:
            if not self._open:
                return True
            for name, hook in list(_recovery_hooks.items()):
                try:
                    hook(self, self._client)
                except Exception as error:  # any failure: Redis is not trusted yet
                    logger.warning(
                        "redis_recovery_hook_failed", hook=name, error=type(error).__name__
                    )
                    return False
            self._open = False
        logger.info("redis_recovered")
        return True

    def close(self) -> None:
        """Stop probing and drop connections (the store is being replaced)."""
        self._closed.set()
        if self._client is not None:
            self._client.close()

    def ping(self) -> bool:
        """Check Redis now (readiness probe); trips the breaker on failure, closes it on success
        (after the recovery hooks, see ``on_recovery``; False if one of them failed)."""
        if self._client is None:
            return False
        try:
            self._client.ping()
        except REDIS_ERRORS as error:
            self.trip(error)
            return False
        return self._recover()

    def _run(self, redis_call: Any, memory_call: Any) -> Any:
        client = self.redis
        if client is not None:
            try:
                return redis_call(client)
            except REDIS_ERRORS as error:
                self.trip(error)
        return memory_call(self.memory)

    def _forget_in_memory(self, *keys: str) -> None:
        """After an outage, a write to Redis supersedes what memory held for the same key."""
        if len(self.memory):
            self.memory.delete(*keys)

    # --- operations ------------------------------------------------------------------------

    def get(self, name: str) -> bytes | None:
        key = self.key(name)

        def on_redis(r: redis.Redis) -> bytes | None:
            value: bytes | None = r.get(key)  # type: ignore[assignment]
            if value is None and len(self.memory):
                return self.memory.get(key)
            return value

        return self._run(on_redis, lambda m: m.get(key))

    def mget(self, names: Sequence[str]) -> list[bytes | None]:
        """Several keys in one round trip, or none if the request's read-ahead has them all."""
        keys = [self.key(name) for name in names]
        ahead = _read_ahead.get()
        if ahead is not None:
            _read_ahead.set(None)  # used up by the first mget, covered or not
            if not all(key in ahead for key in keys):
                ahead = None

        def on_redis(r: redis.Redis) -> list[bytes | None]:
            values: list[bytes | None] = (
                [ahead[key] for key in keys] if ahead is not None else r.mget(keys)  # type: ignore[assignment]
            )
            if len(self.memory) and None in values:
                fallback = self.memory.mget(keys)
                values = [v if v is not None else f for v, f in zip(values, fallback, strict=True)]
            return values

        return self._run(on_redis, lambda m: m.mget(keys))

    def set(
        self,
        name: str,
        value: bytes | str | int,
        ttl: float | None = None,
        *,
        only_new: bool = False,
    ) -> bool:
        """Store ``value``; with ``only_new`` only if the key is absent (SET NX). True if set."""
        key, data = self.key(name), _encode(value)
        px = int(ttl * 1000) if ttl else None

        def on_redis(r: redis.Redis) -> bool:
            if only_new and len(self.memory) and self.memory.get(key) is not None:
                return False
            done = bool(r.set(key, data, px=px, nx=only_new))
            if done:
                self._forget_in_memory(key)
            return done

        return bool(self._run(on_redis, lambda m: m.set(key, data, ttl, only_new=only_new)))

    def pop(self, name: str) -> bytes | None:
        """Read and delete atomically (GETDEL): the first caller wins, later ones get None."""
        key = self.key(name)

        def on_redis(r: redis.Redis) -> bytes | None:
            value: bytes | None = r.getdel(key)  # type: ignore[assignment]
            if value is None and len(self.memory):
                return self.memory.pop(key)
            return value

        return self._run(on_redis, lambda m: m.pop(key))

    def delete(self, *names: str) -> None:
        keys = [self.key(name) for name in names]
        if keys:
            self._forget_in_memory(*keys)
            self._run(lambda r: r.delete(*keys), lambda m: m.delete(*keys))

    def incr(self, name: str, ttl: float) -> int:
        """Increment a counter; its expiry is set when it is created (one MULTI/EXEC)."""
        key = self.key(name)

        def on_redis(r: redis.Redis) -> int:
            pipe = r.pipeline()
            pipe.incr(key)
            pipe.expire(key, max(1, int(ttl)), nx=True)
            return int(pipe.execute()[0])

        return self._run(on_redis, lambda m: m.incr(key, ttl))

    def ttl(self, name: str) -> float | None:
        """Seconds left on a key, None if absent or without expiry."""
        key = self.key(name)

        def on_redis(r: redis.Redis) -> float | None:
            millis: int = r.pttl(key)  # type: ignore[assignment]
            if millis is None or millis < 0:
                return self.memory.ttl(key) if len(self.memory) else None
            return millis / 1000

        return self._run(on_redis, lambda m: m.ttl(key))

    def set_many(self, items: Iterable[tuple[str, bytes | str | int, float | None]]) -> None:
        """Several SETs in one pipelined round trip."""
        prepared = [(self.key(n), _encode(v), t) for n, v, t in items]

        def on_redis(r: redis.Redis) -> None:
            pipe = r.pipeline(transaction=False)
            for key, data, ttl in prepared:
                pipe.set(key, data, px=int(ttl * 1000) if ttl else None)
            pipe.execute()
            self._forget_in_memory(*(key for key, _, _ in prepared))

        def on_memory(m: MemoryStore) -> None:
            for key, data, ttl in prepared:
                m.set(key, data, ttl)

        self._run(on_redis, on_memory)


def execute(client: redis.Redis, *args: bytes | str | int) -> Any:
    """``client.execute_command(*args)`` for a client ``SharedStore.redis`` returned.

    The command goes through the client's own connection exactly as redis-py sends it: the
    connection's health check (``health_check_interval``), packing, the hiredis parser (a
    Redis error reply is raised as its ``ResponseError`` subclass, ``NoScriptError`` included),
    disconnect on any error, and the client's retry policy with a disconnect before the retry.
    What is left out is the client's per-command bookkeeping around that: its OpenTelemetry
    recorder (Authcore does not enable it), event dispatch and response callbacks. It is for
    commands whose raw reply is the answer (``EVALSHA``): ~10 us of CPU less per command here,
    a fifth of what the client spends, on the round trip every limited request makes. The lock
    a single-connection client takes is taken too. Any other client takes the client's path.
    """
    connection = client.connection
    if connection is None:  # not a single-connection client: the full path
        return client.execute_command(*args)

    def send() -> Any:
        connection.send_command(*args)
        return connection.read_response()

    with client.single_connection_lock:
        return connection.retry.call_with_retry(send, lambda _error: connection.disconnect())


_store: SharedStore | None = None
_store_lock = threading.Lock()


def shared_store() -> SharedStore:
    """The process-wide store for ``settings.REDIS_URL`` (memory only when it is unset)."""
    global _store
    store = _store
    if store is None or store.url != settings.REDIS_URL:
        with _store_lock:
            if _store is None or _store.url != settings.REDIS_URL:
                if _store is not None:
                    _store.close()
                _store = SharedStore(settings.REDIS_URL, settings.REDIS_KEY_PREFIX)
            store = _store
    return store


def warn_if_per_process(multiprocess: bool) -> bool:
    """Warn (once per process, from the first request: ``authcore.front_door``) when no
    ``REDIS_URL`` is set yet the WSGI server runs this app in several processes
    (``wsgi.multiprocess``, gunicorn with ``-w`` > 1): the memory store is then per process,
    so a WebAuthn challenge or a browser session made by one worker is unknown to the next,
    and every worker counts its own rate limits. True if it warned."""
    if not multiprocess or shared_store().configured:
        return False
    logger.warning(
        "store_per_process",
        detail=(
            "REDIS_URL is unset and this server runs several processes: challenges, browser"
            " sessions and rate limits are kept per process, so passkey ceremonies and"
            " sessions fail when a request lands on another worker. Set REDIS_URL, or run"
            " one worker process."
        ),
    )
    return True


def reset_shared_store() -> None:
    """Forget the process-wide store (tests that restart Redis or change REDIS_URL)."""
    global _store
    with _store_lock:
        if _store is not None:
            _store.close()
        _store = None
