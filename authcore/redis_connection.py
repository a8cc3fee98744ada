"""Redis connections whose socket timeout the kernel keeps, so a command costs two system calls.

CPython keeps a socket's timeout (``settimeout``, which redis-py sets to ``socket_timeout``)
by polling the socket before every send and every receive: a command and its reply cost
``poll``, ``send``, ``poll``, ``recv``, and each call gives up and takes back the GIL. Here the
socket stays in blocking mode and the same timeout is set on the socket itself
(``SO_SNDTIMEO`` and ``SO_RCVTIMEO``, socket(7)): ``send`` and ``recv`` alone, and a send or
receive that waits longer than the timeout still fails (the kernel's limit holds for each
send and receive, Python's for a whole ``sendall``). In an A/B under load (gunicorn 2x4, 32
connections) the rate limiter's round trip on every request cost ~19 us less worker CPU per
request and the stack row served ~4 % more (docs/benchmarks.md, eighth pass).

The kernel reports an expired timeout as ``EAGAIN``, which redis-py turns into a
``ConnectionError``; these connections raise the ``TimeoutError`` redis-py raises for its own
timeout instead, so the shared store's retry policy (a broken connection is retried once, a
timeout never: ``authcore.store.SharedStore``) behaves as before. The connection is dropped
either way, as redis-py drops it after its own timeout.

Used for ``redis://`` and ``unix://`` URLs on Linux (the ``timeval`` layout is Linux's);
``rediss://`` (TLS) and other systems keep redis-py's connections.
"""

from __future__ import annotations

import socket
import struct
import sys
from typing import Any

import redis
from redis.connection import AbstractConnection, Connection, UnixDomainSocketConnection


def _timeval(seconds: float) -> bytes:
    """``struct timeval`` (two C longs on Linux) for ``seconds``."""
    whole = int(seconds)
    return struct.pack("@ll", whole, round((seconds - whole) * 1_000_000))


def _timed_out(error: redis.ConnectionError) -> bool:
    """redis-py's error for a send or receive the kernel's timeout ended (``EAGAIN``)."""
    return isinstance(error.__cause__ or error.__context__, BlockingIOError)


class _KernelTimeout(AbstractConnection):
    """``socket_timeout`` set on a blocking socket (module doc); every other option as is."""

    def __init__(self, *, socket_timeout: float | None = None, **kwargs: Any) -> None:
        # The pool passes its options by keyword.
        if kwargs.get("socket_connect_timeout") is None:
            kwargs["socket_connect_timeout"] = socket_timeout  # what redis-py defaults it to
        super().__init__(socket_timeout=None, **kwargs)
        self.kernel_timeout = socket_timeout

    def _connect(self) -> socket.socket:
        sock: socket.socket = super()._connect()  # type: ignore[safe-super]
        # The class's socket_timeout is None: redis-py leaves the socket blocking.
        if self.kernel_timeout:
            value = _timeval(self.kernel_timeout)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)
        return sock

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        try:
            super().send_packed_command(command, check_health)
        except redis.ConnectionError as error:
            if _timed_out(error):
                raise redis.TimeoutError("Timeout writing to socket") from None
            raise

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().read_response(*args, **kwargs)
        except redis.ConnectionError as error:
            if _timed_out(error):
                raise redis.TimeoutError("Timeout reading from socket") from None
            raise


class KernelTimeoutConnection(_KernelTimeout, Connection):
    """A TCP connection (``redis://``) with its timeout kept by the kernel."""


class KernelTimeoutUnixConnection(_KernelTimeout, UnixDomainSocketConnection):
    """A Unix socket connection (``unix://``) with its timeout kept by the kernel."""


def connection_options(url: str) -> dict[str, Any]:
    """``connection_class`` for ``redis.Redis.from_url(url, ...)``: one of the above where they
    apply (module doc), else nothing (redis-py's choice for the URL)."""
    if not sys.platform.startswith("linux"):
        return {}
    scheme = url.partition("://")[0].lower()
    if scheme == "redis":
        return {"connection_class": KernelTimeoutConnection}
    if scheme == "unix":
        return {"connection_class": KernelTimeoutUnixConnection}
    return {}
